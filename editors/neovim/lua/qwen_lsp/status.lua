-- qwen-lsp's state for a statusline: what the server's `qwen-lsp/status` notification says.
--
-- The server sends {enabled, busy, lastError, today = {requests, cost, saved, currency, ...},
-- cacheHitRate} whenever it changes. `handler` keeps the last one per client, redraws the
-- statuslines and fires `User QwenLspStatus`; `statusline()` turns it into a short string:
--   "Qwen $0.02 saved $0.01"  completions on, with today's spend and what the cache saved
--   "Qwen …"                  asking the model
--   "Qwen off"                completions off (setting, or a budget reached)
--   "Qwen ! no API key …"     the last error (shortened; `get().lastError` has all of it)
--   ""                        no qwen-lsp client in this buffer
local M = {}

M.method = 'qwen-lsp/status'

---@type table<integer, table> client id -> last status
local by_client = {}

local symbols = { USD = '$', CNY = '¥', EUR = '€' }

--- `$0.02`; amounts under a cent keep enough digits not to read as zero.
---@param amount number
---@param currency string
---@return string
function M.money(amount, currency)
  local abs = math.abs(amount)
  local digits = (abs == 0 or abs >= 0.01) and 2 or (abs >= 0.0001 and 4 or 6)
  local value = ('%.' .. digits .. 'f'):format(amount)
  local symbol = symbols[currency]
  return symbol and (symbol .. value) or (value .. ' ' .. currency)
end

local function number(value)
  return type(value) == 'number' and value or 0
end

--- The notification, checked: a server may send more or fewer fields.
---@param raw any
---@return table
function M.parse(raw)
  raw = type(raw) == 'table' and raw or {}
  local today = type(raw.today) == 'table' and raw.today or {}
  local last_error = raw.lastError
  return {
    enabled = raw.enabled ~= false,
    busy = raw.busy == true,
    lastError = (type(last_error) == 'string' and last_error ~= '') and last_error or nil,
    today = {
      requests = number(today.requests),
      cost = number(today.cost),
      saved = number(today.saved),
      currency = (type(today.currency) == 'string' and today.currency ~= '') and today.currency
        or 'USD',
    },
    cacheHitRate = type(raw.cacheHitRate) == 'number' and raw.cacheHitRate or nil,
  }
end

--- Handler for the `qwen-lsp/status` notification (`handlers` of the client config).
function M.handler(_, result, ctx)
  by_client[ctx.client_id] = M.parse(result)
  vim.cmd.redrawstatus({ bang = true })
  vim.api.nvim_exec_autocmds('User', { pattern = 'QwenLspStatus', modeline = false })
end

--- Forget a client's status when it stops.
function M.forget(client_id)
  by_client[client_id] = nil
end

--- The last status of the qwen-lsp client of `bufnr` (default: current), or nil.
---@param bufnr? integer
---@return table?
function M.get(bufnr)
  for _, client in ipairs(vim.lsp.get_clients({ bufnr = bufnr or 0, name = 'qwen_lsp' })) do
    if by_client[client.id] then
      return by_client[client.id]
    end
  end
  return nil
end

--- A short string for 'statusline' or a statusline plugin; '' when qwen-lsp is not attached.
---@param bufnr? integer
---@return string
function M.statusline(bufnr)
  bufnr = bufnr or 0
  if #vim.lsp.get_clients({ bufnr = bufnr, name = 'qwen_lsp' }) == 0 then
    return ''
  end
  local s = M.get(bufnr)
  if not s then
    return 'Qwen'
  end
  if s.lastError then
    local text = s.lastError:gsub('^qwen%-lsp: ', '')
    if #text > 40 then
      text = text:sub(1, 39) .. '…'
    end
    return 'Qwen ! ' .. text
  end
  if not s.enabled then
    return 'Qwen off'
  end
  if s.busy then
    return 'Qwen …'
  end
  local text = 'Qwen ' .. M.money(s.today.cost, s.today.currency)
  if s.today.saved > 0 then
    text = text .. ' saved ' .. M.money(s.today.saved, s.today.currency)
  end
  return text
end

return M
