"""The real server against endpoints as they really behave (the fake playing each one): DashScope
FIM goes where DashScope serves it, and a refused key stops the paid attempts per keystroke."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.e2e.harness import (
    clean_env,
    cursor_of,
    eventually,
    inline_texts,
    open_file,
    running_server,
)
from tests.fakes.llm_server import COMPATIBLE_COMPLETIONS_PATH, PROSE

DOCUMENT = "def add(a, b):\n    return █\n"


def _plain(params: Any) -> dict[str, Any]:
    return {k: getattr(params, k) for k in params._fields} if hasattr(params, "_fields") else params


async def test_dashscope_fim_is_asked_on_compatible_mode_and_never_answers_prose(
    fake_llm, tmp_path: Path
):
    fake_llm.reply("a + b")
    env = clean_env(tmp_path, DASHSCOPE_API_KEY="sk-test-0123456789")
    options = {
        "provider": "dashscope",
        "baseUrl": fake_llm.dashscope_base_url,
        "model": "qwen-coder-turbo",
    }
    async with running_server(tmp_path, env, init_options=options) as client:
        text, position = cursor_of(DOCUMENT)
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        texts = await inline_texts(client, uri, position)
        assert texts == ["a + b"], texts
        assert not any(PROSE.strip() in t for t in texts)
        assert [r.path for r in fake_llm.requests] == [COMPATIBLE_COMPLETIONS_PATH]


async def test_dashscope_outside_beijing_is_not_asked_for_fim(fake_llm, tmp_path: Path):
    fake_llm.reply("a + b")
    fake_llm.region = "singapore"
    env = clean_env(tmp_path, DASHSCOPE_API_KEY="sk-test-0123456789")
    options = {
        "provider": "dashscope",
        "baseUrl": fake_llm.dashscope_base_url,
        "region": "singapore",
        "model": "qwen-coder-turbo",
    }
    async with running_server(tmp_path, env, init_options=options) as client:
        text, position = cursor_of(DOCUMENT)
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == ["a + b"]
        [sent] = fake_llm.requests
        assert sent.wire == "dashscope" and sent.body["input"]["messages"][-1]["partial"] is True


async def test_a_refused_key_pauses_completions_until_the_settings_change(fake_llm, tmp_path: Path):
    fake_llm.fault("401")
    options = {
        "provider": "openai-compatible",
        "baseUrl": fake_llm.openai_base_url,
        "apiKey": "sk-dead-key-0123456789",
        "model": "first-model",
    }
    async with running_server(
        tmp_path, clean_env(tmp_path), init_options=options, configuration={"qwen-lsp": {}}
    ) as client:
        statuses: list[dict[str, Any]] = []
        client.feature("qwen-lsp/status")(lambda params: statuses.append(_plain(params)))
        text, position = cursor_of(DOCUMENT)
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        for _ in range(8):  # keystrokes, each asking for a completion
            assert await inline_texts(client, uri, position) == []
        assert len(fake_llm.requests) == 1  # the first attempt only, not one per keystroke
        await asyncio.sleep(0.2)
        told = [m.message for m in client.messages if "refused the API key" in m.message]
        assert len(told) == 1, [m.message for m in client.messages]
        assert "until the settings change" in told[0]
        assert await eventually(
            lambda: bool(statuses) and "refused the API key" in (statuses[-1]["lastError"] or "")
        )
        # another setting: tried again
        fake_llm.clear_faults()
        fake_llm.reply("a + b")
        client.set_configuration({"qwen-lsp": {"model": "second-model"}})
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        assert await eventually(lambda: len(fake_llm.requests) >= 1)
        for _ in range(50):
            if await inline_texts(client, uri, position) == ["a + b"]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("completions did not resume after the settings changed")
        assert fake_llm.requests[-1].body["model"] == "second-model"
