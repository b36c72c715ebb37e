"""Lifecycle and settings: initialize, initialized, didChangeConfiguration, shutdown.

Editor settings arrive as initializationOptions and then through workspace/configuration
(section `qwen-lsp`), which is pulled again whenever the client says settings changed.
The runtime is made at initialize from the first settings; then the features that subscribed
to `on_initialize` start (completion registers for the client's capabilities), and once the
settings are pulled after `initialized`, those that subscribed to `on_initialized` (the symbol
index).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from qwen_lsp import errors
from qwen_lsp.config import load_settings, log_file
from qwen_lsp.engine import Runtime, status_changed
from qwen_lsp.log import set_level, use_log_file
from qwen_lsp.lsp.server import QwenLanguageServer

log = logging.getLogger(__name__)
SECTION = "qwen-lsp"


def _roots(params: types.InitializeParams) -> list[Path]:
    uris = [f.uri for f in params.workspace_folders or []] or [params.root_uri or ""]
    paths = [to_fs_path(uri) for uri in uris if uri]
    if not paths and params.root_path:
        paths = [params.root_path]
    return [Path(p) for p in paths if p]


def reload(ls: QwenLanguageServer) -> None:
    """Resolve settings from every source again and apply them live."""
    loaded = load_settings(
        ls.roots[0] if ls.roots else None,
        roots=ls.roots,  # a project file above the workspace folders is never read
        editor=ls.init_options,
        workspace_config=ls.workspace_config,
        cli=ls.cli_overrides,
        workspace_trusted=ls.workspace_trusted,
    )
    set_level(loaded.settings.log_level)
    # The default log folder is qwen-lsp's own, so an older, looser one is tightened.
    own_folder = not loaded.settings.log_file
    if (problem := use_log_file(log_file(loaded.settings), own_folder=own_folder)) is not None:
        loaded = dataclasses.replace(loaded, problems=(*loaded.problems, problem))
    if ls.runtime is None:
        settings = loaded.settings
        log.info(
            "qwen-lsp started: provider %s, model %s, endpoint %s, key %s",
            settings.provider,
            settings.completion_model,
            loaded.base_url,
            f"from {loaded.key_source}" if loaded.key_source else "not set",
        )
        ls.runtime = Runtime(loaded, show=ls.show)
    else:
        ls.runtime.update(loaded)
        # Completions may have been turned on or off: the editors' status bars must hear it.
        status_changed(ls.runtime)
    for problem in loaded.problems:
        ls.runtime.tell_once(f"setting:{problem}", f"qwen-lsp: {problem}")


async def pull_workspace_configuration(ls: QwenLanguageServer) -> None:
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
        )
    except Exception as exc:  # a client that fails this request still gets completions
        log.warning("workspace/configuration failed: %s", exc)
        return
    ls.workspace_config = result[0] if result else None
    reload(ls)


def register(server: QwenLanguageServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: QwenLanguageServer, params: types.InitializeParams) -> None:
        options: Any = params.initialization_options
        ls.init_options = options
        ls.workspace_trusted = bool(isinstance(options, dict) and options.get("workspaceTrusted"))
        ls.roots = _roots(params)
        ls.main_loop = asyncio.get_running_loop()
        ls.locale = params.locale
        encoding = ls.workspace.position_encoding or "utf-16"
        ls.documents.encoding = getattr(encoding, "value", encoding)
        reload(ls)
        ls.run_on_initialize(params)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: QwenLanguageServer, params: types.InitializedParams) -> None:
        try:
            await pull_workspace_configuration(ls)
        finally:
            ls.settings_ready.set()
        await ls.run_on_initialized()
        runtime = ls.runtime
        assert runtime is not None
        try:
            runtime.provider()  # tells the user now, once, when the key is missing
        except errors.ConfigError as exc:
            runtime.fail(exc)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: QwenLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        workspace = ls.client_capabilities.workspace
        if workspace is not None and workspace.configuration:
            await pull_workspace_configuration(ls)
            return
        settings = params.settings
        if isinstance(settings, dict):
            ls.workspace_config = settings.get(SECTION, settings)
        reload(ls)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: QwenLanguageServer, params: None) -> None:
        if ls.runtime is not None:
            await ls.runtime.aclose()
