-- qwen-lsp for Neovim: `require('qwen_lsp').setup(opts)`.
--
-- opts (all optional):
--   settings  qwen-lsp settings, the same camelCase names as everywhere (see lsp/qwen_lsp.lua);
--             sent as init_options and answered to workspace/configuration ("qwen-lsp").
--   config    other vim.lsp.config fields to override (cmd, cmd_env, filetypes, root_markers, …).
--   keys      insert-mode keys for inline completion, or false for none:
--             { accept = '<Tab>', next = '<M-]>', prev = '<M-[>', dismiss = '<C-]>' };
--             set one to false to leave that key alone.
--   inline    false: plain completion items even on 0.12 (for a completion plugin's menu);
--             default true where Neovim has inline completion (0.12).
--   commands  false: do not create :QwenExplain, :QwenReview, :QwenStats.
--
-- Neovim 0.12: ghost text (vim.lsp.inline_completion). 0.10 and 0.11: the server offers plain
-- completion items instead (0.11: vim.lsp.completion, <C-x><C-o> on 0.10).
-- `require('qwen_lsp').statusline()` is a statusline component (see status.lua).
local M = {}

local status = require('qwen_lsp.status')
local commands = require('qwen_lsp.commands')

M.default_keys = { accept = '<Tab>', next = '<M-]>', prev = '<M-[>', dismiss = '<C-]>' }
M.statusline = status.statusline
M.status = status.get

local function map_keys(bufnr, keys)
  local ic = vim.lsp.inline_completion
  local function map(lhs, rhs, desc, expr)
    if lhs then
      vim.keymap.set('i', lhs, rhs, { buffer = bufnr, expr = expr, desc = 'qwen-lsp: ' .. desc })
    end
  end
  -- get() answers false when no suggestion is shown: the key then does what it always does.
  map(keys.accept, function()
    if not ic.get() then
      return keys.accept
    end
  end, 'accept the suggestion', true)
  map(keys.dismiss, function()
    if not ic.get({ on_accept = function() end }) then
      return keys.dismiss
    end
  end, 'dismiss the suggestion', true)
  map(keys.next, function()
    ic.select({ count = 1 })
  end, 'next suggestion')
  map(keys.prev, function()
    ic.select({ count = -1 })
  end, 'previous suggestion')
end

--- Hides inline completion from the server, which then offers plain completion items.
--- (Capabilities in a config are merged into Neovim's defaults, so they cannot remove one.)
local function without_inline(before_init)
  return function(params, config)
    if params.capabilities and params.capabilities.textDocument then
      params.capabilities.textDocument.inlineCompletion = nil
    end
    if before_init then
      before_init(params, config)
    end
  end
end

local function on_qwen_attach(callback)
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('qwen_lsp.attach', { clear = false }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == 'qwen_lsp' then
        callback(client, args.buf)
      end
    end,
  })
end

--- Plain completion items with vim.lsp.completion (0.11+). Neovim inserts a plain item's text
--- only up to its first space ("a + b" would become "a"): the menu word is the whole first
--- line, and the lines after it are added when the item is chosen.
local function plain_completion(client, bufnr)
  local full_text = {} -- first line -> whole suggestion, for the items of the current menu
  vim.lsp.completion.enable(true, client.id, bufnr, {
    autotrigger = true,
    convert = function(item)
      -- The buffer's other servers' items (this option is per buffer) keep Neovim's handling.
      if item.detail ~= 'qwen-lsp' then
        return {}
      end
      local text = (item.textEdit and item.textEdit.newText) or item.insertText or item.label
      local first = text:match('^[^\n]*')
      full_text[first] = text
      return { word = first, abbr = first, menu = '[qwen]', info = text ~= first and text or nil }
    end,
  })
  vim.api.nvim_create_autocmd('CompleteDone', {
    group = vim.api.nvim_create_augroup('qwen_lsp.plain.' .. bufnr, { clear = true }),
    buffer = bufnr,
    callback = function()
      local word = (vim.v.completed_item or {}).word
      local text = word and full_text[word]
      full_text = {}
      if not text or text == word then
        return
      end
      local row, col = unpack(vim.api.nvim_win_get_cursor(0))
      local rest = vim.split(text:sub(#word + 1), '\n', { plain = true })
      vim.api.nvim_buf_set_text(bufnr, row - 1, col, row - 1, col, rest)
      vim.api.nvim_win_set_cursor(0, { row + #rest - 1, #rest[#rest] + (#rest == 1 and col or 0) })
    end,
  })
end

--- Neovim 0.10 has no vim.lsp.config: start the client per buffer from the same config file.
local function start_on_filetype(config)
  local file = vim.api.nvim_get_runtime_file('lsp/qwen_lsp.lua', false)[1]
  local base = file and dofile(file) or {}
  config = vim.tbl_deep_extend('force', base, config)
  vim.api.nvim_create_autocmd('FileType', {
    group = vim.api.nvim_create_augroup('qwen_lsp.start', { clear = true }),
    pattern = config.filetypes,
    callback = function(args)
      local start = vim.tbl_extend('force', config, { name = 'qwen_lsp' })
      start.root_dir = vim.fs.root(args.buf, config.root_markers) or vim.fn.getcwd()
      vim.lsp.start(start, { bufnr = args.buf })
    end,
  })
end

--- Neovim only logs a server command it cannot run ("not executable" in its LSP log) and then
--- shows nothing at all: say it once, where the user looks.
local function warn_if_not_executable(config)
  local cmd = config.cmd
  if cmd == nil then
    local ok, resolved = pcall(function()
      return vim.lsp.config ~= nil and vim.lsp.config['qwen_lsp'] or nil
    end)
    cmd = ok and resolved and resolved.cmd or { 'qwen-lsp', '--stdio' }
  end
  if type(cmd) == 'table' and cmd[1] and vim.fn.executable(cmd[1]) == 0 then
    vim.notify_once(
      ('qwen-lsp: `%s` is not executable, so there will be no suggestions. Install the server'
        .. ' where editors see it (from a clone of qwen-lsp: pipx install .) or set'
        .. ' config.cmd to its path; :checkhealth qwen_lsp says more.'):format(cmd[1]),
      vim.log.levels.WARN
    )
  end
end

---@param opts? { settings?: table, config?: table, keys?: table|false, inline?: boolean, commands?: boolean }
function M.setup(opts)
  opts = opts or {}
  if vim.fn.has('nvim-0.10') == 0 then
    vim.notify('qwen-lsp needs Neovim 0.10 or newer', vim.log.levels.ERROR)
    return
  end
  local has_inline = vim.fn.has('nvim-0.12') == 1 and vim.lsp.inline_completion ~= nil
  local inline = has_inline and opts.inline ~= false

  local settings = opts.settings or {}
  local config = vim.tbl_deep_extend('force', opts.config or {}, {
    init_options = settings,
    settings = { ['qwen-lsp'] = settings },
    handlers = { [status.method] = status.handler },
  })
  if has_inline and not inline then
    config.before_init = without_inline(config.before_init)
  end

  vim.api.nvim_create_augroup('qwen_lsp.attach', { clear = true })
  vim.api.nvim_create_autocmd('LspDetach', {
    group = 'qwen_lsp.attach',
    callback = function(args)
      status.forget(args.data.client_id)
    end,
  })
  if opts.commands ~= false then
    commands.create()
  end

  M.config = config -- what :checkhealth qwen_lsp checks on 0.10 (0.11+ asks vim.lsp.config)
  if vim.lsp.config ~= nil and vim.fn.has('nvim-0.11') == 1 then
    vim.lsp.config('qwen_lsp', config)
    vim.lsp.enable('qwen_lsp')
  else
    start_on_filetype(config)
  end
  warn_if_not_executable(config)

  if not inline then
    -- The server sees no inline completion capability and offers ordinary completion items.
    if vim.lsp.completion ~= nil then
      on_qwen_attach(function(client, bufnr)
        plain_completion(client, bufnr)
      end)
    end
    if not has_inline then
      vim.notify_once(
        'qwen-lsp: inline completion needs Neovim 0.12; using plain completion',
        vim.log.levels.INFO
      )
    end
    return
  end
  vim.lsp.inline_completion.enable()

  if opts.keys == false then
    return
  end
  local keys = vim.tbl_extend('force', M.default_keys, opts.keys or {})
  on_qwen_attach(function(_, bufnr)
    map_keys(bufnr, keys)
  end)
end

return M
