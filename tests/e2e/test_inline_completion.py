"""The real server over stdio against the fake LLM: each provider in each prompt mode it takes."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from lsprotocol import types

from tests.e2e.harness import (
    clean_env,
    cursor_of,
    inline_texts,
    open_file,
    plain_capabilities,
    running_server,
)

SAMPLES = {
    # language id: (file name, text with the cursor drawn, the model's answer)
    "python": ("calc/ops.py", "def add(a, b):\n    return █\n", "a + b"),
    "typescript": (
        "web/greet.ts",
        "export function greet(name: string): string {\n  return █\n}\n",
        "`Hello, ${name}`;",
    ),
    "go": ("cmd/add.go", "package main\n\nfunc add(a int, b int) int {\n\treturn █\n}\n", "a + b"),
}


@dataclass(frozen=True)
class Setup:
    provider: str
    mode: str
    model: str
    key_var: str | None

    @property
    def id(self) -> str:
        return f"{self.provider}-{self.mode}"


SETUPS = [
    Setup("openai-compatible", "fim", "qwen2.5-coder-7b", None),
    Setup("openai-compatible", "chat", "qwen2.5-coder-7b-instruct", None),
    Setup("dashscope", "fim", "qwen-coder-turbo", "DASHSCOPE_API_KEY"),
    Setup("dashscope", "partial", "qwen3-coder-flash", "DASHSCOPE_API_KEY"),
    Setup("openai", "chat", "gpt-4.1-mini", "OPENAI_API_KEY"),
]


def _base_url(setup: Setup, fake) -> str:
    return fake.dashscope_base_url if setup.provider == "dashscope" else fake.openai_base_url


def _reply(setup: Setup, language: str, answer: str) -> str:
    # Chat models wrap code in fences; raw FIM and partial continuations do not.
    return f"```{language}\n{answer}\n```" if setup.mode == "chat" else answer


def _assert_wire(setup: Setup, request, text_before: str, text_after: str) -> None:
    body = request.body
    if setup.mode == "fim":
        # DashScope serves FIM on its compatible-mode Completions endpoint, not the native one
        prompt = body["prompt"]
        assert request.wire == "openai-completions"
        if setup.provider == "dashscope":
            assert request.path == "/compatible-mode/v1/completions"
        assert prompt.startswith("<|fim_prefix|>") or prompt.startswith("<|repo_name|>")
        assert f"<|fim_prefix|>{text_before}<|fim_suffix|>{text_after}<|fim_middle|>" in prompt
        return
    messages = body["input"]["messages"] if setup.provider == "dashscope" else body["messages"]
    if setup.mode == "partial":
        assert request.wire == "dashscope"
        assert messages[-1] == {"role": "assistant", "content": text_before, "partial": True}
        assert text_after.strip() in messages[-2]["content"]
    else:
        assert request.wire == "openai-chat"
        assert "<FILL_HERE>" in messages[-1]["content"]
        assert text_before + "<FILL_HERE>" + text_after in messages[-1]["content"]


@pytest.mark.parametrize("setup", SETUPS, ids=lambda s: s.id)
async def test_inline_completion_for_each_provider_and_mode(setup: Setup, fake_llm, tmp_path: Path):
    env = clean_env(tmp_path, **({setup.key_var: "test-key"} if setup.key_var else {}))
    options = {
        "provider": setup.provider,
        "baseUrl": _base_url(setup, fake_llm),
        "model": setup.model,
        "promptMode": setup.mode,
    }
    async with running_server(tmp_path, env, init_options=options) as client:
        assert client.advertised.inline_completion_provider is not None
        for language, (name, drawn, answer) in SAMPLES.items():
            text, position = cursor_of(drawn)
            uri = open_file(client, tmp_path / name, language, text)
            fake_llm.reply(_reply(setup, language, answer))
            before = len(fake_llm.requests)
            assert await inline_texts(client, uri, position) == [answer]
            assert len(fake_llm.requests) == before + 1
            index = drawn.index("█")
            _assert_wire(setup, fake_llm.requests[-1], drawn[:index], drawn[index + 1 :])
            if setup.key_var:
                assert fake_llm.requests[-1].headers.get("authorization") == "Bearer test-key"


async def test_configured_only_through_environment(fake_llm, tmp_path: Path):
    env = clean_env(
        tmp_path,
        QWEN_LSP_PROVIDER="dashscope",
        QWEN_LSP_BASE_URL=fake_llm.dashscope_base_url,
        QWEN_LSP_MODEL="qwen3-coder-flash",
        QWEN_LSP_PROMPT_MODE="partial",
        QWEN_LSP_API_KEY="env-key",
    )
    fake_llm.reply("a + b")
    async with running_server(tmp_path, env) as client:
        text, position = cursor_of(SAMPLES["python"][1])
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == ["a + b"]
    request = fake_llm.requests[-1]
    assert request.wire == "dashscope"
    assert request.body["model"] == "qwen3-coder-flash"
    assert request.body["input"]["messages"][-1]["partial"] is True
    assert request.headers.get("authorization") == "Bearer env-key"


async def test_answers_come_from_disk_cache_again_and_after_restart(fake_llm, tmp_path: Path):
    env = clean_env(tmp_path)
    options = {
        "provider": "openai-compatible",
        "baseUrl": fake_llm.openai_base_url,
        "promptMode": "fim",
    }
    text, position = cursor_of(SAMPLES["python"][1])
    fake_llm.reply("a + b")
    async with running_server(tmp_path, env, init_options=options) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == ["a + b"]
        assert await inline_texts(client, uri, position) == ["a + b"]
    assert len(fake_llm.requests) == 1
    fake_llm.reply("something else")
    async with running_server(tmp_path, env, init_options=options) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == ["a + b"]
    assert len(fake_llm.requests) == 1


async def test_client_without_inline_completion_gets_completion_items(fake_llm, tmp_path: Path):
    env = clean_env(tmp_path)
    options = {
        "provider": "openai-compatible",
        "baseUrl": fake_llm.openai_base_url,
        "promptMode": "fim",
    }
    fake_llm.reply("turn a + b")
    async with running_server(
        tmp_path, env, init_options=options, capabilities=plain_capabilities()
    ) as client:
        assert client.advertised.inline_completion_provider is None
        assert client.advertised.completion_provider is not None
        text, position = cursor_of("def add(a, b):\n    re█\n")
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri), position=position
            )
        )
    assert isinstance(result, types.CompletionList)
    [item] = result.items
    assert item.label == "return a + b"
    assert item.text_edit.new_text == "return a + b"
    assert item.text_edit.range.start == types.Position(line=1, character=4)


async def test_cancel_request_closes_the_http_request(fake_llm, tmp_path: Path):
    env = clean_env(tmp_path)
    options = {
        "provider": "openai-compatible",
        "baseUrl": fake_llm.openai_base_url,
        "promptMode": "fim",
        "completion": {"timeoutMs": 30000},
    }
    fake_llm.latency = 20
    async with running_server(tmp_path, env, init_options=options) as client:
        text, position = cursor_of(SAMPLES["python"][1])
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        msg_id = str(uuid.uuid4())
        pending = asyncio.ensure_future(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION,
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=position,
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Automatic
                    ),
                ),
                msg_id=msg_id,
            )
        )
        for _ in range(100):  # wait until the fake holds the request open
            if fake_llm.requests:
                break
            await asyncio.sleep(0.05)
        assert fake_llm.requests, "the server never called the fake"
        client.protocol.notify("$/cancelRequest", types.CancelParams(id=msg_id))
        with pytest.raises(Exception):  # noqa: B017 - the request ends cancelled, whatever the type
            await asyncio.wait_for(pending, 10)
        assert await asyncio.to_thread(fake_llm.wait_for_disconnect, 5)


async def test_no_key_server_starts_tells_once_and_answers_empty(tmp_path: Path):
    env = clean_env(tmp_path)
    async with running_server(tmp_path, env, init_options={"provider": "dashscope"}) as client:
        text, position = cursor_of(SAMPLES["python"][1])
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == []
        assert await inline_texts(client, uri, position) == []
        await asyncio.sleep(0.2)
        about_key = [m for m in client.messages if "DASHSCOPE_API_KEY" in m.message]
    assert len(about_key) == 1
    assert about_key[0].type == types.MessageType.Warning


async def test_auto_mode_probes_once_and_remembers_on_disk(fake_llm, tmp_path: Path):
    env = clean_env(tmp_path)
    options = {"provider": "openai-compatible", "baseUrl": fake_llm.openai_base_url}
    text, position = cursor_of(SAMPLES["python"][1])
    fake_llm.reply("```python\na + b\n```")
    fake_llm.fault("404", times=1)  # this server has no raw completions endpoint
    async with running_server(tmp_path, env, init_options=options) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == ["a + b"]
    assert [r.wire for r in fake_llm.requests] == ["openai-completions", "openai-chat"]
    fake_llm.reset()
    fake_llm.reply("```python\na * b\n```")
    async with running_server(tmp_path, env, init_options=options) as client:
        text, position = cursor_of("def mul(a, b):\n    return █\n")
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == ["a * b"]
    assert [r.wire for r in fake_llm.requests] == ["openai-chat"]
