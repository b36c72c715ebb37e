"""Real editor: headless Neovim 0.12 tells the user what is wrong.

- `:checkhealth qwen_lsp` reports this Neovim's inline completion, the server command (found,
  its version) and `qwen-lsp doctor`'s checks with the settings given to setup();
- a problem doctor finds (a chat model the endpoint lacks) is an ERROR there, with the next step;
- a server command that is not executable gets one warning at setup (Neovim itself only logs
  it) and an ERROR in the health report that says how to install the server.

By hand: `python -m pytest tests/clients/test_neovim_health.py -q`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qwen_lsp import __version__
from tests.clients.test_neovim import LUA_HARNESS, Outcome, make_session, require_nvim, run_check
from tests.fakes.llm_server import FakeLLM

# Like test_neovim's init.lua, with every vim.notify recorded (from before setup() runs).
INIT_LUA = r"""
local here = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2))
local params = vim.json.decode(table.concat(vim.fn.readfile(here .. '/params.json'), '\n'))
vim.opt.runtimepath:prepend(params.plugin_dir)
vim.opt.swapfile = false
vim.lsp.log.set_level(params.lsp_log_level)

_G.qwen_notified = {}
local notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(_G.qwen_notified, { msg = msg, level = level })
  return notify(msg, level, opts)
end

require('qwen_lsp').setup({
  settings = params.settings,
  config = { cmd = params.cmd, cmd_env = params.cmd_env, detached = false },
})
"""

CHECK_HEALTH = (
    LUA_HARNESS
    + r"""
result.seen = {}
vim.defer_fn(function()
  finish(('watchdog: the session took longer than %d ms'):format(params.watchdog_ms))
end, params.watchdog_ms)

local health = step(':checkhealth qwen_lsp', function()
  vim.cmd('edit ' .. vim.fn.fnameescape(params.second_file))  -- another buffer: no new warning
  vim.cmd('checkhealth qwen_lsp')
  wait('the health report', function()
    return vim.bo.filetype == 'checkhealth'
      and table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n'):find('qwen%-lsp: server')
  end)
  result.seen.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  result.seen.notified = _G.qwen_notified
  vim.cmd('tabclose')
  finish(nil)
end)

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    vim.schedule(health)
  end,
})
"""
)


def _run(tmp_path: Path, fake: FakeLLM, *, cmd: list[str] | None = None) -> Outcome:
    session = make_session(tmp_path, require_nvim(), fake.openai_base_url)
    second = session.project / "other.py"
    second.write_text("x = 1\n", "utf-8")
    session.params["second_file"] = str(second)
    session.params["watchdog_ms"] = 100_000
    if cmd is not None:
        session.params["cmd"] = cmd
    (session.init_lua.parent / "params.json").write_text(json.dumps(session.params), "utf-8")
    session.init_lua.write_text(INIT_LUA, "utf-8")
    session.check_lua.write_text(CHECK_HEALTH, "utf-8")
    return run_check(session, fake)


def _lines(outcome: Outcome, *words: str) -> list[str]:
    health = outcome.result.get("seen", {}).get("health", "")
    return [line for line in health.splitlines() if all(w in line for w in words)]


def _warnings(outcome: Outcome) -> list[dict[str, Any]]:
    notified = outcome.result.get("seen", {}).get("notified", [])
    return [n for n in notified if "qwen-lsp" in n["msg"] and n["level"] >= 3]


@pytest.mark.editor
def test_checkhealth_reports_neovim_the_server_and_doctor(fake_llm: FakeLLM, tmp_path: Path):
    fake_llm.reply("a + b")
    outcome = _run(tmp_path, fake_llm)
    assert outcome.result.get("ok") is True, outcome.explain()
    health = outcome.result["seen"]["health"]

    assert _lines(outcome, "OK", "inline completion", "ghost text"), health
    assert _lines(outcome, "OK", "found"), health
    assert _lines(outcome, "OK", f"qwen-lsp {__version__}"), health  # its version
    # doctor ran with setup()'s settings: the fake endpoint, FIM, both models asked
    assert _lines(outcome, "OK", fake_llm.openai_base_url), health
    assert _lines(outcome, "OK", "mode fim"), health
    assert _lines(outcome, "OK", "chat model"), health
    assert _lines(outcome, "OK", "doctor: all good"), health
    assert "ERROR" not in health, health
    assert _warnings(outcome) == [], outcome.explain()


@pytest.mark.editor
def test_a_problem_doctor_finds_is_an_error_with_the_next_step(fake_llm: FakeLLM, tmp_path: Path):
    fake_llm.reply("a + b")
    fake_llm.served_models = {"qwen2.5-coder:1.5b-base"}  # the chat model is not there
    outcome = _run(tmp_path, fake_llm)
    assert outcome.result.get("ok") is True, outcome.explain()
    health = outcome.result["seen"]["health"]

    assert _lines(outcome, "ERROR", "chat model", "404"), health
    assert _lines(outcome, "ERROR", "doctor found problems"), health
    assert "serves no model named 'qwen2.5-coder:7b-instruct'" in health, health


@pytest.mark.editor
def test_a_missing_server_is_said_once_and_checkhealth_says_how_to_install(
    fake_llm: FakeLLM, tmp_path: Path
):
    outcome = _run(tmp_path, fake_llm, cmd=["qwen-lsp-not-installed", "--stdio"])
    assert outcome.result.get("ok") is True, outcome.explain()
    health = outcome.result["seen"]["health"]

    [warning] = _warnings(outcome)  # once, although two files were opened
    assert "`qwen-lsp-not-installed` is not executable" in warning["msg"]
    assert ":checkhealth qwen_lsp" in warning["msg"]
    assert _lines(outcome, "ERROR", "qwen-lsp-not-installed", "not executable"), health
    assert "pipx install ." in health, health
    assert fake_llm.requests == []
