"""The bill: the spend ledger agrees with what the fake LLM was asked, `qwen-lsp stats` shows
it, the `qwen-lsp/status` notification carries today's figures, and a reached budget pauses
completions with one message."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.e2e.harness import clean_env, open_file, running_server
from tests.e2e.typist import Typist
from tests.fakes.llm_server import estimate_tokens

MODEL = "qwen-coder-turbo"  # CNY 2 in / 6 out per 1M tokens in the shipped price table
UNRELATED = "zz_unrelated()"
SUGGESTION = "sum(values)\n    count = len(values)\n    return total / count\n"
MEAN = "def mean(values):\n    "


def _options(fake, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "promptMode": "fim",
        "model": MODEL,
        **extra,
    }


def _cost(input_tokens: int, output_tokens: int) -> float:
    return (input_tokens * 2.0 + output_tokens * 6.0) / 1e6


def stats(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "stats", *args],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _plain(value: Any) -> Any:
    """Custom notifications' params arrive as namedtuples: plain dicts for comparing."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def collect_status(client) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    client.feature("qwen-lsp/status")(lambda params: seen.append(_plain(params)))
    return seen


async def test_stats_agree_with_the_fake_request_log_after_a_typing_replay(fake_llm, tmp_path):
    fake_llm.reply(UNRELATED)
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        typist = Typist(c, open_file(c, tmp_path / "a.py", "python", MEAN), MEAN, len(MEAN))
        # typing with a pause in the middle and at the end, asking on every key (VS Code)
        for words in ("result = summarize(", "values, by_day"):
            asked = await typist.type_text(words, interval=0.06)
            await typist.answer(asked[-1])
        await typist.settle()
        unrelated = len(fake_llm.requests)
        # a new line, a pause for a multi-line suggestion, and that suggestion typed through
        fake_llm.reply(SUGGESTION)
        typist.insert(")\n    total = ")
        assert await typist.answer(typist.ask()) == ["sum(values)"]
        anchor = typist.text
        await typist.type_text("sum(values)", interval=0.06)
        typist.key("\n    ")
        await typist.type_text("count = len(v", interval=0.06)
        await typist.settle()
        await asyncio.sleep(0.6)  # the pause settles the last answer served without a call
        # all of it undone, and asked for by hand: the answer already paid for
        typist.undo_to(anchor)
        assert await typist.answer(typist.ask(manual=True)) == ["sum(values)"]
    requests = fake_llm.requests
    assert unrelated >= 2 and len(requests) == unrelated + 1
    inputs = [estimate_tokens(r.body["prompt"]) for r in requests]
    outputs = [estimate_tokens(UNRELATED)] * unrelated + [estimate_tokens(SUGGESTION)]
    paid = _cost(inputs[-1], outputs[-1])  # what each answer served without a call saved

    result = stats(tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    for period in ("today", "week", "all"):
        [row] = report[period]["models"]
        assert (row["model"], row["currency"]) == (MODEL, "CNY")
        assert row["requests"] == len(requests)
        assert (row["inputTokens"], row["outputTokens"]) == (sum(inputs), sum(outputs))
        assert row["cost"] == pytest.approx(_cost(sum(inputs), sum(outputs)))
        assert row["savedRequests"] >= 2  # the typed-through answer and the one asked again
        assert row["saved"] == pytest.approx(row["savedRequests"] * paid)
        total = report[period]["total"]
        assert total["currency"] == "USD"
        assert total["cost"] == pytest.approx(row["cost"] * 0.14)

    text = stats(tmp_path)
    assert text.returncode == 0
    assert "Today" in text.stdout and "Last 7 days" in text.stdout and "All time" in text.stdout
    assert MODEL in text.stdout and f"{sum(inputs):,}" in text.stdout


async def test_a_reached_budget_pauses_completions_with_one_message(fake_llm, tmp_path: Path):
    fake_llm.reply(UNRELATED)
    options = _options(fake_llm, spend={"dailyLimit": 0.000001, "currency": "USD"})
    async with running_server(tmp_path, clean_env(tmp_path), init_options=options) as c:
        statuses = collect_status(c)
        typist = Typist(c, open_file(c, tmp_path / "a.py", "python", MEAN), MEAN, len(MEAN))
        assert await typist.answer(typist.ask(manual=True)) == [UNRELATED]  # under the limit
        for word in ("x = ", "y = ", "z = "):  # each a new question: the limit is reached
            assert await typist.answer(typist.key(word, manual=True)) == []
        await asyncio.sleep(0.3)
        about_budget = [m for m in c.messages if "daily limit" in m.message]
        assert len(fake_llm.requests) == 1
        assert len(about_budget) == 1 and about_budget[0].type == types.MessageType.Warning
        assert "completions are paused" in about_budget[0].message
        assert statuses and statuses[-1]["enabled"] is False
        assert statuses[-1]["today"]["requests"] == 1
        assert "daily limit" in statuses[-1]["lastError"]
        # raising the limit lets completions go on
        c.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"qwen-lsp": {**options, "spend": {"dailyLimit": 100}}}
            )
        )
        await asyncio.sleep(0.3)
        assert await typist.answer(typist.key("w = ", manual=True)) == [UNRELATED]
        assert len(fake_llm.requests) == 2


async def test_the_status_notification_carries_todays_figures(fake_llm, tmp_path: Path):
    fake_llm.reply(UNRELATED)
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        statuses = collect_status(c)
        typist = Typist(c, open_file(c, tmp_path / "a.py", "python", MEAN), MEAN, len(MEAN))
        assert await typist.answer(typist.ask(manual=True)) == [UNRELATED]
        assert await typist.answer(typist.key("zz", manual=True)) == ["_unrelated()"]
        await asyncio.sleep(0.3)
        result = await c.workspace_execute_command_async(
            types.ExecuteCommandParams(command="qwen-lsp.showStats")
        )
    [request] = fake_llm.requests
    tokens = (estimate_tokens(request.body["prompt"]), estimate_tokens(UNRELATED))
    last = statuses[-1]
    assert last["enabled"] is True and last["busy"] is False and last["lastError"] is None
    today = last["today"]
    assert (today["requests"], today["inputTokens"], today["outputTokens"]) == (1, *tokens)
    assert today["currency"] == "USD"
    assert today["cost"] == pytest.approx(_cost(*tokens) * 0.14)
    assert today["savedRequests"] == 1 and today["saved"] == pytest.approx(today["cost"])
    assert last["cacheHitRate"] == pytest.approx(0.5)
    assert any(s["busy"] for s in statuses), "the status bar saw the request go out"
    assert result["today"]["total"]["requests"] == 1
    assert "qwen-coder-turbo" in result["text"]
    assert any("1 requests" in m.message for m in c.messages)


def test_stats_before_anything_was_spent(tmp_path: Path):
    result = stats(tmp_path)
    assert result.returncode == 0
    assert "No spend recorded yet" in result.stdout
    assert not (tmp_path / "cache" / "spend.db").exists()
