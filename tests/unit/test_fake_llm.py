"""The fake LLM server's own behaviour: wires, scripting, faults, disconnect detection, CLI.

Spoken to with the standard library's http.client, so a bug in the fake cannot hide behind an
SDK's leniency; the providers' tests then check that the real SDKs accept what it sends.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.llm_server import DASHSCOPE_PATH, FakeLLM, estimate_tokens

REPO_ROOT = Path(__file__).resolve().parents[2]


def post(
    fake: FakeLLM, path: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        conn.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def sse_data(raw: bytes) -> list[str]:
    return [
        line.split(":", 1)[1].strip()
        for line in raw.decode().splitlines()
        if line.startswith("data:")
    ]


def test_openai_chat_whole_answer_and_record(fake_llm: FakeLLM) -> None:
    fake_llm.reply("print('hi')")
    body = {"model": "gpt-x", "messages": [{"role": "user", "content": "hello world!"}]}
    status, _, raw = post(fake_llm, "/v1/chat/completions", body, {"Authorization": "Bearer k"})
    answer = json.loads(raw)
    assert status == 200
    assert answer["choices"][0]["message"]["content"] == "print('hi')"
    assert answer["usage"] == {
        "prompt_tokens": estimate_tokens("hello world!"),
        "completion_tokens": estimate_tokens("print('hi')"),
        "total_tokens": estimate_tokens("hello world!") + estimate_tokens("print('hi')"),
    }
    [recorded] = fake_llm.requests
    assert recorded.path == "/v1/chat/completions"
    assert recorded.wire == "openai-chat"
    assert recorded.stream is False
    assert recorded.body == body
    assert recorded.headers["authorization"] == "Bearer k"


def test_openai_completions_stream_in_chunks_with_usage_and_done(fake_llm: FakeLLM) -> None:
    fake_llm.reply("0123456789abcdef")
    body = {
        "model": "m",
        "prompt": "<|fim_prefix|>",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    status, headers, raw = post(fake_llm, "/v1/completions", body)
    data = sse_data(raw)
    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    texts = [c["choices"][0]["text"] for c in chunks if c["choices"]]
    assert len([t for t in texts if t]) >= 3
    assert "".join(texts) == "0123456789abcdef"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == estimate_tokens("0123456789abcdef")
    assert fake_llm.requests[0].stream is True


def test_enqueue_then_default_and_n_candidates(fake_llm: FakeLLM) -> None:
    fake_llm.reply("default")
    fake_llm.enqueue("one", "two", "three")
    ask = {"model": "m", "messages": [{"role": "user", "content": "x"}]}

    def texts(n: int) -> list[str]:
        _, _, raw = post(fake_llm, "/compatible-mode/v1/chat/completions", {**ask, "n": n})
        return [c["message"]["content"] for c in json.loads(raw)["choices"]]

    assert texts(1) == ["one"]
    assert texts(2) == ["two", "three"]
    assert texts(2) == ["default", "default"]
    assert [r.wire for r in fake_llm.requests] == ["openai-chat"] * 3


def test_dashscope_sse_format_incremental(fake_llm: FakeLLM) -> None:
    fake_llm.reply("abcdefghij")
    body = {
        "model": "qwen-coder-turbo",
        "input": {"messages": [{"role": "user", "content": "<|fim_prefix|>x"}]},
        "parameters": {"result_format": "message", "incremental_output": True},
    }
    status, _, raw = post(fake_llm, DASHSCOPE_PATH, body, {"X-DashScope-SSE": "enable"})
    text = raw.decode()
    assert status == 200
    assert "event:result" in text and ":HTTP_STATUS/200" in text and "\nid:2\n" in text
    events = [json.loads(d) for d in sse_data(raw)]
    choices = [e["output"]["choices"][0] for e in events]
    assert "".join(c["message"]["content"] for c in choices) == "abcdefghij"
    assert [c["finish_reason"] for c in choices][-2:] == ["null", "stop"]
    assert events[-1]["usage"]["output_tokens"] == estimate_tokens("abcdefghij")
    assert events[-1]["usage"]["input_tokens"] == estimate_tokens("<|fim_prefix|>x")
    assert fake_llm.requests[0].wire == "dashscope"


def test_dashscope_whole_text_format_and_cumulative_stream(fake_llm: FakeLLM) -> None:
    fake_llm.reply("abcdefghij")
    ask = {"model": "qwen-plus", "input": {"messages": [{"role": "user", "content": "hi"}]}}
    _, _, raw = post(fake_llm, DASHSCOPE_PATH, ask)
    answer = json.loads(raw)
    assert answer["output"] == {"finish_reason": "stop", "text": "abcdefghij"}
    assert set(answer["usage"]) == {"input_tokens", "output_tokens", "total_tokens"}
    assert answer["request_id"]

    _, _, raw = post(fake_llm, DASHSCOPE_PATH, ask, {"X-DashScope-SSE": "enable"})
    snapshots = [json.loads(d)["output"]["text"] for d in sse_data(raw)]
    assert snapshots[0] == "abcd" and snapshots[-1] == "abcdefghij"


def test_unknown_path_is_404_and_not_recorded(fake_llm: FakeLLM) -> None:
    status, _, _ = post(fake_llm, "/nope/v1/completions", {"model": "m", "prompt": "x"})
    assert status == 404
    assert fake_llm.requests == []


def test_status_fault_with_retry_after_applies_times(fake_llm: FakeLLM) -> None:
    fake_llm.fault("429", times=1, retry_after=3)
    ask = {"model": "m", "prompt": "x"}
    status, headers, raw = post(fake_llm, "/v1/completions", ask)
    assert status == 429
    assert headers["Retry-After"] == "3"
    assert json.loads(raw)["error"]["type"] == "rate_limit_error"
    status, _, _ = post(fake_llm, "/v1/completions", ask)
    assert status == 200
    assert len(fake_llm.requests) == 2


def test_refuse_closes_without_answer(fake_llm: FakeLLM) -> None:
    fake_llm.fault("refuse")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        post(fake_llm, "/v1/completions", {"model": "m", "prompt": "x"})


def test_malformed_and_truncated_streams(fake_llm: FakeLLM) -> None:
    ask = {"model": "m", "prompt": "x", "stream": True}
    fake_llm.fault("malformed", times=1)
    _, _, raw = post(fake_llm, "/v1/completions", ask)
    with pytest.raises(ValueError):
        [json.loads(d) for d in sse_data(raw) if d != "[DONE]"]
    fake_llm.fault("truncated-sse", times=1)
    _, _, raw = post(fake_llm, "/v1/completions", ask)
    data = sse_data(raw)
    assert "[DONE]" not in data
    assert all(json.loads(d)["choices"][0]["finish_reason"] is None for d in data)


def _raw_request(fake: FakeLLM, body: dict[str, Any]) -> socket.socket:
    payload = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", fake.port), timeout=5)
    sock.sendall(
        b"POST /v1/completions HTTP/1.1\r\nHost: fake\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return sock


def test_client_leaving_during_latency_counts_as_disconnect(fake_llm: FakeLLM) -> None:
    fake_llm.latency = 5
    sock = _raw_request(fake_llm, {"model": "m", "prompt": "x"})
    assert fake_llm.wait_for_requests(2)
    sock.close()
    assert fake_llm.wait_for_disconnect(2)
    assert fake_llm.disconnects == 1


def test_client_leaving_a_slow_stream_counts_as_disconnect(fake_llm: FakeLLM) -> None:
    fake_llm.reply("x" * 200)
    fake_llm.chunk_delay = 0.05
    sock = _raw_request(fake_llm, {"model": "m", "prompt": "x", "stream": True})
    assert sock.recv(100).startswith(b"HTTP/1.1 200")
    sock.close()
    assert fake_llm.wait_for_disconnect(2)


def test_hang_ends_when_the_fake_stops() -> None:
    fake = FakeLLM().start()
    fake.fault("hang")
    sock = _raw_request(fake, {"model": "m", "prompt": "x"})
    assert fake.wait_for_requests(2)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 3
    sock.settimeout(2)
    assert sock.recv(100) == b""  # closed without an answer
    sock.close()
    assert fake.disconnects == 0


def test_reset_clears_everything(fake_llm: FakeLLM) -> None:
    fake_llm.reply("custom")
    fake_llm.enqueue("queued")
    fake_llm.fault("500")
    fake_llm.latency = 1.0
    post(fake_llm, "/v1/completions", {"model": "m", "prompt": "x"})
    fake_llm.reset()
    assert fake_llm.requests == [] and fake_llm.disconnects == 0 and fake_llm.latency == 0
    _, _, raw = post(fake_llm, "/v1/completions", {"model": "m", "prompt": "x"})
    assert json.loads(raw)["choices"][0]["text"] == "fake completion"


def test_unknown_fault_kind_is_rejected(fake_llm: FakeLLM) -> None:
    with pytest.raises(ValueError):
        fake_llm.fault("explode")


def test_runs_as_a_process_with_control_api() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm_server", "--reply", "from cli"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])

        def call(method: str, path: str, body: Any = None) -> Any:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request(method, path, body=None if body is None else json.dumps(body))
                return json.loads(conn.getresponse().read())
            finally:
                conn.close()

        ask = {"model": "m", "prompt": "x"}
        assert call("POST", "/v1/completions", ask)["choices"][0]["text"] == "from cli"
        call("POST", "/_fake/enqueue", {"texts": ["queued"]})
        assert call("POST", "/v1/completions", ask)["choices"][0]["text"] == "queued"
        call("POST", "/_fake/fault", {"kind": "503", "times": 1})
        assert call("POST", "/v1/completions", ask)["error"]["type"] == "server_error"
        call("POST", "/_fake/reply", {"text": "new default"})
        call("POST", "/_fake/config", {"latency": 0.01, "chunk_delay": 0.01})
        assert call("POST", "/v1/completions", ask)["choices"][0]["text"] == "new default"
        recorded = call("GET", "/_fake/requests")
        assert len(recorded) == 4 and recorded[0]["wire"] == "openai-completions"
        call("POST", "/_fake/reset")
        assert call("GET", "/_fake/requests") == []
    finally:
        proc.terminate()
        returncode = proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
    assert returncode == 0
