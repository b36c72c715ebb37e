"""Typing into the real server as editors do: every paid call counts.

Completion requests come on every key; the server waits for a pause (adaptive debounce),
cancels what went stale, reuses a request in flight and a suggestion on screen, and keeps
the later lines of an answer for the next lines. Counts of backend requests are asserted,
never durations.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.harness import clean_env, open_file, running_server
from tests.e2e.typist import Typist

MEAN = "def mean(values):\n    total = "


def _options(fake, **completion) -> dict:
    return {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "promptMode": "fim",
        "model": "qwen-coder-turbo",
        "completion": {"timeoutMs": 20000, **completion},
    }


async def _typist(client, tmp_path: Path, text: str, name: str = "stats.py") -> Typist:
    uri = open_file(client, tmp_path / name, "python", text)
    return Typist(client, uri, text, len(text))


async def test_typing_a_line_asks_the_model_only_at_the_pause(fake_llm, tmp_path: Path):
    fake_llm.reply("zz_placeholder()")
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        typist = await _typist(c, tmp_path, "def report(orders):\n    ")
        keys = "result = summarize(orders, by_customer"
        asked = await typist.type_text(keys, interval=0.06)
        at_pause = await typist.answer(asked[-1])
        await typist.settle()
    # about one request, for the pause; a stray one if the machine stalled a keystroke
    assert 1 <= len(fake_llm.requests) <= len(keys) // 4
    assert at_pause == ["zz_placeholder()"]
    cancelled = [a for a in asked[:-1] if a.texts is None]
    assert len(cancelled) >= len(keys) // 2, "VS Code cancels every earlier request"


async def test_typing_the_suggestion_through_costs_no_request(fake_llm, tmp_path: Path):
    fake_llm.reply("sum(values)\n    count = len(values)\n    return total / count\n")
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        typist = await _typist(c, tmp_path, MEAN)
        assert await typist.answer(typist.ask(manual=True)) == ["sum(values)"]
        assert len(fake_llm.requests) == 1
        # the start of the suggestion typed: the rest comes back at once, from memory
        for char, rest in zip(
            "sum(", ["um(values)", "m(values)", "(values)", "values)"], strict=True
        ):
            assert await typist.answer(typist.key(char)) == [rest]
        typist.insert("values)")  # the rest accepted (Tab)
        assert await typist.answer(typist.ask()) == []  # nothing more on this line
        # Enter, with the editor's own indentation: the next lines ("hot streak")
        assert await typist.answer(typist.key("\n    ")) == [
            "count = len(values)\n    return total / count"
        ]
        typist.insert("count = len(values)")  # accept a word or a line at a time
        assert await typist.answer(typist.key("\n    ")) == ["return total / count"]
        assert await typist.answer(typist.key("ret")) == ["urn total / count"]
        # something else typed: the model is asked again
        fake_llm.reply("total / count")
        typist.insert("urn 0 if not count else ")
        assert await typist.answer(typist.ask(manual=True)) == ["total / count"]
    assert len(fake_llm.requests) == 2


async def test_a_request_in_flight_is_reused_when_the_user_types_its_start(fake_llm, tmp_path):
    fake_llm.reply("sum(values)")
    fake_llm.latency = 0.8
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        typist = await _typist(c, tmp_path, MEAN)
        first = typist.ask(manual=True)
        assert await asyncio.to_thread(fake_llm.wait_for_requests, 10)
        second = typist.key("su", manual=True)  # typed while the answer is on its way
        assert await typist.answer(second) == ["m(values)"]
        assert await typist.answer(first) in (None, [])  # superseded, not paid twice
    assert len(fake_llm.requests) == 1
    assert fake_llm.disconnects == 0


async def test_a_stale_request_is_cancelled_with_its_http_call(fake_llm, tmp_path: Path):
    fake_llm.reply("sum(values)")
    fake_llm.latency = 20
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        typist = await _typist(c, tmp_path, MEAN + "\n\n\ndef other():\n    return ")
        typist.cursor = len(MEAN)
        typist.ask(manual=True)
        assert await asyncio.to_thread(fake_llm.wait_for_requests, 10)
        typist.cursor = len(typist.text)  # the user went to another function
        fake_llm.latency = 0
        fake_llm.reply("None")
        assert await typist.answer(typist.key("0 if False else ", manual=True)) == ["None"]
        assert await asyncio.to_thread(fake_llm.wait_for_disconnect, 5)


async def test_a_client_that_asks_again_without_cancelling_gets_one_answer(fake_llm, tmp_path):
    fake_llm.reply("sum(values)")
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        typist = await _typist(c, tmp_path, MEAN)
        older = typist.ask(cancel_previous=False)  # Neovim asks again on each key
        newer = typist.ask(cancel_previous=False)
        assert await typist.answer(older) == []
        assert await typist.answer(newer) == ["sum(values)"]
    assert len(fake_llm.requests) == 1


async def test_several_candidates_come_from_one_request_without_duplicates(fake_llm, tmp_path):
    fake_llm.enqueue("sum(values)", "sum(values)\n", "math.fsum(values)")
    options = _options(fake_llm, candidates=3)
    async with running_server(tmp_path, clean_env(tmp_path), init_options=options) as c:
        typist = await _typist(c, tmp_path, MEAN)
        assert await typist.answer(typist.ask(manual=True)) == ["sum(values)", "math.fsum(values)"]
    [request] = fake_llm.requests
    assert request.body["n"] == 3


async def test_a_bad_qwen_answer_is_cleaned_before_it_is_shown(fake_llm, tmp_path: Path):
    # the middle, then the code after the cursor copied, then a new function made up
    fake_llm.reply("if x < lo:\n        x = lo\n    return x\n\n\ndef main():\n    pass\n")
    text = "def clamp(x, lo):\n    █\n    return x\n"
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        typist = await _typist(c, tmp_path, text.replace("█", ""))
        typist.cursor = text.index("█")
        assert await typist.answer(typist.ask(manual=True)) == ["if x < lo:\n        x = lo"]
