"""Real editor: headless Neovim 0.12 with editors/neovim: statusline, user commands, review
diagnostics, and the plain-completion fallback.

Each test reuses the session of `test_neovim` (the plugin loaded from this repository as a user
would, the real server, the fake LLM) with its own init options and check script:

- the statusline component shows the server's `qwen-lsp/status` (today's spend) and
  `User QwenLspStatus` fires; `:1,2QwenExplain` shows the model's Markdown in a float;
  `:QwenStats` shows the spend report;
- with `review.onSave`, `:write` ends with the review's findings as diagnostics;
- with `inline = false` (what 0.10/0.11 get), the server offers plain completion items, which
  `vim.lsp.completion` lists and `<C-y>` inserts.

By hand: `python -m pytest tests/clients/test_neovim_commands.py -q`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.clients.test_neovim import (
    LUA_HARNESS,
    Outcome,
    make_session,
    require_nvim,
    run_check,
)
from tests.fakes.llm_server import FakeLLM

# Like test_neovim's init.lua, plus `params.setup` merged into the setup() options.
INIT_LUA = r"""
local here = vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2))
local params = vim.json.decode(table.concat(vim.fn.readfile(here .. '/params.json'), '\n'))
vim.opt.runtimepath:prepend(params.plugin_dir)
vim.opt.swapfile = false
vim.lsp.log.set_level(params.lsp_log_level)

require('qwen_lsp').setup(vim.tbl_extend('force', {
  settings = params.settings,
  config = { cmd = params.cmd, cmd_env = params.cmd_env, detached = false },
}, params.setup or {}))
"""

# Steps run from the event loop, every wait is bounded, and a watchdog ends the session.
PRELUDE = (
    LUA_HARNESS
    + r"""
result.seen = {}

-- The text of the floating windows open now.
local function floats()
  local texts = {}
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      local buf = vim.api.nvim_win_get_buf(win)
      table.insert(texts, table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'))
    end
  end
  return texts
end

local attached = false
vim.api.nvim_create_autocmd('LspAttach', {
  callback = function(args)
    local c = vim.lsp.get_client_by_id(args.data.client_id)
    if c and c.name == 'qwen_lsp' then
      vim.schedule(function()
        attached = true
      end)
    end
  end,
})

vim.defer_fn(function()
  finish(('watchdog: the session took longer than %d ms'):format(params.watchdog_ms))
end, params.watchdog_ms)

local function start(first)
  vim.api.nvim_create_autocmd('VimEnter', {
    once = true,
    callback = function()
      vim.schedule(step('attach', function()
        wait('qwen_lsp to attach', function()
          return attached
        end)
        vim.schedule(first)
      end))
    end,
  })
end
"""
)

STATUS_AND_COMMANDS = r"""
local status_events = 0
vim.api.nvim_create_autocmd('User', {
  pattern = 'QwenLspStatus',
  callback = function()
    status_events = status_events + 1
  end,
})

local stats = step(':QwenStats', function()
  vim.cmd('QwenStats')
  wait('the spend report in a float', function()
    for _, text in ipairs(floats()) do
      if text:find('free answers', 1, true) then
        result.seen.stats = text
        return true
      end
    end
    return false
  end)
  finish(nil)
end)

local explain = step(':1,2QwenExplain', function()
  vim.cmd('1,2QwenExplain')
  wait('the explanation in a float', function()
    for _, text in ipairs(floats()) do
      if text:find(params.reply, 1, true) then
        result.seen.explanation = text
        return true
      end
    end
    return false
  end)
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= '' then
      result.seen.float_filetype = vim.bo[vim.api.nvim_win_get_buf(win)].filetype
      vim.api.nvim_win_close(win, true)
    end
  end
  vim.schedule(stats)
end)

start(step('statusline', function()
  wait('a qwen-lsp/status notification', function()
    return require('qwen_lsp').status() ~= nil
  end)
  result.seen.statusline = require('qwen_lsp').statusline()
  result.seen.status_events = status_events
  result.seen.commands = vim.tbl_keys(vim.api.nvim_get_commands({}))
  vim.schedule(explain)
end))
"""

REVIEW_ON_SAVE = r"""
start(step('save and wait for diagnostics', function()
  vim.cmd('write')
  wait('review diagnostics', function()
    return #vim.diagnostic.get(0) > 0
  end)
  result.seen.diagnostics = vim.tbl_map(function(d)
    return { lnum = d.lnum, message = d.message, severity = d.severity, source = d.source }
  end, vim.diagnostic.get(0))
  finish(nil)
end))
"""

PLAIN_COMPLETION = r"""
local accept = step('accept with <C-y>', function()
  wait('the completion to be inserted', function()
    local line = vim.api.nvim_buf_get_lines(0, params.line - 1, params.line, false)[1]
    return line == params.expected_line
  end)
  finish(nil)
end)

local menu = step('completion menu', function()
  wait('the completion menu', function()
    return vim.fn.pumvisible() == 1
  end)
  result.seen.items = vim.tbl_map(function(item)
    return item.word
  end, vim.fn.complete_info({ 'items' }).items)
  vim.api.nvim_feedkeys(vim.keycode('<C-n><C-y>'), 'm', false)
  vim.defer_fn(accept, 10)
end)

start(step('insert mode and ask', function()
  local caps = client().server_capabilities
  result.seen.completion_provider = caps.completionProvider ~= nil
  result.seen.inline_provider = caps.inlineCompletionProvider ~= nil
  vim.api.nvim_win_set_cursor(0, { params.line, 0 })
  -- As most completion setups do: a menu even for one item, nothing inserted until chosen.
  vim.opt.completeopt = { 'menuone', 'noselect', 'popup' }
  vim.api.nvim_create_autocmd('InsertEnter', {
    once = true,
    callback = function()
      vim.schedule(function()
        vim.lsp.completion.get()
        vim.schedule(menu)
      end)
    end,
  })
  vim.cmd('startinsert!')
end))
"""


def _run(
    tmp_path: Path,
    fake: FakeLLM,
    reply: str,
    check: str,
    *,
    settings: dict[str, Any] | None = None,
    setup: dict[str, Any] | None = None,
) -> Outcome:
    nvim = require_nvim()
    session = make_session(tmp_path, nvim, fake.openai_base_url, reply)
    session.params["settings"].update(settings or {})
    session.params["setup"] = setup or {}
    (session.init_lua.parent / "params.json").write_text(json.dumps(session.params), "utf-8")
    session.init_lua.write_text(INIT_LUA, "utf-8")
    session.check_lua.write_text(PRELUDE + check, "utf-8")
    return run_check(session, fake)


@pytest.mark.editor
def test_statusline_explain_and_stats(fake_llm: FakeLLM, tmp_path: Path):
    explanation = "Returns **the sum** of `a` and `b`."
    fake_llm.reply(explanation)
    outcome = _run(tmp_path, fake_llm, explanation, STATUS_AND_COMMANDS)
    seen = outcome.result.get("seen", {})

    assert {"QwenExplain", "QwenReview", "QwenStats"} <= set(seen.get("commands", [])), (
        outcome.explain()
    )
    assert seen.get("statusline") == "Qwen $0.00", outcome.explain()
    assert seen.get("status_events", 0) >= 1, outcome.explain()
    assert explanation in seen.get("explanation", ""), outcome.explain()
    assert seen.get("float_filetype") == "markdown", outcome.explain()
    assert "Today" in seen.get("stats", "") or "today" in seen.get("stats", ""), outcome.explain()
    assert outcome.result.get("ok") is True and outcome.returncode == 0, outcome.explain()
    chats = [r for r in fake_llm.requests if r.wire == "openai-chat"]
    assert len(chats) == 1, "explain asked the chat model once"


@pytest.mark.editor
def test_review_on_save_shows_findings_as_diagnostics(fake_llm: FakeLLM, tmp_path: Path):
    finding = {
        "path": "calc.py",
        "line": 2,
        "endLine": 2,
        "severity": "warning",
        "rule": "incomplete-return",
        "message": "add() returns None: the return has no value",
        "suggestion": "    return a + b",
    }
    reply = json.dumps({"findings": [finding]})
    fake_llm.reply(reply)
    outcome = _run(tmp_path, fake_llm, reply, REVIEW_ON_SAVE, settings={"review": {"onSave": True}})
    diagnostics = outcome.result.get("seen", {}).get("diagnostics", [])

    assert len(diagnostics) == 1, outcome.explain()
    [d] = diagnostics
    assert d["lnum"] == 1, outcome.explain()  # 0-based line of "    return "
    assert "returns None" in d["message"], outcome.explain()
    assert d["severity"] == 2, outcome.explain()  # vim.diagnostic.severity.WARN
    assert outcome.result.get("ok") is True and outcome.returncode == 0, outcome.explain()


@pytest.mark.editor
def test_plain_completion_fallback_lists_and_inserts_the_suggestion(
    fake_llm: FakeLLM, tmp_path: Path
):
    fake_llm.reply("a + b")
    outcome = _run(tmp_path, fake_llm, "a + b", PLAIN_COMPLETION, setup={"inline": False})
    seen = outcome.result.get("seen", {})

    assert seen.get("completion_provider") is True, outcome.explain()
    assert seen.get("inline_provider") is False, outcome.explain()
    assert "a + b" in " ".join(seen.get("items", [])), outcome.explain()
    lines = outcome.result.get("lines") or []
    assert len(lines) >= 2 and lines[1] == "    return a + b", outcome.explain()
    assert outcome.result.get("ok") is True and outcome.returncode == 0, outcome.explain()
