"""Settings applied live from the editor, and failures told once while the server keeps going."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from lsprotocol import types

from tests.e2e.harness import (
    clean_env,
    cursor_of,
    eventually,
    inline_texts,
    open_file,
    running_server,
)

DOCUMENT = "def add(a, b):\n    return █\n"


async def test_workspace_configuration_wins_and_changes_apply_live(fake_llm, tmp_path: Path):
    options = {
        "provider": "openai-compatible",
        "baseUrl": fake_llm.openai_base_url,
        "promptMode": "fim",
        "model": "from-init-options",
    }
    fake_llm.reply("a + b")
    async with running_server(
        tmp_path,
        clean_env(tmp_path),
        init_options=options,
        configuration={"qwen-lsp": {"model": "from-workspace"}},
    ) as client:
        text, position = cursor_of(DOCUMENT)
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == ["a + b"]
        assert fake_llm.requests[-1].body["model"] == "from-workspace"

        client.set_configuration(
            {"qwen-lsp": {"model": "changed-live", "completion": {"maxTokens": "many"}}}
        )
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        assert await eventually(lambda: any("maxTokens" in m.message for m in client.messages))
        [problem] = [m.message for m in client.messages if "maxTokens" in m.message]
        assert "'completion.maxTokens'" in problem and "integer" in problem

        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text + "\n")],
            )
        )
        assert await inline_texts(client, uri, position) == ["a + b"]
        assert fake_llm.requests[-1].body["model"] == "changed-live"
        assert fake_llm.requests[-1].body["max_tokens"] == 128  # the bad value kept its default


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("wrong key", "refused the API key"),
        ("endpoint down", "cannot reach"),
        ("server error", "cannot reach"),
    ],
)
async def test_a_failing_endpoint_is_reported_once_and_completions_stay_empty(
    fake_llm, tmp_path: Path, failure: str, expected: str
):
    base_url = fake_llm.dashscope_base_url
    if failure == "wrong key":
        fake_llm.fault("401")
    elif failure == "server error":
        fake_llm.fault("500")
    else:
        base_url = f"http://127.0.0.1:{_closed_port()}/api/v1"
    env = clean_env(tmp_path, DASHSCOPE_API_KEY="sk-wrong-key-123456")
    options = {"provider": "dashscope", "baseUrl": base_url, "promptMode": "partial"}
    async with running_server(tmp_path, env, init_options=options) as client:
        text, position = cursor_of(DOCUMENT)
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        for _ in range(2):  # a third failure in a row would open the circuit breaker
            assert await inline_texts(client, uri, position) == []
        await asyncio.sleep(0.2)
        told = [m for m in client.messages if expected in m.message]
        assert len(told) == 1, [m.message for m in client.messages]
        assert all("sk-wrong-key-123456" not in m.message for m in client.messages)
        # The server is still up and answers the next request.
        fake_llm.clear_faults()
        fake_llm.reply("a + b")
        if failure == "wrong key":
            # paused until the settings change (tests/e2e/test_wires.py changes them)
            assert await inline_texts(client, uri, position) == []
        elif failure != "endpoint down":
            assert await inline_texts(client, uri, position) == ["a + b"]


async def test_an_endpoint_that_keeps_failing_is_left_alone_for_a_while(fake_llm, tmp_path):
    fake_llm.fault("503")
    options = {
        "provider": "openai-compatible",
        "baseUrl": fake_llm.openai_base_url,
        "promptMode": "fim",
    }
    async with running_server(tmp_path, clean_env(tmp_path), init_options=options) as client:
        text, position = cursor_of(DOCUMENT)
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        for _ in range(6):
            assert await inline_texts(client, uri, position) == []
    # three failures in a row open the circuit: the next requests are not sent at all
    assert len(fake_llm.requests) == 3


async def test_the_log_file_is_private_and_never_holds_the_key(fake_llm, tmp_path: Path):
    key = "sk-private-log-test-0123456789"
    options = {
        "provider": "dashscope",
        "baseUrl": fake_llm.dashscope_base_url,
        "promptMode": "partial",
    }
    fake_llm.fault("401")
    env = clean_env(tmp_path, DASHSCOPE_API_KEY=key)
    async with running_server(tmp_path, env, init_options=options) as client:
        text, position = cursor_of(DOCUMENT)
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == []
    log_file = Path(env["QWEN_LSP_LOG_FILE"])
    content = log_file.read_text()
    assert "qwen-lsp started: provider dashscope" in content
    assert "refused the API key" in content
    assert key not in content
    assert log_file.stat().st_mode & 0o777 == 0o600
