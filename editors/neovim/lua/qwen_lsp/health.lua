-- `:checkhealth qwen_lsp`: what this Neovim offers, whether the server command runs, and what
-- `qwen-lsp doctor` says about the settings, the key and the endpoint (run with the settings
-- and environment given to setup(), so it checks what the editor will use).
local M = {}

local DEFAULT_CMD = { 'qwen-lsp', '--stdio' }
local INSTALL = {
  'Install the server so that editors see it: from a clone of qwen-lsp, `pipx install .`'
    .. ' (puts `qwen-lsp` in ~/.local/bin), or the wheel CI builds: `pipx install'
    .. ' artifacts/qwen_lsp-*.whl`.',
  'Or point the plugin at a virtual environment\'s server:'
    .. " setup({ config = { cmd = { '/path/to/.venv/bin/qwen-lsp', '--stdio' } } }).",
}

-- The setup() settings doctor also takes as flags (the rest come from the same config files).
local FLAGS = {
  { 'provider', '--provider' },
  { 'model', '--model' },
  { 'chatModel', '--chat-model' },
  { 'baseUrl', '--base-url' },
  { 'region', '--region' },
  { 'promptMode', '--prompt-mode' },
}

--- The config the plugin starts the server with: what setup() gave vim.lsp.config (0.11+),
--- else what it keeps for 0.10.
local function config()
  local ok, resolved = pcall(function()
    return vim.lsp.config ~= nil and vim.lsp.config['qwen_lsp'] or nil
  end)
  local found = ok and resolved or require('qwen_lsp').config or {}
  return found
end

--- The server's command without `--stdio`: what `--version` and `doctor` are appended to.
local function base_command(cmd)
  local base = {}
  for _, arg in ipairs(cmd) do
    if arg ~= '--stdio' then
      table.insert(base, arg)
    end
  end
  return base
end

local function run(command, env, timeout_ms)
  local ok, job = pcall(vim.system, command, { env = env, text = true, cwd = vim.fn.getcwd() })
  if not ok then
    return { code = -1, stdout = '', stderr = tostring(job) }
  end
  local done = job:wait(timeout_ms)
  if done.signal ~= 0 and done.code == 0 then
    done.code = -1
  end
  return done
end

local function check_neovim()
  vim.health.start('qwen-lsp: Neovim')
  local version = tostring(vim.version())
  if vim.fn.has('nvim-0.12') == 1 and vim.lsp.inline_completion ~= nil then
    vim.health.ok(('Neovim %s has inline completion: suggestions show as ghost text'):format(version))
  elseif vim.fn.has('nvim-0.10') == 1 then
    vim.health.warn(
      ('Neovim %s has no inline completion: suggestions come as completion items'):format(version),
      { 'Neovim 0.12 shows them as ghost text (vim.lsp.inline_completion).' }
    )
  else
    vim.health.error(('Neovim %s is too old: qwen-lsp needs 0.10 or newer'):format(version))
  end
end

--- Reports each `[ok]` / `[!!]` / `[--]` line of doctor's output at its level.
local function report_doctor(output)
  local next_steps, in_next = {}, false
  for _, line in ipairs(vim.split(output, '\n', { trimempty = true })) do
    local status, text = line:match('^%s*%[(..)%]%s+(.*)$')
    if status == 'ok' then
      vim.health.ok(text)
    elseif status == '!!' then
      vim.health.error(text)
    elseif status == '--' then
      vim.health.info(text)
    elseif line:match('^Next steps') then
      in_next = true
    elseif in_next then
      table.insert(next_steps, (line:gsub('^%s*%-%s*', '')))
    end
  end
  return next_steps
end

function M.check()
  check_neovim()

  vim.health.start('qwen-lsp: server')
  local cfg = config()
  local cmd = cfg.cmd or DEFAULT_CMD
  if type(cmd) ~= 'table' then
    vim.health.info('cmd is a function (a server reached over RPC): not checked')
    return
  end
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    vim.health.error(('`%s` is not executable (not found on PATH)'):format(cmd[1]), INSTALL)
    return
  end
  vim.health.ok(('`%s` found: %s'):format(cmd[1], exe))
  local base = base_command(cmd)
  local env = cfg.cmd_env
  local version = run(vim.list_extend(vim.deepcopy(base), { '--version' }), env, 15000)
  if version.code ~= 0 then
    vim.health.error(
      ('`%s --version` failed (exit %s): %s'):format(
        table.concat(base, ' '),
        version.code,
        vim.trim(version.stderr or '')
      ),
      INSTALL
    )
    return
  end
  vim.health.ok(vim.trim(version.stdout))

  vim.health.start('qwen-lsp: doctor (settings, key, endpoint)')
  local doctor = vim.list_extend(vim.deepcopy(base), { 'doctor', vim.fn.getcwd() })
  local settings = cfg.init_options or {}
  for _, flag in ipairs(FLAGS) do
    if type(settings[flag[1]]) == 'string' and settings[flag[1]] ~= '' then
      vim.list_extend(doctor, { flag[2], settings[flag[1]] })
    end
  end
  local done = run(doctor, env, 90000)
  local next_steps = report_doctor(done.stdout or '')
  if done.code == 0 then
    vim.health.ok('doctor: all good')
  elseif done.code == 2 then
    vim.health.error('doctor found problems', next_steps)
  else
    vim.health.error(
      ('doctor did not finish (exit %s): %s'):format(done.code, vim.trim(done.stderr or ''))
    )
  end
end

return M
