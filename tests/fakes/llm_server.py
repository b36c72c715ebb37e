"""A fake LLM HTTP server on 127.0.0.1 that speaks the OpenAI and DashScope wires.

Tests start it in-process (`FakeLLM`), editors and benchmarks run it as a separate process
(`python -m tests.fakes.llm_server`, which prints `READY <url>` and serves until killed). It
answers OpenAI chat and legacy completions (also under DashScope's `/compatible-mode/v1`) and
DashScope's native text-generation API, streamed or not, with scripted replies split into
several chunks; it records every request, counts clients that hang up before the answer is
complete, and injects faults (HTTP errors, hangs, malformed or truncated streams, dropped
connections). Only the standard library is used, and nothing listens beyond the loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import select
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "DASHSCOPE_PATH",
    "FAULT_KINDS",
    "FakeLLM",
    "RecordedRequest",
    "estimate_tokens",
    "main",
]

OPENAI_CHAT_PATHS = ("/v1/chat/completions", "/compatible-mode/v1/chat/completions")
OPENAI_COMPLETIONS_PATHS = ("/v1/completions", "/compatible-mode/v1/completions")
DASHSCOPE_PATH = "/api/v1/services/aigc/text-generation/generation"

# Besides these, any three-digit HTTP status ("500", "404", "503", …) is a fault kind.
FAULT_KINDS = ("hang", "malformed", "disconnect", "truncated-sse", "refuse", "quota")

DEFAULT_REPLY = "fake completion"
CHUNK_CHARS = 4  # small enough that every reply is really streamed in several pieces
_POLL = 0.02  # seconds between checks for a vanished client while the fake waits

_STATUS_RE = re.compile(r"^[1-5][0-9][0-9]$")

# DashScope's own error codes, so both of its SDK generations classify the errors as they
# would classify the real service's.
_DASHSCOPE_CODES = {
    400: "InvalidParameter",
    401: "InvalidApiKey",
    403: "AccessDenied",
    404: "NotFound",
    429: "Throttling.RateQuota",
    500: "InternalError",
    503: "ServiceUnavailable",
}
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received; `headers` keys are lower-case."""

    path: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body, or None when it was not JSON
    wire: str  # "openai-chat" | "openai-completions" | "dashscope"
    stream: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Fault:
    kind: str
    remaining: int | None  # None: until cleared
    retry_after: float | None


def estimate_tokens(text: str) -> int:
    """The fake's deterministic token count: about four characters per token."""
    return len(text) // 4 + 1


def _pieces(text: str) -> list[str]:
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)] or [""]


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    return ""


def _input_text(body: dict[str, Any], wire: str) -> str:
    source = body.get("input") if wire == "dashscope" else body
    if not isinstance(source, dict):
        return ""
    prompt = source.get("prompt")
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        return "".join(p for p in prompt if isinstance(p, str))
    messages = source.get("messages")
    if isinstance(messages, list):
        return "".join(_message_text(m.get("content")) for m in messages if isinstance(m, dict))
    return ""


def _wire_for(path: str) -> str | None:
    if path in OPENAI_CHAT_PATHS:
        return "openai-chat"
    if path in OPENAI_COMPLETIONS_PATHS:
        return "openai-completions"
    if path == DASHSCOPE_PATH:
        return "dashscope"
    return None


class FakeLLM:
    """A scripted LLM endpoint on 127.0.0.1 for tests, benchmarks and editor sessions.

    Replies: `reply()` sets the default text; `enqueue()` queues texts that the next generated
    candidates take in order (a request for n candidates takes n of them), then the default
    applies again. `fault(kind, times)` makes the next `times` requests fail (None: until
    `clear_faults()`). `latency` delays the first byte, `chunk_delay` paces streamed chunks.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        reply: str = DEFAULT_REPLY,
        latency: float = 0.0,
        chunk_delay: float = 0.0,
    ) -> None:
        self._requested_port = port
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._default_reply = reply
        self._queue: deque[str] = deque()
        self._fault: _Fault | None = None
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0
        # Seconds each answered request took inside the fake, from its body read to its last
        # byte written: benchmarks subtract it to get the time spent outside the backend.
        self.service_times: list[float] = []
        self.latency = latency
        self.chunk_delay = chunk_delay

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeLLM:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._requested_port), _Handler)
        server.fake = self
        self._server = server
        # A short poll interval keeps stop() quick.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeLLM:{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        # Idle keep-alive connections and hanging answers hold handler threads: wake them.
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeLLM is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def dashscope_base_url(self) -> str:
        """The DashScope native API base, as `base_url` / `DASHSCOPE_HTTP_BASE_URL` take it."""
        return self.url + "/api/v1"

    @property
    def compatible_base_url(self) -> str:
        """DashScope's OpenAI-compatible mode base."""
        return self.url + "/compatible-mode/v1"

    # -- scripting -----------------------------------------------------------------------

    def reply(self, text: str) -> None:
        with self._lock:
            self._default_reply = text

    def enqueue(self, *texts: str) -> None:
        with self._lock:
            self._queue.extend(texts)

    def fault(self, kind: str, times: int | None = None, retry_after: float | None = None) -> None:
        kind = str(kind)
        if kind not in FAULT_KINDS and not _STATUS_RE.match(kind):
            raise ValueError(f"unknown fault {kind!r}: use an HTTP status or one of {FAULT_KINDS}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for until cleared)")
        with self._lock:
            self._fault = _Fault(kind, times, retry_after)

    def clear_faults(self) -> None:
        with self._lock:
            self._fault = None

    def reset(self) -> None:
        """Back to a fresh fake: default reply, no queue, no fault, no delays, empty log."""
        with self._lock:
            self._default_reply = DEFAULT_REPLY
            self._queue.clear()
            self._fault = None
            self._requests.clear()
            self._disconnects = 0
            self.service_times.clear()
            self.latency = 0.0
            self.chunk_delay = 0.0

    # -- observation ---------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def disconnects(self) -> int:
        with self._lock:
            return self._disconnects

    def wait_for_disconnect(self, timeout: float = 5.0, *, count: int = 1) -> bool:
        """Wait until at least `count` answers were abandoned by their client."""
        with self._changed:
            return self._changed.wait_for(lambda: self._disconnects >= count, timeout)

    def wait_for_requests(self, timeout: float = 5.0, *, count: int = 1) -> bool:
        """Wait until at least `count` model requests have arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._requests) >= count, timeout)

    # -- used by the handler -------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()

    def _note_disconnect(self) -> None:
        with self._changed:
            self._disconnects += 1
            self._changed.notify_all()

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            fault = self._fault
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._fault = None
            return _Fault(fault.kind, None, fault.retry_after)

    def _take_texts(self, n: int) -> list[str]:
        with self._lock:
            return [self._queue.popleft() if self._queue else self._default_reply for _ in range(n)]

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _control(self, method: str, action: str, payload: Any) -> tuple[int, Any]:
        """The HTTP control API of a fake running in another process."""
        data = payload if isinstance(payload, dict) else {}
        try:
            if method == "GET" and action == "requests":
                return 200, [r.to_json() for r in self.requests]
            if method == "GET" and action == "stats":
                return 200, {"requests": len(self.requests), "disconnects": self.disconnects}
            if method != "POST":
                return 405, {"error": "use POST"}
            if action == "reply":
                self.reply(str(data["text"]))
            elif action == "enqueue":
                self.enqueue(*(str(t) for t in data["texts"]))
            elif action == "fault":
                self.fault(str(data["kind"]), data.get("times"), data.get("retry_after"))
            elif action == "clear_faults":
                self.clear_faults()
            elif action == "config":
                if data.get("latency") is not None:
                    self.latency = float(data["latency"])
                if data.get("chunk_delay") is not None:
                    self.chunk_delay = float(data["chunk_delay"])
            elif action == "reset":
                self.reset()
            else:
                return 404, {"error": f"unknown control action {action!r}"}
        except (KeyError, TypeError, ValueError) as exc:
            return 400, {"error": f"bad control request: {exc}"}
        return 200, {"ok": True}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeLLM

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients resetting connections is routine here, not worth a traceback on stderr.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streaming, as real endpoints do
    server_version = "FakeLLM/1.0"
    server: _Server

    # -- plumbing ------------------------------------------------------------------------

    # Real endpoints (uvicorn, nginx) turn Nagle's algorithm off; with it on, the fake's small
    # streamed writes wait for the client's delayed ACK, 40 ms each, which no real server costs.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, True)

    def finish(self) -> None:
        self.server.fake._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        # Quiet: stdout carries READY and stderr belongs to whoever runs the fake.
        pass

    @property
    def fake(self) -> FakeLLM:
        return self.server.fake

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._send_raw(status, body, "application/json", headers)

    def _send_raw(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        *,
        declared_length: int | None = None,
    ) -> bool:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header(
                "Content-Length", str(len(body) if declared_length is None else declared_length)
            )
            self.send_header("X-Request-Id", self._request_id)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
            return True
        except OSError:
            self._client_gone()
            return False

    def _drop_connection(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _client_gone(self) -> None:
        self.close_connection = True
        if not self._gone:
            self._gone = True
            self.fake._note_disconnect()

    def _wait(self, seconds: float | None) -> str:
        """Wait `seconds` (None: forever) watching the socket: "done", "gone" or "stopping"."""
        deadline = None if seconds is None else time.monotonic() + seconds
        sock = self.connection
        # poll() where there is one: select() cannot watch descriptors above FD_SETSIZE.
        poller = select.poll() if hasattr(select, "poll") else None
        if poller is not None:
            poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
        while True:
            if self.fake._stopping.is_set():
                return "stopping"
            step = _POLL if deadline is None else min(_POLL, deadline - time.monotonic())
            if step <= 0:
                return "done"
            try:
                if poller is not None:
                    readable = bool(poller.poll(step * 1000))
                else:
                    readable = bool(select.select([sock], [], [], step)[0])
                # A readable socket with nothing to peek at is a client that hung up.
                hung_up = readable and not sock.recv(1, socket.MSG_PEEK)
            except (OSError, ValueError):
                hung_up = True
            if hung_up:
                # stop() shuts sockets down too: that is not the client leaving.
                if self.fake._stopping.is_set():
                    return "stopping"
                self._client_gone()
                return "gone"
            if readable:
                time.sleep(step)  # pipelined bytes, not a hang-up: do not spin on them

    # -- routing -------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        self._started = time.perf_counter()
        self._gone = False
        self._request_id = str(uuid.uuid4())
        path = self.path.split("?", 1)[0]
        raw = self._read_body() if method == "POST" else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if path.startswith("/_fake/"):
            status, payload = self.fake._control(method, path[len("/_fake/") :], body)
            self._send_json(status, payload)
            return
        wire = _wire_for(path)
        if wire is None:
            self._send_error_status(
                404, "dashscope" if "/api/" in path else "openai-chat", "no such endpoint"
            )
            return
        if method != "POST":
            self._send_error_status(405, wire, "method not allowed")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        stream = self._wants_stream(wire, body, headers)
        self.fake._record(RecordedRequest(path, headers, body, wire, stream))
        problem = self._validate(wire, body)
        if problem:
            self._send_error_status(400, wire, problem)
            return
        assert isinstance(body, dict)
        self._answer(wire, body, stream)
        self.fake.service_times.append(time.perf_counter() - self._started)

    @staticmethod
    def _wants_stream(wire: str, body: Any, headers: dict[str, str]) -> bool:
        if not isinstance(body, dict):
            return False
        if wire != "dashscope":
            return body.get("stream") is True
        params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        return (
            headers.get("x-dashscope-sse", "").lower() == "enable"
            or params.get("stream") is True
            or params.get("incremental_output") is True
        )

    @staticmethod
    def _validate(wire: str, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "the body is not a JSON object"
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "model is required"
        if wire == "dashscope":
            data = body.get("input")
            if not isinstance(data, dict) or not (data.get("prompt") or data.get("messages")):
                return "input.prompt or input.messages is required"
        elif wire == "openai-chat":
            if not isinstance(body.get("messages"), list) or not body["messages"]:
                return "messages is required"
        elif body.get("prompt") is None:
            return "prompt is required"
        return None

    def _send_error_status(
        self, status: int, wire: str, message: str, retry_after: float | None = None
    ) -> None:
        headers = {}
        if status == 429:
            headers["Retry-After"] = f"{1 if retry_after is None else retry_after:g}"
        if wire == "dashscope":
            code = _DASHSCOPE_CODES.get(status, "InternalError" if status >= 500 else "BadRequest")
            payload: dict[str, Any] = {
                "code": code,
                "message": message,
                "request_id": self._request_id,
            }
        else:
            kind = _OPENAI_TYPES.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            )
            payload = {
                "error": {"message": message, "type": kind, "param": None, "code": str(status)}
            }
        self._send_json(status, payload, headers)

    def _send_quota_exhausted(self, wire: str) -> None:
        """An account out of credit. OpenAI answers 429 with type and code
        `insufficient_quota` ("You exceeded your current quota, please check your plan and
        billing details", its error-codes guide); DashScope answers HTTP 400 with code
        `Arrearage` ("Access denied, please make sure your account is in good standing", its
        error code reference). Neither sends Retry-After: waiting does not help."""
        if wire == "dashscope":
            message = "Access denied, please make sure your account is in good standing."
            payload: dict[str, Any] = {
                "code": "Arrearage",
                "message": message,
                "request_id": self._request_id,
            }
            self._send_json(400, payload)
            return
        message = "You exceeded your current quota, please check your plan and billing details."
        error = {"message": message, "type": "insufficient_quota", "param": None}
        self._send_json(429, {"error": {**error, "code": "insufficient_quota"}})

    # -- answers -------------------------------------------------------------------------

    def _answer(self, wire: str, body: dict[str, Any], stream: bool) -> None:
        fake = self.fake
        fault = fake._take_fault()
        kind = fault.kind if fault else None
        if kind == "refuse":
            self._drop_connection()
            return
        if kind == "quota":
            self._send_quota_exhausted(wire)
            return
        if kind == "hang":
            self._wait(None)
            self._drop_connection()
            return
        if fake.latency > 0 and self._wait(fake.latency) != "done":
            self._drop_connection()
            return
        if kind is not None and _STATUS_RE.match(kind):
            status = int(kind)
            message = f"fault injected: HTTP {status}"
            if status == 401:
                # Echo the key, as careless servers do, so tests can check that clients never
                # repeat an error message verbatim.
                message += f"; incorrect API key: {self.headers.get('Authorization', '')}"
            self._send_error_status(status, wire, message, fault.retry_after)
            return
        n = body.get("n") if wire != "dashscope" else (body.get("parameters") or {}).get("n")
        n = n if isinstance(n, int) and 1 <= n <= 8 else 1
        texts = fake._take_texts(n)
        model = body["model"]
        input_tokens = estimate_tokens(_input_text(body, wire))
        if wire == "dashscope":
            params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
            builder = _DashScopeAnswer(texts, params, input_tokens, self._request_id)
        else:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            builder = _OpenAIAnswer(wire, texts, model, input_tokens, include_usage)
        if stream:
            self._stream(builder.events(), builder.final_events(), kind)
        else:
            self._whole(builder.whole(), kind)

    def _whole(self, payload: dict[str, Any], kind: str | None) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if kind == "malformed":
            self._send_raw(200, b'{"output": {"choices": [', "application/json")
        elif kind == "truncated-sse":
            self._send_raw(200, body[: len(body) // 2], "application/json")
        elif kind == "disconnect":
            # Promise the whole body, deliver half, hang up.
            if self._send_raw(
                200, body[: len(body) // 2], "application/json", declared_length=len(body)
            ):
                self._drop_connection()
        else:
            self._send_raw(200, body, "application/json")

    def _stream(self, events: list[str], final: list[str], kind: str | None) -> None:
        if kind == "malformed":
            events = [*events[:1], 'data: {"choices": [{"delta": \n\n', *events[1:]]
        elif kind == "truncated-sse":
            final = []
        elif kind == "disconnect":
            events = events[: max(1, (len(events) + 1) // 2)]
            final = []
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Request-Id", self._request_id)
            self.end_headers()
        except OSError:
            self._client_gone()
            return
        for index, event in enumerate(events):
            if index and self.fake.chunk_delay > 0 and self._wait(self.fake.chunk_delay) != "done":
                self._drop_connection()
                return
            if not self._write_chunk(event.encode("utf-8")):
                return
        if kind == "disconnect":
            self._drop_connection()
            return
        if final and self.fake.chunk_delay > 0 and self._wait(self.fake.chunk_delay) != "done":
            self._drop_connection()
            return
        # The last events and the end of the chunked body go out in one write, so a client
        # that hangs up right after reading them is never mistaken for one that left early.
        self._write_chunk("".join(final).encode("utf-8"), last=True)

    def _write_chunk(self, data: bytes, *, last: bool = False) -> bool:
        frame = f"{len(data):X}\r\n".encode() + data + b"\r\n" if data else b""
        if last:
            frame += b"0\r\n\r\n"
        try:
            self.wfile.write(frame)
            return True
        except OSError:
            self._client_gone()
            return False


class _OpenAIAnswer:
    """OpenAI chat or legacy completions bodies and stream events for the given texts."""

    def __init__(
        self, wire: str, texts: list[str], model: str, input_tokens: int, include_usage: bool
    ) -> None:
        self.chat = wire == "openai-chat"
        self.texts = texts
        self.model = model
        self.input_tokens = input_tokens
        self.include_usage = include_usage
        self.id = ("chatcmpl-" if self.chat else "cmpl-") + uuid.uuid4().hex[:24]
        self.created = int(time.time())
        self.object = "chat.completion" if self.chat else "text_completion"

    def _usage(self) -> dict[str, int]:
        output = sum(estimate_tokens(t) for t in self.texts)
        return {
            "prompt_tokens": self.input_tokens,
            "completion_tokens": output,
            "total_tokens": self.input_tokens + output,
        }

    def whole(self) -> dict[str, Any]:
        choices = []
        for index, text in enumerate(self.texts):
            if self.chat:
                choice = {"index": index, "message": {"role": "assistant", "content": text}}
            else:
                choice = {"index": index, "text": text}
            choices.append({**choice, "logprobs": None, "finish_reason": "stop"})
        return {
            "id": self.id,
            "object": self.object,
            "created": self.created,
            "model": self.model,
            "choices": choices,
            "usage": self._usage(),
        }

    def _event(self, choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> str:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk" if self.chat else "text_completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if self.include_usage:
            chunk["usage"] = usage
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    def _choice(self, index: int, piece: str | None, finish: str | None) -> dict[str, Any]:
        if self.chat:
            delta: dict[str, Any] = {} if piece is None else {"content": piece}
            return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {"index": index, "text": piece or "", "logprobs": None, "finish_reason": finish}

    def events(self) -> list[str]:
        out = []
        if self.chat:
            roles = [
                {
                    "index": i,
                    "delta": {"role": "assistant", "content": ""},
                    "logprobs": None,
                    "finish_reason": None,
                }
                for i in range(len(self.texts))
            ]
            out.append(self._event(roles))
        # Candidates interleave, as real servers send them, so clients must assemble by index.
        split = [_pieces(t) for t in self.texts]
        for step in range(max(len(p) for p in split)):
            for index, pieces in enumerate(split):
                if step < len(pieces):
                    out.append(self._event([self._choice(index, pieces[step], None)]))
        return out

    def final_events(self) -> list[str]:
        out = [self._event([self._choice(i, None, "stop")]) for i in range(len(self.texts))]
        if self.include_usage:
            out.append(self._event([], self._usage()))
        out.append("data: [DONE]\n\n")
        return out


class _DashScopeAnswer:
    """DashScope native bodies and SSE events (`id:`, `event:result`, `:HTTP_STATUS/200`)."""

    def __init__(
        self, texts: list[str], params: dict[str, Any], input_tokens: int, request_id: str
    ) -> None:
        self.texts = texts
        self.message_format = params.get("result_format") == "message"
        # DashScope streams cumulative snapshots unless incremental_output is set.
        self.incremental = params.get("incremental_output") is True
        self.input_tokens = input_tokens
        self.request_id = request_id
        self._seq = 0

    def _usage(self, output_tokens: int) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": self.input_tokens + output_tokens,
        }

    def _output(self, contents: list[tuple[int, str]], finish: str) -> dict[str, Any]:
        if self.message_format:
            return {
                "choices": [
                    {
                        "finish_reason": finish,
                        "index": index,
                        "message": {"role": "assistant", "content": content},
                    }
                    for index, content in contents
                ]
            }
        return {"finish_reason": finish, "text": contents[0][1] if contents else ""}

    def whole(self) -> dict[str, Any]:
        return {
            "output": self._output(list(enumerate(self.texts)), "stop"),
            "usage": self._usage(sum(estimate_tokens(t) for t in self.texts)),
            "request_id": self.request_id,
        }

    def _event(self, output: dict[str, Any], output_tokens: int) -> str:
        self._seq += 1
        payload = {
            "output": output,
            "usage": self._usage(output_tokens),
            "request_id": self.request_id,
        }
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return f"id:{self._seq}\nevent:result\n:HTTP_STATUS/200\ndata:{data}\n\n"

    def events(self) -> list[str]:
        out = []
        # Text format has no choice index, so it can only carry the first candidate.
        texts = self.texts if self.message_format else self.texts[:1]
        split = [_pieces(t) for t in texts]
        sent = ["" for _ in texts]
        for step in range(max(len(p) for p in split)):
            for index, pieces in enumerate(split):
                if step < len(pieces):
                    sent[index] += pieces[step]
                    content = pieces[step] if self.incremental else sent[index]
                    tokens = sum(estimate_tokens(s) for s in sent)
                    # The real service spells an unfinished choice's finish_reason "null".
                    out.append(self._event(self._output([(index, content)], "null"), tokens))
        return out

    def final_events(self) -> list[str]:
        texts = self.texts if self.message_format else self.texts[:1]
        tokens = sum(estimate_tokens(t) for t in texts)
        return [
            self._event(self._output([(i, "" if self.incremental else t)], "stop"), tokens)
            for i, t in enumerate(texts)
        ]


def main(argv: list[str] | None = None) -> int:
    """Run the fake as its own process until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.llm_server",
        description="Fake OpenAI/DashScope LLM server on 127.0.0.1 (control API under /_fake/).",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--reply", default=DEFAULT_REPLY, help="default reply text")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before the first byte")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between chunks")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    fake = FakeLLM(args.port, reply=args.reply, latency=args.latency, chunk_delay=args.chunk_delay)
    fake.start()
    print(f"READY {fake.url}", flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
