"""Real editor: headless Neovim 0.12 runs the accept command of a suggestion accepted with
<Tab> (vim.lsp.inline_completion's own accept runs `item.command` after inserting), so
`qwen-lsp stats` counts it, with its characters retained; one dismissed with <C-]> counts as
shown only.

The session is test_neovim's (init.lua as a user writes it, the real server, the fake LLM);
the check script differs only in the key pressed and in lingering a moment before quitting,
so the command's request reaches the server before Neovim shuts it down.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.clients.test_neovim import (
    CHECK_LUA,
    EXPECTED_LINE,
    REPLY,
    SOURCE,
    make_session,
    require_nvim,
    run_check,
)
from tests.e2e.harness import clean_env
from tests.fakes.llm_server import FakeLLM

LINGER = "  vim.wait(params.linger_ms, function() return false end)\n  finish(nil)\nend)"


def _session(tmp_path: Path, fake: FakeLLM, *, key: str) -> Any:
    session = make_session(tmp_path, require_nvim(), fake.openai_base_url)
    script = CHECK_LUA.replace("  finish(nil)\nend)", LINGER, 1)
    if key != "<Tab>":
        script = script.replace("vim.keycode('<Tab>')", f"vim.keycode('{key}')", 1)
    session.check_lua.write_text(script, "utf-8")
    session.params["settings"]["spend"] = {"retentionDelayMs": 100}
    session.params["linger_ms"] = 800
    if key != "<Tab>":  # dismissed: the line stays as it was
        session.params["expected_line"] = SOURCE.splitlines()[1]
    params = session.init_lua.parent / "params.json"
    params.write_text(json.dumps(session.params), "utf-8")
    return session


def _acceptance(tmp_path: Path) -> list[dict[str, Any]]:
    env = clean_env(tmp_path)  # the session's user file (none) and cache folder
    done = subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "stats", "--format", "json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout).get("acceptance", [])


@pytest.mark.editor
def test_neovim_accepting_a_suggestion_counts_it(fake_llm: FakeLLM, tmp_path: Path):
    fake_llm.reply(REPLY)
    outcome = run_check(_session(tmp_path, fake_llm, key="<Tab>"), fake_llm)
    assert outcome.result.get("ok") is True and outcome.returncode == 0, outcome.explain()
    assert (outcome.result.get("lines") or [])[1] == EXPECTED_LINE, outcome.explain()
    [row] = _acceptance(tmp_path)
    assert (row["shown"], row["accepted"]) == (1, 1), outcome.explain()
    assert row["acceptedChars"] == len(REPLY)
    assert row["retainedChars"] == len(REPLY)  # still there when measured


@pytest.mark.editor
def test_neovim_dismissing_a_suggestion_does_not_count_it(fake_llm: FakeLLM, tmp_path: Path):
    fake_llm.reply(REPLY)
    outcome = run_check(_session(tmp_path, fake_llm, key="<C-]>"), fake_llm)
    assert outcome.result.get("ok") is True and outcome.returncode == 0, outcome.explain()
    [row] = _acceptance(tmp_path)
    assert (row["shown"], row["accepted"], row["retainedChars"]) == (1, 0, 0), outcome.explain()
