-- qwen-lsp for Neovim: `require('qwen_lsp').setup(opts)`.
--
-- opts (all optional):
--   settings  qwen-lsp settings, the same camelCase names as everywhere (see lsp/qwen_lsp.lua);
--             sent as init_options and answered to workspace/configuration ("qwen-lsp").
--   config    other vim.lsp.config fields to override (cmd, cmd_env, filetypes, root_markers, …).
--   keys      insert-mode keys, or false for none:
--             { accept = '<Tab>', next = '<M-]>', prev = '<M-[>', dismiss = '<C-]>' };
--             set one to false to leave that key alone.
local M = {}

M.default_keys = { accept = '<Tab>', next = '<M-]>', prev = '<M-[>', dismiss = '<C-]>' }

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

---@param opts? { settings?: table, config?: vim.lsp.Config, keys?: table|false }
function M.setup(opts)
  opts = opts or {}
  if vim.fn.has('nvim-0.11') == 0 then
    vim.notify('qwen-lsp needs Neovim 0.11 or newer (vim.lsp.config)', vim.log.levels.ERROR)
    return
  end

  local settings = opts.settings or {}
  vim.lsp.config(
    'qwen_lsp',
    vim.tbl_deep_extend('force', opts.config or {}, {
      init_options = settings,
      settings = { ['qwen-lsp'] = settings },
    })
  )
  vim.lsp.enable('qwen_lsp')

  if vim.fn.has('nvim-0.12') == 0 or not vim.lsp.inline_completion then
    -- The server then offers ordinary completion items (omnifunc, <C-x><C-o>).
    vim.notify_once(
      'qwen-lsp: inline completion needs Neovim 0.12; using plain completion',
      vim.log.levels.INFO
    )
    return
  end
  vim.lsp.inline_completion.enable()

  if opts.keys == false then
    return
  end
  local keys = vim.tbl_extend('force', M.default_keys, opts.keys or {})
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('qwen_lsp.keys', { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == 'qwen_lsp' then
        map_keys(args.buf, keys)
      end
    end,
  })
end

return M
