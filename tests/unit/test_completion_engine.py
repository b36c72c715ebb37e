"""The completion use case in process (`engine/completion/complete.py`), through the real SDKs
against the fake LLM on 127.0.0.1: what the user sees at the cursor and what is paid for.
The same behaviours run over stdio in tests/e2e; these are fast enough to judge every small
change of the engine (the mutation runs use them)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from qwen_lsp.config import load_settings
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.completion.complete import CompletionTarget, complete, prompt_for
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import Position, PromptMode
from tests.fakes.llm_server import FakeLLM


def settings_for(fake: FakeLLM, mode: str = "fim", **extra: Any) -> dict[str, Any]:
    if mode == "partial":
        base = {"provider": "dashscope", "baseUrl": fake.dashscope_base_url}
        base["model"] = "qwen3-coder-flash"
    else:
        base = {"provider": "openai-compatible", "baseUrl": fake.openai_base_url}
        base["model"] = "qwen2.5-coder-7b" if mode == "fim" else "qwen2.5-coder-7b-instruct"
    completion = {"timeoutMs": 20000, **extra.pop("completion", {})}
    return {**base, "promptMode": mode, "completion": completion, **extra}


def make_runtime(tmp_path: Path, settings: dict[str, Any], shown: list[str]) -> Runtime:
    return Runtime(load_settings(tmp_path, env=_env(tmp_path), editor=settings), show=shown.append)


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "QWEN_LSP_CONFIG": str(tmp_path / "none.toml"),
        "QWEN_LSP_CACHE_DIR": str(tmp_path / "cache"),
        "DASHSCOPE_API_KEY": "test-key",
    }


def target(drawn: str, name: str = "calc.py", language: str = "python") -> CompletionTarget:
    index = drawn.index("█")
    text = drawn.replace("█", "", 1)
    before = text[:index]
    position = Position(before.count("\n"), len(before.rsplit("\n", 1)[-1]))
    document = SourceDocument(text, language)
    return CompletionTarget(document, position, path=name, language_id=language, key=name)


def texts(suggestions) -> list[str]:
    return [s.text for s in suggestions]


@pytest.fixture
def shown() -> list[str]:
    return []


async def ask(runtime: Runtime, drawn: str, *, manual: bool = True, **kw: Any) -> list[str]:
    return texts(await complete(runtime, target(drawn, **kw), manual=manual))


async def test_a_fim_answer_is_shown_at_the_cursor_and_served_again_from_memory(
    fake_llm, tmp_path, shown
):
    runtime = make_runtime(tmp_path, settings_for(fake_llm), shown)
    fake_llm.reply("a + b")
    drawn = "def add(a, b):\n    return █\n"
    [suggestion] = await complete(runtime, target(drawn), manual=True)
    # inserted at the cursor, replacing nothing; paid for, not from the cache
    assert (suggestion.text, suggestion.start, suggestion.end) == ("a + b", *[Position(1, 11)] * 2)
    assert not suggestion.from_cache
    [request] = fake_llm.requests
    assert request.body["prompt"].endswith(
        "<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>"
    )
    assert request.body["model"] == "qwen2.5-coder-7b"
    [again] = await complete(runtime, target(drawn), manual=True)  # no second request
    assert (again.text, again.start, again.from_cache) == ("a + b", Position(1, 11), True)
    assert await ask(runtime, "def add(a, b):\n    return a█\n") == [" + b"]  # typed through
    assert len(fake_llm.requests) == 1
    assert runtime.tally.today("CNY").saved_requests >= 1
    assert not shown
    await runtime.aclose()


async def test_a_partial_answer_is_a_raw_continuation(fake_llm, tmp_path, shown):
    runtime = make_runtime(tmp_path, settings_for(fake_llm, "partial"), shown)
    fake_llm.reply("return y\n\n\ndef g():\n    return 2\n")
    assert await ask(runtime, "def f(x):\n    y = x * 2\n    █\n") == ["return y"]
    fake_llm.reply("def g(y):\n    return y * 2\n")
    drawn = "def f(x):\n    return x\n\n\n█\n"
    assert await ask(runtime, drawn, name="g.py") == ["def g(y):\n    return y * 2"]
    messages = fake_llm.requests[-1].body["input"]["messages"]
    assert messages[-1] == {
        "role": "assistant",
        "content": "def f(x):\n    return x\n\n\n",
        "partial": True,
    }
    await runtime.aclose()


async def test_a_chat_answer_loses_its_fences_and_takes_the_cursors_indentation(
    fake_llm, tmp_path, shown
):
    runtime = make_runtime(tmp_path, settings_for(fake_llm, "chat"), shown)
    fake_llm.reply("```python\nif x:\n    return 1\nreturn 0\n```")
    drawn = "def sign(x):\n    █\n"
    assert await ask(runtime, drawn) == ["if x:\n        return 1\n    return 0"]
    assert "<FILL_HERE>" in fake_llm.requests[-1].body["messages"][-1]["content"]
    await runtime.aclose()


async def test_mid_line_the_space_before_the_next_word_is_kept(fake_llm, tmp_path, shown):
    runtime = make_runtime(tmp_path, settings_for(fake_llm), shown)
    fake_llm.reply("started ")
    drawn = "def run(started, ready):\n    if █and ready:\n        return 1\n"
    assert await ask(runtime, drawn) == ["started "]
    fake_llm.reply("x   ")
    assert await ask(runtime, "def run(x):\n    print(█)\n", name="p.py") == ["x"]
    await runtime.aclose()


async def test_another_model_or_endpoint_is_asked_again(fake_llm, tmp_path, shown):
    runtime = make_runtime(tmp_path, settings_for(fake_llm), shown)
    drawn = "def add(a, b):\n    return █\n"
    fake_llm.reply("a + b")
    assert await ask(runtime, drawn) == ["a + b"]
    changes = [
        {"model": "other-coder"},
        # DashScope serves FIM on its compatible mode for its own FIM models only
        {"baseUrl": fake_llm.compatible_base_url, "model": "qwen2.5-coder-7b-instruct"},
        {"completion": {"temperature": 0.7}},
    ]
    for number, change in enumerate(changes, start=1):
        settings = settings_for(fake_llm, **change)
        runtime.update(load_settings(tmp_path, env=_env(tmp_path), editor=settings))
        fake_llm.reply(f"answer_{number}")
        assert await ask(runtime, drawn) == [f"answer_{number}"]
        assert len(fake_llm.requests) == number + 1
    # the same settings again: the answer stored for them on disk, with no request
    runtime.update(load_settings(tmp_path, env=_env(tmp_path), editor=settings_for(fake_llm)))
    assert await ask(runtime, drawn) == ["a + b"]
    assert len(fake_llm.requests) == 4
    await runtime.aclose()


async def test_keystrokes_within_the_debounce_send_one_request(fake_llm, tmp_path, shown):
    settings = settings_for(fake_llm, completion={"debounceMs": 200})
    runtime = make_runtime(tmp_path, settings, shown)
    fake_llm.reply("tal")
    first = asyncio.ensure_future(ask(runtime, "x = t█\n", manual=False))
    await asyncio.sleep(0.05)
    second = asyncio.ensure_future(ask(runtime, "x = to█\n", manual=False))
    assert await first == []  # superseded by the next key
    assert await second == ["tal"]
    [request] = fake_llm.requests
    assert "x = to<|fim_suffix|>" in request.body["prompt"]
    await runtime.aclose()


async def test_a_fixed_debounce_is_waited_for_after_every_key(fake_llm, tmp_path, shown):
    settings = settings_for(fake_llm, completion={"debounceMs": 1000})
    runtime = make_runtime(tmp_path, settings, shown)
    fake_llm.reply("tal")
    first = asyncio.ensure_future(ask(runtime, "x = t█\n", manual=False))
    await asyncio.sleep(0.4)  # a slow typist: longer than the learnt wait, within the setting
    assert not fake_llm.requests
    second = asyncio.ensure_future(ask(runtime, "x = to█\n", manual=False))
    assert await first == []
    assert await second == ["tal"]
    assert len(fake_llm.requests) == 1
    await runtime.aclose()


async def test_a_manual_request_is_sent_at_once(fake_llm, tmp_path, shown):
    settings = settings_for(fake_llm, completion={"debounceMs": 5000})
    runtime = make_runtime(tmp_path, settings, shown)
    fake_llm.reply("total")
    assert await asyncio.wait_for(ask(runtime, "x = █\n"), 4) == ["total"]
    await runtime.aclose()


async def test_nothing_is_asked_where_completions_are_off(fake_llm, tmp_path, shown):
    off = make_runtime(tmp_path, settings_for(fake_llm, completion={"enabled": False}), shown)
    assert await ask(off, "x = █\n") == []
    await off.aclose()
    (tmp_path / "b").mkdir()
    settings = settings_for(fake_llm, completion={"disabledLanguages": ["python"]})
    no_python = make_runtime(tmp_path / "b", settings, shown)
    assert await ask(no_python, "x = █\n") == []
    assert await ask(no_python, "let x = █;\n", name="a.js", language="javascript") != []
    await no_python.aclose()
    assert len(fake_llm.requests) == 1
    assert not shown


async def test_a_secret_file_or_a_huge_one_is_never_sent(fake_llm, tmp_path, shown):
    runtime = make_runtime(tmp_path, settings_for(fake_llm, maxFileSize=1000), shown)
    assert await ask(runtime, "KEY=█\n", name=".env") == []
    big = "x = 1\n" * 400 + "y = █\n"
    assert await ask(runtime, big) == []
    assert await ask(runtime, big) == []
    assert await ask(runtime, "a = 1\x00\nb = █\n", name="blob.py") == []
    assert not fake_llm.requests
    assert shown == [
        "qwen-lsp: calc.py is larger than maxFileSize (1000 bytes): no completions there",
        "qwen-lsp: blob.py looks binary: no completions there",
    ]  # said once per file
    await runtime.aclose()


async def test_a_failing_endpoint_is_told_and_shows_nothing(fake_llm, tmp_path, shown):
    runtime = make_runtime(tmp_path, settings_for(fake_llm), shown)
    fake_llm.fault("500", times=1)
    assert await ask(runtime, "x = █\n") == []
    assert shown
    fake_llm.reply("42")
    assert await ask(runtime, "y = █\n", name="y.py") == ["42"]
    await runtime.aclose()


async def test_a_reached_budget_sends_nothing_and_says_so_once(fake_llm, tmp_path, shown):
    settings = settings_for(fake_llm, spend={"dailyLimit": 0.000001})
    settings["model"] = "qwen-coder-turbo"  # priced in the shipped table
    runtime = make_runtime(tmp_path, settings, shown)
    fake_llm.reply("a" * 400)
    assert await ask(runtime, "x = █\n") != []  # the first call is paid, and passes the limit
    assert await ask(runtime, "y = █\n", name="y.py") == []
    assert await ask(runtime, "z = █\n", name="z.py") == []
    assert len(fake_llm.requests) == 1
    assert len([m for m in shown if "dailyLimit" in m]) == 1
    await runtime.aclose()


async def test_several_candidates_are_asked_where_the_wire_takes_n(fake_llm, tmp_path, shown):
    runtime = make_runtime(tmp_path, settings_for(fake_llm, completion={"candidates": 3}), shown)
    ctx = runtime.workspace.cursor_context(
        target("x = █\n").document, Position(0, 4), path="x.py", settings=runtime.settings.context
    )
    assert prompt_for(runtime, PromptMode.FIM, ctx).request.n == 3
    await runtime.aclose()
    (tmp_path / "b").mkdir()
    settings = settings_for(fake_llm, "partial", completion={"candidates": 3})
    dashscope = make_runtime(tmp_path / "b", settings, shown)
    assert prompt_for(dashscope, PromptMode.PARTIAL, ctx).request.n == 1
    await dashscope.aclose()
