"""A fake LLM HTTP server on 127.0.0.1 that speaks the OpenAI and DashScope wires, and the
self-hosted servers' own (Ollama, the llama.cpp server, vLLM) when told to be one (`server`).

Tests start it in-process (`FakeLLM`), editors and benchmarks run it as a separate process
(`python -m tests.fakes.llm_server`, which prints `READY <url>` and serves until killed). It
answers OpenAI chat and legacy completions (also under DashScope's `/compatible-mode/v1`) and
DashScope's native text-generation API, streamed or not, with scripted replies split into
several chunks; it records every request, counts clients that hang up before the answer is
complete, and injects faults (HTTP errors, hangs, malformed or truncated streams, dropped
connections). Only the standard library is used, and nothing listens beyond the loopback.

What each real endpoint does that a client can get wrong is mirrored, with its source:
- DashScope's native text-generation API reads `input.prompt` as a user turn (Model Studio's
  API reference documents no raw-prompt mode for it), so a FIM string sent there is answered
  with chat prose, HTTP 200. Its OpenAI-compatible `/compatible-mode/v1/completions` takes raw
  FIM prompts, documented (Model Studio "OpenAI compatible - Completions") for the Beijing
  region only and for qwen-coder-turbo(-latest, -0919) and qwen2.5-coder-*-instruct:
  `region` other than "beijing", or another model, gets an HTTP 400 saying so.
- Ollama (`server="ollama"`) answers `GET /api/version` (server/routes.go); its
  `/v1/completions` turns the request into a generate request without `raw` (openai/openai.go),
  so the model's template applies: with a `suffix` the Qwen templates render FIM, without one an
  instruct model reads the prompt as a user turn and answers prose; it has no `n` (one choice).
  `POST /api/generate` with `"raw": true` takes the prompt verbatim and streams JSON lines
  (docs/api.md).
- The llama.cpp server (`server="llamacpp"`) answers `GET /props` and `GET /health`, takes the
  raw prompt on `/v1/completions` and serves `POST /infill` with `input_prefix`, `input_suffix`
  and `input_extra` chunks of `{"filename", "text"}` (tools/server/README.md), streamed as
  server-sent events of `{"content", "stop"}`.
- vLLM (`server="vllm"`) answers `GET /version` and takes the raw prompt on `/v1/completions`
  (vllm/entrypoints/openai/api_server.py), `n` included.
- OpenAI's reasoning models (gpt-5*, o1/o3/o4*, and any name in `reasoning_models`) refuse
  `max_tokens`, a `temperature` or `top_p` other than the default, and `stop` with an HTTP 400
  `invalid_request_error` whose `code` is `unsupported_parameter` / `unsupported_value`
  (OpenAI API reference, reasoning models); the o-series knows no "minimal" effort.
- A prompt over `context_limit` tokens gets the HTTP 400 each server sends for it ("This
  model's maximum context length is ..." on the OpenAI wires, as vLLM and OpenAI word it;
  "Range of input length should be ..." on DashScope's native wire).
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
from collections.abc import Callable
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
COMPATIBLE_COMPLETIONS_PATH = "/compatible-mode/v1/completions"
OLLAMA_GENERATE_PATH = "/api/generate"
LLAMACPP_INFILL_PATH = "/infill"
SERVER_KINDS = ("any", "ollama", "llamacpp", "vllm")
# What an instruct model says when a FIM string reaches it as a user turn.
PROSE = "Sure! Here is the code that goes in the middle:\n"
# DashScope's documented FIM models on compatible-mode Completions (Beijing only).
_DASHSCOPE_FIM = re.compile(
    r"^(qwen-coder-turbo(-latest|-0919)?|qwen2\.5-coder-[0-9.]+b-instruct)$"
)
_REASONING = re.compile(r"^(gpt-5|o[1-9])([-.:_]|$)")
OPENAI_COMPLETIONS_PATHS = ("/v1/completions", "/compatible-mode/v1/completions")
DASHSCOPE_PATH = "/api/v1/services/aigc/text-generation/generation"

# Besides these, any three-digit HTTP status ("500", "404", "503", …) is a fault kind.
FAULT_KINDS = ("hang", "malformed", "disconnect", "truncated-sse", "refuse", "quota")

DEFAULT_REPLY = "fake completion"
CHUNK_CHARS = 4  # small enough that every reply is really streamed in several pieces
_POLL = 0.02
# Most characters between the text before the cursor and the text after it in a prompt (a FIM
# token, a chat template's cursor mark): answer_holes() looks for them this close.
_CURSOR_MARK = 200  # seconds between checks for a vanished client while the fake waits

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
    if wire == "llamacpp-infill":
        extra = source.get("input_extra") or []
        chunks = [str(c.get("text", "")) for c in extra if isinstance(c, dict)]
        return "".join(
            [*chunks, str(source.get("input_prefix", "")), str(source.get("input_suffix", ""))]
        )
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
    if path == OLLAMA_GENERATE_PATH:
        return "ollama-generate"
    if path == LLAMACPP_INFILL_PATH:
        return "llamacpp-infill"
    return None


class FakeLLM:
    """A scripted LLM endpoint on 127.0.0.1 for tests, benchmarks and editor sessions.

    Replies: `reply()` sets the default text; `enqueue()` queues texts that the next generated
    candidates take in order (a request for n candidates takes n of them), then the default
    applies again. `fault(kind, times)` makes the next `times` requests fail (None: until
    `clear_faults()`). `latency` delays the first byte, `chunk_delay` paces streamed chunks.
    `served_models` (None: any) are the models it has; a request for another is a 404.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        reply: str = DEFAULT_REPLY,
        latency: float = 0.0,
        chunk_delay: float = 0.0,
        server: str = "any",
    ) -> None:
        if server not in SERVER_KINDS:
            raise ValueError(f"unknown server {server!r}: one of {SERVER_KINDS}")
        # Which self-hosted server to be ("any": none of their own endpoints, every wire).
        self.server = server
        self.region = "beijing"  # DashScope's region this host plays
        self.context_limit: int | None = None  # tokens; longer prompts get a 400
        self.reasoning_models: set[str] = set()  # more names that behave as reasoning models
        self.gets: list[str] = []  # paths of the GETs that say which server this is
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
        self._holes: list[dict[str, str]] = []  # answer_holes()
        self._noisy: frozenset[str] = frozenset()
        # Seconds each answered request took inside the fake, from its body read to its last
        # byte written: benchmarks subtract it to get the time spent outside the backend.
        self.service_times: list[float] = []
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.served_models: set[str] | None = None
        # A model without JSON mode: `response_format` is refused with OpenAI's 400 for it.
        self.json_mode_refused = False
        # A test's stand-in for a model's judgement (not a behaviour of any server): given a
        # request's body, the text to answer, or None for the scripted replies above.
        self.responder: Callable[[dict[str, Any]], str | None] | None = None

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

    def answer_holes(self, table: list[dict[str, str]], *, noisy: tuple[str, ...] = ()) -> None:
        """Answer like a model that knows the code: a prompt holding an entry's `before` (the
        text right before a hole) and `after` (right after it) gets the entry's `answer`,
        the middle a fill-in-the-middle model generates between prefix and suffix (Qwen2.5-
        Coder's README, "fill in the middle"; OpenAI's legacy completions with `suffix`). A
        model named in `noisy` gets every second entry's answer with its last third cut off.
        Prompts matching no entry get the default reply."""
        with self._lock:
            self._holes = [dict(entry) for entry in table]
            self._noisy = frozenset(noisy)

    def _hole_answer(self, prompt: str, model: str) -> str | None:
        """The answer of the entry whose `before` and `after` stand closest in the prompt
        with something other than the entry's own answer between them: the cursor's (the
        other holes of the file stand in the prefix and suffix with their text in place)."""
        with self._lock:
            holes, noisy = self._holes, model in self._noisy
        best: tuple[int, int] | None = None  # (gap between before and after, entry)
        for index, entry in enumerate(holes):
            before, after = entry["before"], entry["after"]
            start = prompt.find(before)
            while start >= 0:
                end = start + len(before)
                gap = prompt.find(after, end) - end
                cursor = 0 <= gap <= _CURSOR_MARK and prompt[end : end + gap] != entry["answer"]
                if cursor and (best is None or gap < best[0]):
                    best = (gap, index)
                start = prompt.find(before, start + 1)
        if best is None:
            return None
        answer = holes[best[1]]["answer"]
        if noisy and best[1] % 2 == 1:
            answer = answer[: len(answer) - max(len(answer) // 3, 1)]
        return answer

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
            self._holes = []
            self._noisy = frozenset()
            self._requests.clear()
            self._disconnects = 0
            self.service_times.clear()
            self.latency = 0.0
            self.chunk_delay = 0.0
            self.gets.clear()

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

    def _take_texts(self, n: int, body: dict[str, Any] | None = None) -> list[str]:
        responder = self.responder
        if responder is not None and body is not None:
            answered = responder(body)
            if answered is not None:
                return [answered] * n
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
            elif action == "answer_holes":
                self.answer_holes(list(data["table"]), noisy=tuple(data.get("noisy", ())))
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
        if method == "GET" and self._identify(path):
            return
        wire = _wire_for(path)
        if wire in ("ollama-generate", "llamacpp-infill") and not self._serves(wire):
            wire = None
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
        refused = self._refusal(path, wire, body)
        if refused:
            self._send_error_status(400, wire, refused[0], code=refused[1])
            return
        served = self.fake.served_models
        if served is not None and body["model"] not in served:
            # Ollama answers a model it has not pulled with 404 and this message on its
            # OpenAI-compatible routes (server/routes.go: "model %q not found, try pulling it
            # first"; openai/openai.go wraps it in an OpenAI error object); vLLM also answers
            # 404 (vllm/entrypoints/openai/serving_engine.py, _check_model: NotFoundError).
            message = f'model "{body["model"]}" not found, try pulling it first'
            self._send_error_status(404, wire, message)
            return
        self._answer(wire, body, stream)
        self.fake.service_times.append(time.perf_counter() - self._started)

    def _identify(self, path: str) -> bool:
        """Answer the GETs each server is recognised by; False: not one of them here."""
        kind = self.fake.server
        answers = {
            # ollama server/routes.go: GET /api/version
            ("ollama", "/api/version"): {"version": "0.12.6"},
            # llama.cpp tools/server: GET /props, GET /health
            ("llamacpp", "/props"): {
                "default_generation_settings": {"n_ctx": 8192},
                "total_slots": 1,
                "model_path": "qwen2.5-coder-7b-q8_0.gguf",
            },
            ("llamacpp", "/health"): {"status": "ok"},
            # vllm entrypoints/openai/api_server.py: GET /version
            ("vllm", "/version"): {"version": "0.11.0"},
        }
        payload = answers.get((kind, path))
        if path in ("/api/version", "/props", "/health", "/version"):
            with self.fake._lock:
                self.fake.gets.append(path)
            if payload is None:
                self._send_json(404, {"error": "not found"})
                return True
            self._send_json(200, payload)
            return True
        return False

    def _serves(self, wire: str) -> bool:
        kind = self.fake.server
        return (wire, kind) in (("ollama-generate", "ollama"), ("llamacpp-infill", "llamacpp"))

    def _refusal(self, path: str, wire: str, body: dict[str, Any]) -> tuple[str, str] | None:
        """(message, code) of the HTTP 400 a real server sends for this request, if any."""
        fake = self.fake
        model = str(body.get("model") or "")
        if path == COMPATIBLE_COMPLETIONS_PATH and (
            fake.region != "beijing" or not _DASHSCOPE_FIM.match(model)
        ):
            return (
                f"The model `{model}` does not support the completions API in this region",
                "model_not_supported",
            )
        if fake.context_limit is not None:
            tokens = estimate_tokens(_input_text(body, wire))
            if tokens > fake.context_limit:
                if wire == "dashscope":
                    return (
                        f"Range of input length should be [1, {fake.context_limit}]",
                        "InvalidParameter",
                    )
                return (
                    f"This model's maximum context length is {fake.context_limit} tokens. "
                    f"However, you requested {tokens} tokens in the messages.",
                    "context_length_exceeded",
                )
        if fake.json_mode_refused and wire == "openai-chat" and "response_format" in body:
            # OpenAI's answer for a model without JSON mode (error code reference:
            # invalid_request_error, param "response_format")
            return (
                "Invalid parameter: 'response_format' of type 'json_object' is not supported "
                "with this model.",
                "invalid_request_error",
            )
        if wire == "openai-chat" and (_REASONING.match(model) or model in fake.reasoning_models):
            if "max_tokens" in body:
                return (
                    "Unsupported parameter: 'max_tokens' is not supported with this model. "
                    "Use 'max_completion_tokens' instead.",
                    "unsupported_parameter",
                )
            for name in ("temperature", "top_p"):
                if name in body and body[name] != 1:
                    return (
                        f"Unsupported value: '{name}' does not support {body[name]} with this "
                        "model. Only the default (1) value is supported.",
                        "unsupported_value",
                    )
            if "stop" in body:
                return (
                    "Unsupported parameter: 'stop' is not supported with this model.",
                    "unsupported_parameter",
                )
            effort = body.get("reasoning_effort")
            if effort == "minimal" and not model.startswith("gpt-5"):
                return (
                    "Unsupported value: 'reasoning_effort' does not support 'minimal' with "
                    "this model. Supported values are: 'low', 'medium', and 'high'.",
                    "unsupported_value",
                )
        return None

    @staticmethod
    def _wants_stream(wire: str, body: Any, headers: dict[str, str]) -> bool:
        if not isinstance(body, dict):
            return False
        if wire in ("ollama-generate", "llamacpp-infill"):
            return body.get("stream", True) is not False
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
        if wire != "llamacpp-infill" and (
            not isinstance(body.get("model"), str) or not body["model"]
        ):
            return "model is required"  # llama.cpp serves the one model it loaded
        if wire == "dashscope":
            data = body.get("input")
            if not isinstance(data, dict) or not (data.get("prompt") or data.get("messages")):
                return "input.prompt or input.messages is required"
        elif wire == "openai-chat":
            if not isinstance(body.get("messages"), list) or not body["messages"]:
                return "messages is required"
        elif wire == "llamacpp-infill":
            extra = body.get("input_extra", [])
            if not isinstance(extra, list) or not all(
                isinstance(c, dict)
                and isinstance(c.get("filename"), str)
                and isinstance(c.get("text"), str)
                for c in extra
            ):
                return '"input_extra" must be an array of {"filename": string, "text": string}'
            return None
        elif wire == "openai-completions" and body.get("prompt") is None:
            return "prompt is required"
        return None

    def _send_error_status(
        self,
        status: int,
        wire: str,
        message: str,
        retry_after: float | None = None,
        *,
        code: str | None = None,
    ) -> None:
        headers = {}
        if status == 429:
            headers["Retry-After"] = f"{1 if retry_after is None else retry_after:g}"
        if wire == "ollama-generate":
            payload: dict[str, Any] = {"error": message}  # ollama api/types.go StatusError
        elif wire == "llamacpp-infill":
            payload = {
                "error": {"code": status, "message": message, "type": "invalid_request_error"}
            }
        elif wire == "dashscope":
            code = code or _DASHSCOPE_CODES.get(
                status, "InternalError" if status >= 500 else "BadRequest"
            )
            payload = {
                "code": code,
                "message": message,
                "request_id": self._request_id,
            }
        else:
            kind = _OPENAI_TYPES.get(
                status, "server_error" if status >= 500 else "invalid_request_error"
            )
            payload = {
                "error": {
                    "message": message,
                    "type": kind,
                    "param": None,
                    "code": code or str(status),
                }
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
        if fake.server in ("ollama", "llamacpp"):
            n = 1  # no `n` there: one choice, index 0, whatever was asked
        texts = fake._take_texts(n, body)
        model = str(body.get("model") or "loaded-model")
        prompt = _input_text(body, wire)
        known = fake._hole_answer(prompt, model) if fake._holes else None
        if known is not None:
            texts = [known] * n
        if self._as_user_turn(wire, body):
            texts = [PROSE + "```\n" + t + "\n```" for t in texts]
        input_tokens = estimate_tokens(prompt)
        if wire in ("ollama-generate", "llamacpp-infill"):
            builder: Any = _NativeAnswer(wire, texts[0], model, input_tokens)
            self._stream(builder.events(), builder.final_events(), kind)
            return
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

    def _as_user_turn(self, wire: str, body: dict[str, Any]) -> bool:
        """Whether the server wraps the prompt into a chat turn, so an instruct model answers
        prose: DashScope's native `input.prompt`; Ollama's `/v1/completions` without a
        `suffix` and `/api/generate` without `raw`, for a model whose tag is not a base one."""
        if wire == "dashscope":
            return isinstance((body.get("input") or {}).get("prompt"), str)
        if self.fake.server != "ollama" or "base" in str(body.get("model")):
            return False
        if wire == "openai-completions":
            return not body.get("suffix")
        return wire == "ollama-generate" and body.get("raw") is not True

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


class _NativeAnswer:
    """Ollama `/api/generate` JSON lines (docs/api.md) or llama.cpp `/infill` server-sent
    events (tools/server/README.md), one candidate."""

    def __init__(self, wire: str, text: str, model: str, input_tokens: int) -> None:
        self.ollama = wire == "ollama-generate"
        self.text = text
        self.model = model
        self.input_tokens = input_tokens

    def _line(self, payload: dict[str, Any]) -> str:
        data = json.dumps(payload, ensure_ascii=False)
        return data + "\n" if self.ollama else f"data: {data}\n\n"

    def events(self) -> list[str]:
        if self.ollama:
            return [
                self._line({"model": self.model, "response": p, "done": False})
                for p in _pieces(self.text)
            ]
        return [self._line({"content": p, "stop": False, "index": 0}) for p in _pieces(self.text)]

    def final_events(self) -> list[str]:
        output = estimate_tokens(self.text)
        if self.ollama:
            return [
                self._line(
                    {
                        "model": self.model,
                        "response": "",
                        "done": True,
                        "done_reason": "stop",
                        "prompt_eval_count": self.input_tokens,
                        "eval_count": output,
                    }
                )
            ]
        return [
            self._line(
                {
                    "content": "",
                    "stop": True,
                    "index": 0,
                    "tokens_evaluated": self.input_tokens,
                    "tokens_predicted": output,
                }
            )
        ]


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
