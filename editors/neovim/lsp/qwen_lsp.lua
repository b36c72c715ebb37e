-- qwen-lsp: AI inline completions from Qwen-Coder, GPT or any OpenAI-compatible server.
--
-- A config for `vim.lsp.config` (Neovim 0.11+). With editors/neovim on 'runtimepath',
-- `vim.lsp.enable('qwen_lsp')` picks it up; `require('qwen_lsp').setup()` does that for you.
-- Settings use the same camelCase names as every other qwen-lsp client:
--   provider ("dashscope" | "openai" | "openai-compatible"), model, chatModel, baseUrl, region,
--   promptMode ("auto" | "fim" | "partial" | "chat"),
--   completion = { enabled, maxTokens, temperature, timeoutMs, disabledLanguages },
--   context = { maxTokens }, cache = { enabled, dir, maxSizeMb },
--   spend = { … }, actions = { … }, review = { onSave, … }, privacy = { localOnly, sendIgnoredFiles },
--   exclude, maxFileSize, logLevel (the main README's settings table lists every key).
-- API keys come from the environment (DASHSCOPE_API_KEY, OPENAI_API_KEY), never from here.

---@type vim.lsp.Config
return {
  cmd = { 'qwen-lsp', '--stdio' },
  filetypes = {
    'python',
    'javascript',
    'javascriptreact',
    'typescript',
    'typescriptreact',
    'go',
    'rust',
    'java',
    'c',
    'cpp',
  },
  root_markers = { '.qwen-lsp.toml', 'pyproject.toml', 'package.json', 'go.mod', 'Cargo.toml', '.git' },
  -- Read once when the server starts.
  init_options = {},
  -- Answered to the server's workspace/configuration requests for section "qwen-lsp".
  settings = { ['qwen-lsp'] = {} },
}
