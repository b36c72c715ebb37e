-- The user commands :QwenExplain, :QwenReview and :QwenStats.
--
-- Each runs one of the server's workspace/executeCommand commands on the current buffer:
--   :[range]QwenExplain  `qwen-lsp.explain` {uri, range}: the explanation (Markdown) in a float
--   :QwenReview          `qwen-lsp.reviewFile` {uri}: findings arrive as diagnostics
--   :QwenStats           `qwen-lsp.showStats`: the spend report in a float
-- The server reports progress ($/progress) and its own messages; errors come back here as one
-- notification.
local M = {}

local function client_for(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = 'qwen_lsp' })[1]
end

--- Whether the server advertises `command` (executeCommandProvider).
local function offers(client, command)
  local provider = client.server_capabilities and client.server_capabilities.executeCommandProvider
  return provider ~= nil and vim.tbl_contains(provider.commands or {}, command)
end

local function execute(bufnr, command, arguments, on_result)
  local client = client_for(bufnr)
  if not client then
    vim.notify('qwen-lsp is not attached to this buffer', vim.log.levels.WARN)
    return
  end
  if not offers(client, command) then
    vim.notify(('qwen-lsp: this server has no %s command; update it'):format(command), vim.log.levels.WARN)
    return
  end
  local params = { command = command, arguments = arguments }
  local function handler(err, result)
    if err then
      vim.notify(('qwen-lsp: %s failed: %s'):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    on_result(result)
  end
  -- 0.11+ has the method form; 0.10 the function form.
  if vim.fn.has('nvim-0.11') == 1 then
    client:request('workspace/executeCommand', params, handler, bufnr)
  else
    client.request('workspace/executeCommand', params, handler, bufnr)
  end
end

--- Markdown in a float by the cursor; running the command again while it shows focuses it.
function M.show_markdown(text, focus_id)
  local lines = vim.split(text, '\n', { trimempty = false })
  return vim.lsp.util.open_floating_preview(lines, 'markdown', {
    border = 'rounded',
    focus_id = focus_id,
    max_width = math.max(40, math.floor(vim.o.columns * 0.6)),
    max_height = math.max(10, math.floor(vim.o.lines * 0.6)),
  })
end

--- The LSP range of lines `line1`..`line2` (1-based, inclusive) of `bufnr`.
function M.line_range(bufnr, line1, line2)
  local last = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ''
  -- Columns are UTF-16 code units, the encoding qwen-lsp negotiates with Neovim by default.
  local width = vim.str_utfindex(last, 'utf-16')
  return { start = { line = line1 - 1, character = 0 }, ['end'] = { line = line2 - 1, character = width } }
end

function M.explain(opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local line1, line2 = opts.line1, opts.line2
  if opts.range == 0 then
    line1 = vim.api.nvim_win_get_cursor(0)[1]
    line2 = line1
  end
  local arguments = { { uri = vim.uri_from_bufnr(bufnr), range = M.line_range(bufnr, line1, line2) } }
  execute(bufnr, 'qwen-lsp.explain', arguments, function(result)
    local text = type(result) == 'string' and result or (type(result) == 'table' and result.markdown)
    if type(text) ~= 'string' or text == '' then
      vim.notify('qwen-lsp: no explanation came back', vim.log.levels.WARN)
      return
    end
    M.show_markdown(text, 'qwen_lsp_explain')
  end)
end

function M.review()
  local bufnr = vim.api.nvim_get_current_buf()
  execute(bufnr, 'qwen-lsp.reviewFile', { { uri = vim.uri_from_bufnr(bufnr) } }, function()
    local found = #vim.diagnostic.get(bufnr)
    vim.notify(('qwen-lsp: review done; %d diagnostic(s) in this buffer'):format(found), vim.log.levels.INFO)
  end)
end

function M.stats()
  local bufnr = vim.api.nvim_get_current_buf()
  execute(bufnr, 'qwen-lsp.showStats', {}, function(result)
    local text = type(result) == 'table' and result.text or result
    if type(text) ~= 'string' then
      text = vim.inspect(result)
    end
    M.show_markdown('```text\n' .. text:gsub('\n+$', '') .. '\n```', 'qwen_lsp_stats')
  end)
end

function M.create()
  vim.api.nvim_create_user_command('QwenExplain', M.explain, {
    range = true,
    desc = 'qwen-lsp: explain the selected lines (or the cursor line)',
  })
  vim.api.nvim_create_user_command('QwenReview', M.review, { desc = 'qwen-lsp: review this file' })
  vim.api.nvim_create_user_command('QwenStats', M.stats, { desc = 'qwen-lsp: spend and savings' })
end

return M
