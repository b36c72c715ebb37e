"""The fault matrix, continued: code action resolve, review on save and `--check` under every
fault. Each ends within its deadline with no result and one clear message (or, for `--check`,
exit code 2 and the reason), the server stays up, and no key leaks."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from lsprotocol import types

from tests.cli.helpers import answer, check_env, finding, run_check
from tests.e2e.harness import clean_env, open_file, running_server
from tests.e2e.test_actions import action_capabilities, list_actions, pick, selection_of
from tests.e2e.test_fault_matrix import FAULTS, KEY, _inject
from tests.e2e.test_review_on_save import capabilities as review_capabilities
from tests.e2e.test_review_on_save import save

DEADLINE_MS = 1500
CODE = "def area(width, height):\n    return width * height\n"


def _options(base: str, **extra) -> dict:
    return {"provider": "openai-compatible", "baseUrl": f"{base}/v1", **extra}


def _told_once(messages: list[str], fault: str) -> None:
    expected = FAULTS[fault]
    if expected is not None:
        told = [m for m in messages if expected in m]
        assert len(told) == 1, messages
    assert all(KEY not in m for m in messages)


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_code_action_resolve_under_fault(fake_llm, tmp_path: Path, fault: str):
    base = _inject(fake_llm, fault) or fake_llm.url
    options = _options(base, actions={"timeoutMs": DEADLINE_MS})
    env = clean_env(tmp_path, OPENAI_API_KEY=KEY)
    async with running_server(
        tmp_path, env, init_options=options, capabilities=action_capabilities()
    ) as client:
        text, selection = selection_of("«def area(width, height):\n    return width * height»\n")
        uri = open_file(client, tmp_path / "geometry.py", "python", text)
        action = pick(await list_actions(client, uri, selection), "AI: Add docstring")
        started = time.monotonic()
        try:
            resolved = await client.code_action_resolve_async(action)
        except Exception as exc:  # a JSON-RPC error is a clear answer too
            resolved = None
            assert "qwen-lsp" in str(exc) or exc.__class__.__name__.startswith("JsonRpc")
        assert time.monotonic() - started < DEADLINE_MS / 1000 + 4
        if fault != "disconnect":  # an SDK may retry a dropped connection and succeed
            assert resolved is None or resolved.edit is None
        await asyncio.sleep(0.2)
        _told_once([m.message for m in client.messages], fault)
        # still up: listing needs no model and answers
        assert await list_actions(client, uri, selection)
    assert client.error is None


def _review_ended(client) -> bool:
    """The review's own progress (not the symbol index's) has ended."""
    for reports in client.progress_reports.values():
        begin = reports[0] if reports else None
        if isinstance(begin, types.WorkDoneProgressBegin) and begin.title.startswith("Review"):
            return isinstance(reports[-1], types.WorkDoneProgressEnd)
    return False


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_review_on_save_under_fault(fake_llm, tmp_path: Path, fault: str):
    base = _inject(fake_llm, fault) or fake_llm.url
    options = _options(base, review={"onSave": True, "timeoutMs": DEADLINE_MS})
    env = clean_env(tmp_path, OPENAI_API_KEY=KEY)
    async with running_server(
        tmp_path, env, init_options=options, capabilities=review_capabilities()
    ) as client:
        uri = open_file(client, tmp_path / "geometry.py", "python", CODE)
        save(client, uri)
        deadline = time.monotonic() + DEADLINE_MS / 1000 + 60
        # the review ends: its progress is reported done
        while time.monotonic() < deadline:
            if _review_ended(client):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the review never ended")
        await asyncio.sleep(0.3)
        assert not any(client.diagnostics.get(uri, []))
        _told_once([m.message for m in client.messages], fault)
    assert client.error is None


@pytest.mark.parametrize("fault", list(FAULTS))
def test_check_under_fault(fake_llm, tmp_path: Path, fault: str):
    project = tmp_path / "project"
    project.mkdir()
    (project / "geometry.py").write_text(CODE)
    base = _inject(fake_llm, fault) or fake_llm.url
    if fault == "429":
        fake_llm.clear_faults()
        fake_llm.fault("429", retry_after=0.05)
    fake_llm.reply(answer(finding(1, path="geometry.py", rule="naming")))
    env = check_env(
        tmp_path,
        fake_llm,
        QWEN_LSP_BASE_URL=f"{base}/v1",
        OPENAI_API_KEY=KEY,
        QWEN_LSP_REVIEW_TIMEOUT_MS=str(DEADLINE_MS),
    )
    started = time.monotonic()
    result = run_check(project, fake_llm, "geometry.py", env=env)
    elapsed = time.monotonic() - started
    if fault == "disconnect" and result.code != 2:
        return  # an SDK may retry a dropped connection and succeed
    assert result.code == 2, result.stdout + result.stderr
    assert result.stderr.strip(), "exit 2 must say why"
    assert KEY not in result.stdout + result.stderr
    assert elapsed < 60
