"""The one paid call (`engine/ask.py`) through a real provider against the fake LLM server:
what is sent, what is recorded, and what is held back (cache, budget, breaker, prompt modes),
and how the code action and review use cases lean on it."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from qwen_lsp import errors
from qwen_lsp.config import load_settings
from qwen_lsp.context.budget import request_tokens
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.actions.model import EXPLAIN, ActionOffer, ActionTarget, SpendDeclined
from qwen_lsp.engine.actions.running import run_action
from qwen_lsp.engine.ask import (
    ModeProbe,
    Prompt,
    Question,
    cache_key,
    get_answer,
)
from qwen_lsp.engine.review.chunks import Chunk
from qwen_lsp.engine.review.run import run_review
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import GenerationRequest, Message, Position, PromptMode
from qwen_lsp.spend import BudgetState
from tests.fakes.llm_server import FakeLLM

MODEL = "qwen-coder-turbo"  # priced in the shipped table: CNY 2 in / 6 out per 1M tokens


def _editor(fake: FakeLLM | None, **editor: Any) -> dict[str, Any]:
    return {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url if fake is not None else _closed_url(),
        "model": MODEL,
        "chatModel": MODEL,
        **editor,
    }


def _env(tmp_path: Path) -> dict[str, str]:
    return {"QWEN_LSP_CONFIG": str(tmp_path / "none.toml"), "QWEN_LSP_CACHE_DIR": str(tmp_path)}


def make_runtime(tmp_path: Path, fake: FakeLLM | None, shown: list[str] | None = None, **editor):
    sink = shown if shown is not None else []
    loaded = load_settings(tmp_path, env=_env(tmp_path), editor=_editor(fake, **editor))
    return Runtime(loaded, show=sink.append)


def _closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def chat_question(runtime: Runtime, text: str = "Explain: x = 1", feature: str = "action"):
    request = GenerationRequest(model=MODEL, messages=(Message("user", text),), max_tokens=32)
    key = cache_key(runtime, request, mode="test", template_version="1")
    return Question(feature, Prompt(request, key), timeout=10.0)


def mode_request(mode: PromptMode) -> GenerationRequest:
    if mode is PromptMode.FIM:
        return GenerationRequest(
            model=MODEL, prompt="<|fim_prefix|>x = <|fim_suffix|><|fim_middle|>"
        )
    return GenerationRequest(model=MODEL, messages=(Message("user", "complete: x = "),))


def probe_question(runtime: Runtime) -> Question:
    def prompt_for(mode: PromptMode) -> Prompt:
        request = mode_request(mode)
        return Prompt(request, cache_key(runtime, request, mode=mode.value, template_version="1"))

    return Question("completion", ModeProbe(MODEL, prompt_for), timeout=10.0)


def ledger_rows(runtime: Runtime, tmp_path: Path) -> list[tuple[str, str]]:
    runtime.ledger.totals()  # every record made so far is written once this returns
    with sqlite3.connect(tmp_path / "spend.db") as db:
        return db.execute("SELECT feature, kind FROM events ORDER BY rowid").fetchall()


# -- the cache -------------------------------------------------------------------------------


async def test_a_cached_answer_sends_nothing_and_counts_as_saved(fake_llm, tmp_path: Path):
    fake_llm.reply("x is one")
    runtime = make_runtime(tmp_path, fake_llm)
    first = await get_answer(runtime, chat_question(runtime))
    second = await get_answer(runtime, chat_question(runtime))
    assert first is not None and second is not None
    assert len(fake_llm.requests) == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.generation.texts == ("x is one",)
    assert second.saved == pytest.approx(first.cost) and first.cost > 0
    today = runtime.tally.today("CNY")
    assert (today.requests, today.saved_requests) == (1, 1)
    assert ledger_rows(runtime, tmp_path) == [("action", "call"), ("action", "cache")]
    # another question is another answer
    await get_answer(runtime, chat_question(runtime, "Explain: y = 2"))
    assert len(fake_llm.requests) == 2
    await runtime.aclose()


async def test_the_key_covers_what_shapes_the_answer(fake_llm, tmp_path: Path):
    runtime = make_runtime(tmp_path, fake_llm)
    question = chat_question(runtime)
    assert isinstance(question.prompt, Prompt)
    request = question.prompt.request
    assert question.prompt.key == cache_key(runtime, request, mode="test", template_version="1")
    assert question.prompt.key != cache_key(runtime, request, mode="test", template_version="2")
    assert question.prompt.key != cache_key(runtime, request, mode="other", template_version="1")
    (tmp_path / "b").mkdir()
    elsewhere = make_runtime(tmp_path / "b", fake_llm, baseUrl=fake_llm.url + "/other/v1")
    assert question.prompt.key != cache_key(elsewhere, request, mode="test", template_version="1")
    # the same URL and request through another provider's wire is another answer
    (tmp_path / "c").mkdir()
    other_wire = make_runtime(tmp_path / "c", fake_llm, provider="openai")
    assert question.prompt.key != cache_key(other_wire, request, mode="test", template_version="1")
    await runtime.aclose()
    await elsewhere.aclose()
    await other_wire.aclose()


async def test_an_answer_the_caller_refuses_is_paid_but_not_kept(fake_llm, tmp_path: Path):
    runtime = make_runtime(tmp_path, fake_llm)

    def refuse(generation: Any) -> Any:
        raise errors.BadResponse("not what was asked")

    with pytest.raises(errors.BadResponse):
        await get_answer(runtime, chat_question(runtime), accept=refuse)
    assert runtime.tally.today("CNY").requests == 1  # the endpoint answered: it is billed
    answer = await get_answer(runtime, chat_question(runtime))
    assert answer is not None and not answer.cached  # asked again: nothing was stored
    # and a stored answer the caller now refuses is asked again instead of served
    again = await get_answer(runtime, chat_question(runtime), accept=refuse_then_take())
    assert again is not None and not again.cached
    assert len(fake_llm.requests) == 3
    await runtime.aclose()


def refuse_then_take():
    calls = []

    def accept(generation: Any) -> Any:
        calls.append(generation)
        if len(calls) == 1:
            raise errors.BadResponse("stored by an older version")
        return generation

    return accept


# -- the budget ------------------------------------------------------------------------------


async def test_a_reached_budget_sends_nothing(fake_llm, tmp_path: Path):
    runtime = make_runtime(tmp_path, fake_llm, spend={"dailyLimit": 0.0})
    assert await get_answer(runtime, chat_question(runtime)) is None
    seen: list[BudgetState] = []

    async def refuse(budget: BudgetState, request: GenerationRequest) -> bool:
        seen.append(budget)
        raise SpendDeclined("nothing was spent")

    with pytest.raises(SpendDeclined):
        await get_answer(runtime, chat_question(runtime), spending=refuse)
    assert fake_llm.requests == []
    assert seen and not seen[0].allowed and "daily limit" in (seen[0].reason or "")

    async def go_over(budget: BudgetState, request: GenerationRequest) -> bool:
        return True  # a user who agreed to go over the limit

    assert await get_answer(runtime, chat_question(runtime), spending=go_over) is not None
    assert len(fake_llm.requests) == 1
    await runtime.aclose()


async def test_an_actions_spend_counts_against_the_budget_at_once(fake_llm, tmp_path: Path):
    fake_llm.reply("It sets x to one. " * 20)
    runtime = make_runtime(tmp_path, fake_llm, spend={"dailyLimit": 0.0001, "currency": "CNY"})
    assert runtime.budget().allowed  # the figures are read now: the next re-read is seconds away
    doc = SourceDocument("x = 1\n", "python")
    target = ActionTarget(doc, Position(0, 0), Position(0, 5), path="x.py")
    offer = ActionOffer(EXPLAIN, "AI: Explain", "")
    asked: list[str] = []

    async def confirm(reason: str) -> bool:
        asked.append(reason)
        return False

    result = await run_action(runtime, target, offer, confirm_spend=confirm)
    assert result.markdown and not result.from_cache
    assert not runtime.budget().allowed  # this process's own call counts at once
    other = ActionTarget(SourceDocument("y = 2\n", "python"), Position(0, 0), Position(0, 5))
    with pytest.raises(SpendDeclined):
        await run_action(runtime, other, offer, confirm_spend=confirm)
    assert len(asked) == 1 and len(fake_llm.requests) == 1
    # the same action on the same code again: the cached answer, free, even past the limit
    again = await run_action(runtime, target, offer, confirm_spend=confirm)
    assert again.from_cache and len(fake_llm.requests) == 1
    assert ledger_rows(runtime, tmp_path) == [("action", "call"), ("action", "cache")]
    await runtime.aclose()


# -- prompt modes ----------------------------------------------------------------------------


async def test_an_unsupported_mode_moves_on_and_the_mode_that_worked_is_remembered(
    fake_llm, tmp_path: Path
):
    runtime = make_runtime(tmp_path, fake_llm)
    fake_llm.fault("404", times=1)  # this server takes no raw FIM prompt
    answer = await get_answer(runtime, probe_question(runtime))
    assert answer is not None and answer.mode is PromptMode.CHAT
    assert [r.wire for r in fake_llm.requests] == ["openai-completions", "openai-chat"]
    remembered = runtime.modes.get("openai-compatible", fake_llm.openai_base_url, MODEL)
    assert remembered is PromptMode.CHAT
    # the next question goes straight to the mode that worked (a new one: not cached)
    fake_llm.reply("2")
    runtime.cache.clear()
    await get_answer(runtime, probe_question(runtime))
    assert [r.wire for r in fake_llm.requests][2:] == ["openai-chat"]
    assert runtime.incidents.last is None  # probing is not a failure
    await runtime.aclose()


async def test_a_forced_mode_is_the_only_one_tried(fake_llm, tmp_path: Path):
    runtime = make_runtime(tmp_path, fake_llm, promptMode="fim")
    fake_llm.fault("404", times=1)
    with pytest.raises(errors.UnsupportedMode):
        await get_answer(runtime, probe_question(runtime))
    assert [r.wire for r in fake_llm.requests] == ["openai-completions"]
    assert runtime.incidents.last is not None  # recorded: a setting that cannot work
    # every mode offered was refused: nothing more is sent until the settings change
    with pytest.raises(errors.EndpointPaused) as paused:
        await get_answer(runtime, probe_question(runtime))
    assert paused.value.halted and "until the settings change" in runtime.explain(paused.value)
    assert len(fake_llm.requests) == 1
    runtime.update(load_settings(tmp_path, env=_env(tmp_path), editor=_editor(fake_llm)))
    answer = await get_answer(runtime, probe_question(runtime))
    assert answer is not None and answer.mode is PromptMode.FIM
    await runtime.aclose()


# -- failures --------------------------------------------------------------------------------


async def test_failures_are_recorded_once_and_an_open_breaker_sends_nothing(
    fake_llm, tmp_path: Path
):
    shown: list[str] = []
    runtime = make_runtime(tmp_path, fake_llm, shown)
    fake_llm.fault("503")
    for n in range(3):
        assert not runtime.paused(), f"open after {n} failures: each must count once"
        with pytest.raises(errors.EndpointUnavailable):
            await get_answer(runtime, chat_question(runtime, f"q{n}"))
    assert runtime.paused()
    with pytest.raises(errors.EndpointPaused) as paused:
        await get_answer(runtime, chat_question(runtime, "q3"))
    assert len(fake_llm.requests) == 3
    assert not paused.value.rate_limited
    assert "keeps failing" in runtime.explain(paused.value)
    assert "cannot reach" in runtime.explain(paused.value)  # what kept failing
    # recorded, not told: each feature tells its user its own way
    assert shown == []
    assert runtime.incidents.last is not None and runtime.incidents.last.kind == "unavailable"
    runtime.tell(errors.EndpointUnavailable("down"))
    runtime.tell(errors.EndpointUnavailable("down"))
    assert len(shown) == 1 and "cannot reach" in shown[0]
    # a cached answer still comes while the breaker is open
    fake_llm.clear_faults()
    runtime.breaker.record_success()
    await get_answer(runtime, chat_question(runtime, "cached"))
    for _ in range(3):
        runtime.fail(errors.EndpointUnavailable("down"), tell=False)
    answer = await get_answer(runtime, chat_question(runtime, "cached"))
    assert answer is not None and answer.cached
    await runtime.aclose()


async def test_a_rate_limit_holds_every_request_back(fake_llm, tmp_path: Path):
    runtime = make_runtime(tmp_path, fake_llm)
    fake_llm.fault("429", times=1, retry_after=30)
    with pytest.raises(errors.RateLimitError):
        await get_answer(runtime, chat_question(runtime))
    with pytest.raises(errors.EndpointPaused) as paused:
        await get_answer(runtime, chat_question(runtime))
    assert paused.value.rate_limited and paused.value.retry_in > 25
    assert len(fake_llm.requests) == 1
    await runtime.aclose()


async def test_a_success_closes_the_breaker_and_ends_the_incident(fake_llm, tmp_path: Path):
    runtime = make_runtime(tmp_path, fake_llm)
    fake_llm.fault("500", times=2)
    for n in range(2):
        with pytest.raises(errors.EndpointUnavailable):
            await get_answer(runtime, chat_question(runtime, f"q{n}"))
    assert await get_answer(runtime, chat_question(runtime, "ok")) is not None
    assert runtime.incidents.last is None and runtime.breaker.state == "closed"
    await runtime.aclose()


async def test_a_request_cancelled_after_it_went_out_is_billed(fake_llm, tmp_path: Path):
    runtime = make_runtime(tmp_path, fake_llm)
    fake_llm.latency = 5.0
    question = chat_question(runtime)
    task = asyncio.ensure_future(get_answer(runtime, question))
    assert await asyncio.to_thread(fake_llm.wait_for_requests, 5.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    today = runtime.tally.today("CNY")
    assert isinstance(question.prompt, Prompt)
    assert (today.requests, today.input_tokens) == (1, request_tokens(question.prompt.request))
    assert today.output_tokens == 0
    await runtime.aclose()


# -- review ----------------------------------------------------------------------------------


def chunks(count: int) -> list[Chunk]:
    return [
        Chunk(f"m{n}.py", "python", 1, (f"def f{n}(x):", f"    return x / {n}"), ((1, 2),))
        for n in range(count)
    ]


async def test_a_review_against_a_down_endpoint_stops_once_the_breaker_opens(tmp_path: Path):
    runtime = make_runtime(tmp_path, None)  # nothing listens there: every request fails
    run = await run_review(runtime, chunks(20), jobs=4)
    assert run.stopped is not None and "keeps failing" in run.stopped
    assert len(run.skipped) >= 15  # stopped, not retried chunk after chunk
    await runtime.aclose()


async def test_a_review_stops_after_a_bounded_number_of_requests(fake_llm, tmp_path: Path):
    fake_llm.fault("503")
    runtime = make_runtime(tmp_path, fake_llm)
    run = await run_review(runtime, chunks(20), jobs=4)
    assert run.stopped is not None and "keeps failing" in run.stopped
    # without the breaker: 20 chunks x 3 attempts
    assert len(fake_llm.requests) <= 6
    # the chunks that were sent failed; the others were never sent
    assert 1 <= len(run.failed) <= 4 and len(run.skipped) == 20 - len(run.failed)
    assert run.calls == 0 and run.cost == 0
    await runtime.aclose()


async def test_a_review_counts_what_it_paid_and_what_the_cache_saved(fake_llm, tmp_path: Path):
    fake_llm.reply('{"findings": []}')
    runtime = make_runtime(tmp_path, fake_llm, spend={"currency": "CNY"})
    first = await run_review(runtime, chunks(3), jobs=2)
    assert (first.calls, first.cached) == (3, 0) and first.cost > 0
    today = runtime.tally.today("CNY")
    assert first.cost == pytest.approx(today.cost)
    assert (first.usage.input_tokens, first.usage.output_tokens) == (
        today.input_tokens,
        today.output_tokens,
    )
    second = await run_review(runtime, chunks(3), jobs=2)
    assert (second.calls, second.cached, second.cost) == (0, 3, 0)
    assert second.saved == pytest.approx(first.cost)
    assert len(fake_llm.requests) == 3
    rows = ledger_rows(runtime, tmp_path)
    assert rows == [("review", "call")] * 3 + [("review", "cache")] * 3
    await runtime.aclose()


# -- probing that does not flap, pauses that last until the settings change -------------------


def shrinking_question(runtime: Runtime) -> Question:
    def prompt(mode: PromptMode, size: int) -> Prompt:
        text = "x = 1\n" * size
        if mode is PromptMode.FIM:
            request = GenerationRequest(
                model=MODEL, prompt=f"<|fim_prefix|>{text}<|fim_suffix|><|fim_middle|>"
            )
        else:
            request = GenerationRequest(model=MODEL, messages=(Message("user", text),))
        return Prompt(request, cache_key(runtime, request, mode=mode.value, template_version="1"))

    probe = ModeProbe(MODEL, lambda m: prompt(m, 200), smaller=lambda m: prompt(m, 20))
    return Question("completion", probe, timeout=10.0)


async def test_a_context_length_400_shrinks_the_prompt_once_and_demotes_nothing(
    fake_llm, tmp_path: Path
):
    runtime = make_runtime(tmp_path, fake_llm)
    fake_llm.context_limit = 100  # tokens: the 200-line prompt is too long, 20 lines are not
    answer = await get_answer(runtime, shrinking_question(runtime))
    assert answer is not None and answer.mode is PromptMode.FIM
    assert [r.wire for r in fake_llm.requests] == ["openai-completions"] * 2
    assert len(fake_llm.requests[1].body["prompt"]) < len(fake_llm.requests[0].body["prompt"])
    assert runtime.modes.get("openai-compatible", fake_llm.openai_base_url, MODEL) is (
        PromptMode.FIM
    )
    await runtime.aclose()


async def test_a_400_that_does_not_say_the_mode_is_missing_demotes_nothing(
    fake_llm, tmp_path: Path
):
    runtime = make_runtime(tmp_path, fake_llm)
    fake_llm.fault("400", times=1)  # "fault injected: HTTP 400": a bad request, not a mode
    with pytest.raises(errors.ProviderError) as caught:
        await get_answer(runtime, probe_question(runtime))
    assert not isinstance(caught.value, errors.UnsupportedMode)
    assert [r.wire for r in fake_llm.requests] == ["openai-completions"]  # chat not tried
    answer = await get_answer(runtime, probe_question(runtime))
    assert answer is not None and answer.mode is PromptMode.FIM
    await runtime.aclose()


def test_a_remembered_mode_is_probed_again_after_a_day(tmp_path: Path):
    from qwen_lsp.providers.probing import MAX_AGE, ModeMemory

    now = [1_000_000.0]
    memory = ModeMemory(tmp_path / "modes.json", clock=lambda: now[0])
    memory.remember("p", "u", "m", PromptMode.CHAT)
    again = ModeMemory(tmp_path / "modes.json", clock=lambda: now[0])
    assert again.get("p", "u", "m") is PromptMode.CHAT  # kept on disk
    assert again.get("p", "other-url", "m") is None  # another setting: probed afresh
    now[0] += MAX_AGE + 1
    assert again.get("p", "u", "m") is None


async def test_a_refused_key_pauses_every_request_until_the_settings_change(
    fake_llm, tmp_path: Path
):
    runtime = make_runtime(tmp_path, fake_llm)
    fake_llm.fault("401")
    with pytest.raises(errors.AuthError):
        await get_answer(runtime, probe_question(runtime))
    for n in range(5):
        with pytest.raises(errors.EndpointPaused):
            await get_answer(runtime, chat_question(runtime, f"q{n}"))
        assert runtime.paused()
    assert len(fake_llm.requests) == 1
    fake_llm.clear_faults()
    runtime.update(load_settings(tmp_path, env=_env(tmp_path), editor=_editor(fake_llm)))
    assert runtime.paused()  # the same settings: still paused
    runtime.update(
        load_settings(tmp_path, env=_env(tmp_path), editor=_editor(fake_llm, apiKey="new-key"))
    )
    assert not runtime.paused()
    assert await get_answer(runtime, chat_question(runtime, "again")) is not None
    await runtime.aclose()


async def test_a_request_cancelled_before_it_went_out_is_not_billed(fake_llm, tmp_path: Path):
    runtime = make_runtime(tmp_path, fake_llm)
    provider = runtime.provider()
    started = asyncio.Event()
    release = asyncio.Event()
    inner_prepare = provider.prepare

    async def slow_prepare() -> None:  # as the first request's SDK import is
        started.set()
        await release.wait()
        await inner_prepare()

    provider.prepare = slow_prepare  # type: ignore[method-assign]
    task = asyncio.ensure_future(get_answer(runtime, chat_question(runtime)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    today = runtime.tally.today("CNY")
    assert (today.requests, today.input_tokens) == (0, 0)
    assert fake_llm.requests == []
    await runtime.aclose()
