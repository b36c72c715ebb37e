//! Zed extension for qwen-lsp: starts the `qwen-lsp` language server and hands it the settings.
//!
//! Zed runs language servers only through extensions; this one finds the server (the
//! `lsp.qwen-lsp.binary` setting, else `qwen-lsp` on the worktree's PATH), passes the user's
//! shell environment through (so `DASHSCOPE_API_KEY` / `OPENAI_API_KEY` reach it), and answers
//! `initializationOptions` and `workspace/configuration` from `lsp.qwen-lsp` in settings.json.

use zed_extension_api::{self as zed, serde_json, settings::LspSettings, LanguageServerId, Result};

const SERVER: &str = "qwen-lsp";

struct QwenLsp;

impl zed::Extension for QwenLsp {
    fn new() -> Self {
        QwenLsp
    }

    fn language_server_command(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        let binary = LspSettings::for_worktree(SERVER, worktree)
            .ok()
            .and_then(|settings| settings.binary);
        let configured = binary.as_ref().and_then(|b| b.path.clone());
        let command = match configured.or_else(|| worktree.which(SERVER)) {
            Some(path) => path,
            None => {
                return Err(
                    "qwen-lsp was not found on PATH: install it from a clone of the \
                            qwen-lsp repository with `pipx install .` (or the wheel its CI \
                            builds: `pipx install artifacts/qwen_lsp-*.whl`), or set \
                            lsp.qwen-lsp.binary.path in settings.json"
                        .to_string(),
                )
            }
        };
        let args = binary
            .as_ref()
            .and_then(|b| b.arguments.clone())
            .unwrap_or_else(|| vec!["--stdio".to_string()]);
        let mut env = worktree.shell_env();
        if let Some(extra) = binary.and_then(|b| b.env) {
            env.extend(extra);
        }
        Ok(zed::Command { command, args, env })
    }

    fn language_server_initialization_options(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<serde_json::Value>> {
        Ok(LspSettings::for_worktree(SERVER, worktree)
            .ok()
            .and_then(|settings| settings.initialization_options))
    }

    fn language_server_workspace_configuration(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<serde_json::Value>> {
        // The server asks for the section "qwen-lsp"; it accepts the settings bare or under it.
        let settings = LspSettings::for_worktree(SERVER, worktree)
            .ok()
            .and_then(|settings| settings.settings)
            .unwrap_or_else(|| serde_json::json!({}));
        Ok(Some(serde_json::json!({ "qwen-lsp": settings })))
    }
}

zed::register_extension!(QwenLsp);
