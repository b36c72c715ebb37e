"""OpenAI and OpenAI-compatible endpoints: OpenAI, vLLM, Ollama, llama.cpp, DashScope compat mode.

Built on the `openai` SDK (3.x, itself on httpx2), imported the first time a request is made so
that starting the language server does not pay for it. A request with a raw `prompt` (FIM) goes
the way the server takes it verbatim: vLLM and other servers on the legacy completions
endpoint; Ollama on its `/api/generate` with `raw: true` and the llama.cpp server on `/infill`
(`native.py`), which server it is being told by the `serverKind` setting or found out once by
two quick GETs. A request with `messages` goes to chat completions, where a partial assistant
message keeps DashScope's `"partial": true`.

OpenAI's reasoning models (gpt-5 family, o-series) refuse `max_tokens`, `temperature`, `top_p`
and `stop`: they are sent `max_completion_tokens` and the lowest reasoning effort instead. A
model we do not know by name that refuses a parameter with a 400 ("Unsupported parameter")
is asked once more without it, and the refusal is remembered for the provider's life.

Every request streams, asks for usage in the last chunk, runs under one deadline for the whole
exchange, and leaves this module only as a `qwen_lsp.errors.ProviderError`; cancelling the
awaiting task closes the HTTP response, so the server stops generating.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qwen_lsp.errors import (
    BadResponse,
    DeadlineExceeded,
    EndpointUnavailable,
    ProviderError,
)
from qwen_lsp.model import Generation, GenerationRequest, PromptMode, Usage
from qwen_lsp.providers import native
from qwen_lsp.providers.base import Endpoint
from qwen_lsp.providers.wire import (
    dashscope_fim_offered,
    dashscope_region,
    fim_parts,
    import_sdk,
    is_dashscope_compatible,
    redact,
    refusal,
    retry_after,
    sampling_params,
    wire_message,
    within_deadline,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["OpenAIProvider", "is_reasoning_model"]

# Keyless local servers (Ollama, llama.cpp, vLLM without --api-key) ignore the key, but the SDK
# insists on one; a fixed placeholder also stops it reading OPENAI_API_KEY behind config's back.
_NO_KEY = "no-key"
# OpenAI's reasoning models by name: the gpt-5 family and the o-series (o1, o3, o4-mini, ...).
_REASONING = re.compile(r"^(?:gpt-5|o[1-9])(?:\b|[-.:_]|$)", re.IGNORECASE)
# What a reasoning model refuses besides max_tokens (OpenAI's reasoning guide).
_REASONING_REFUSES = ("temperature", "top_p", "stop")
_MAX_LEARNT_REFUSALS = 5  # max_tokens, temperature, top_p, stop, reasoning_effort
# A refused parameter, as OpenAI names it: "Unsupported parameter: 'max_tokens' is not
# supported with this model." / "Unsupported value: 'temperature' does not support 0.2 ...".
_REFUSED_PARAM = re.compile(r"(?i)unsupported (?:parameter|value)s?:?\s*'([a-z_]+)'")


def is_reasoning_model(model: str) -> bool:
    """OpenAI's reasoning models (gpt-5*, o1/o3/o4*), which take other parameters."""
    return bool(_REASONING.match(model.rsplit("/", 1)[-1]))


def _lowest_effort(model: str) -> str:
    # "minimal" exists for the gpt-5 family; the o-series' lowest is "low".
    return "minimal" if model.lower().rsplit("/", 1)[-1].startswith("gpt-5") else "low"


class OpenAIProvider:
    """Provider for `endpoint.provider` "openai" and "openai-compatible"."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client: AsyncOpenAI | None = None
        self._http: Any = None  # for the servers' own wires (native.py)
        self._kind: str | None = None  # which server, once known
        self._kind_lock: asyncio.Lock | None = None
        # Parameters each model refused with a 400, learnt from the first refusal.
        self._refused: dict[str, set[str]] = {}

    def modes(self, model: str) -> tuple[PromptMode, ...]:
        if self.endpoint.provider == "openai":
            return (PromptMode.CHAT,)
        if is_dashscope_compatible(self.endpoint.base_url):
            # DashScope's compatible mode: partial mode in every region, FIM only where it is
            # documented (Beijing, its FIM models).
            region = dashscope_region(self.endpoint.base_url, self.endpoint.region)
            fim = (PromptMode.FIM,) if dashscope_fim_offered(model, region) else ()
            return (*fim, PromptMode.PARTIAL, PromptMode.CHAT)
        return (PromptMode.FIM, PromptMode.CHAT)

    async def prepare(self) -> None:
        """Build the client before the first request needs it (importing the SDK and setting
        up its TLS take a few hundred ms); sends nothing."""
        await self._get_client()

    async def server_kind(self) -> str:
        """Which server this is (native.OLLAMA, LLAMACPP or GENERIC): the `serverKind`
        setting, else found out once."""
        if self._kind is not None:
            return self._kind
        setting = self.endpoint.server_kind
        if self.endpoint.provider == "openai" or is_dashscope_compatible(self.endpoint.base_url):
            self._kind = native.GENERIC
        elif setting in (native.OLLAMA, native.LLAMACPP):
            self._kind = setting
        elif setting != "auto" or not self.endpoint.base_url:
            self._kind = native.GENERIC
        else:
            self._kind_lock = self._kind_lock or asyncio.Lock()
            async with self._kind_lock:
                if self._kind is None:
                    http = await self._get_http()
                    self._kind = await native.detect_kind(http, self.endpoint.base_url)
        return self._kind

    async def generate(
        self, request: GenerationRequest, *, timeout: float | None = None
    ) -> Generation:
        deadline = self.endpoint.timeout if timeout is None else timeout
        return await within_deadline(self._generate(request, deadline), deadline, self._where())

    async def aclose(self) -> None:
        client, self._client = self._client, None
        http, self._http = self._http, None
        if client is not None:
            await client.close()
        if http is not None:
            await http.aclose()

    # -- internals -----------------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.endpoint.provider} endpoint {self.endpoint.base_url or '(default)'}"

    async def _get_client(self) -> AsyncOpenAI:
        if self._client is None:
            await import_sdk("openai")
            import openai

            self._client = openai.AsyncOpenAI(
                base_url=self.endpoint.base_url,
                api_key=self.endpoint.api_key or _NO_KEY,
                timeout=self.endpoint.timeout,
                max_retries=self.endpoint.max_retries,
            )
        return self._client

    async def _get_http(self) -> Any:
        if self._http is None:
            await import_sdk("openai")  # brings its HTTP library along
            http = native.http_module()
            self._http = http.AsyncClient(timeout=self.endpoint.timeout)
        return self._http

    async def _generate(self, request: GenerationRequest, deadline: float) -> Generation:
        if request.prompt is not None and self.endpoint.provider == "openai-compatible":
            kind = await self.server_kind()
            if kind == native.OLLAMA:
                http = await self._get_http()
                return await native.ollama_generate(
                    http, self.endpoint.base_url or "", request, self._key(), self._where()
                )
            parts = fim_parts(request.prompt) if kind == native.LLAMACPP else None
            if parts is not None:
                http = await self._get_http()
                return await native.llamacpp_infill(
                    http, self.endpoint.base_url or "", request, parts, self._key(), self._where()
                )
        # Each refusal names one parameter: asked once more without it, and remembered, so a
        # model refusing three of them costs three unbilled 400s once, then none.
        for _ in range(_MAX_LEARNT_REFUSALS):
            try:
                return await self._sdk_generate(request, deadline)
            except ProviderError as exc:
                if not self._learn_refusal(request, exc):
                    raise
        return await self._sdk_generate(request, deadline)

    async def _sdk_generate(self, request: GenerationRequest, deadline: float) -> Generation:
        try:
            client = await self._get_client()
            params = self._sampling(request, deadline)
            if request.prompt is not None:
                stream = await client.completions.create(prompt=request.prompt, **params)
            else:
                if request.json_mode:
                    params["response_format"] = {"type": "json_object"}
                stream = await client.chat.completions.create(
                    messages=[wire_message(m) for m in request.messages],
                    **params,
                )
            try:
                return await _collect(stream, request, self._where())
            finally:
                # Closing an unfinished response drops the connection: the server sees the
                # client go and stops generating (and billing).
                await stream.close()
        except ProviderError:
            raise
        except Exception as exc:
            raise self._map_error(exc) from None

    def _key(self) -> str | None:
        return self.endpoint.api_key

    def _sampling(self, request: GenerationRequest, deadline: float) -> dict[str, Any]:
        params: dict[str, Any] = {
            **sampling_params(request),
            "model": request.model,
            "stream": True,
            "stream_options": {"include_usage": True},
            # The SDK's own timeout is per read; the whole-request deadline is enforced above.
            "timeout": deadline,
        }
        refused = self._refused.get(request.model, set())
        if request.prompt is None and is_reasoning_model(request.model):
            refused = refused | {"max_tokens", *_REASONING_REFUSES}
            if "reasoning_effort" not in refused:
                params["reasoning_effort"] = _lowest_effort(request.model)
        if "max_tokens" in refused and "max_tokens" in params:
            params["max_completion_tokens"] = params.pop("max_tokens")
        for name in refused - {"max_tokens"}:
            params.pop(name, None)
        return params

    def _learn_refusal(self, request: GenerationRequest, exc: ProviderError) -> bool:
        """Whether `exc` is a 400 refusing a parameter we can leave out (it is then left out
        for this model from now on)."""
        if exc.status != 400:
            return False
        found = _REFUSED_PARAM.search(str(exc))
        if found is None:
            return False
        name = found.group(1)
        refused = self._refused.setdefault(request.model, set())
        sent = self._sampling(request, 1.0)
        if name in refused or name not in sent:
            return False  # already left out, or not ours to leave out: nothing to retry
        refused.add(name)
        return True

    def _map_error(self, exc: Exception) -> ProviderError:
        """Translate anything the SDK raised into qwen-lsp's error types, once."""
        import openai

        where = self._where()
        if isinstance(exc, openai.APITimeoutError):
            return DeadlineExceeded(f"{where}: timed out")
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = type(cause).__name__ if cause is not None else "connection error"
            return EndpointUnavailable(f"{where}: cannot reach the endpoint ({detail})")
        if isinstance(exc, openai.APIStatusError):
            code = getattr(exc, "code", None) or getattr(exc, "type", None)
            return refusal(
                exc.status_code,
                self._redact(_server_message(exc)),
                where,
                retry_in=retry_after(exc.response.headers),
                code=code if isinstance(code, str) else None,
            )
        if isinstance(exc, (ValueError, openai.APIResponseValidationError)):
            # json.JSONDecodeError is a ValueError: a malformed body or SSE data line.
            return BadResponse(f"{where}: the answer is not valid JSON or SSE")
        if isinstance(exc, openai.APIError):
            # An error event inside an otherwise good stream.
            return ProviderError(f"{where}: {self._redact(exc.message)}")
        if isinstance(exc, TimeoutError):
            return DeadlineExceeded(f"{where}: timed out")
        if isinstance(exc, OSError):
            return EndpointUnavailable(f"{where}: cannot reach the endpoint ({type(exc).__name__})")
        return BadResponse(f"{where}: unexpected answer ({type(exc).__name__})")

    def _redact(self, text: str) -> str:
        return redact(text, self.endpoint.api_key)


async def _collect(stream: Any, request: GenerationRequest, where: str) -> Generation:
    """Assemble the streamed chunks into one text per candidate."""
    parts: dict[int, list[str]] = {}
    finished: set[int] = set()
    usage = Usage()
    model = request.model
    chat = request.prompt is None
    async for chunk in stream:
        model = chunk.model or model
        if chunk.usage is not None:
            usage = Usage(
                input_tokens=chunk.usage.prompt_tokens or 0,
                output_tokens=chunk.usage.completion_tokens or 0,
            )
        for choice in chunk.choices:
            text = (choice.delta.content if chat else choice.text) or ""
            parts.setdefault(choice.index, []).append(text)
            if choice.finish_reason:
                finished.add(choice.index)
    if not finished or finished != set(parts):
        # The stream ended cleanly but before every candidate said it was done: a proxy or
        # server cut it short, and the text may stop mid-token. Fewer candidates than `n`
        # is not that: servers without `n` (Ollama, llama.cpp) answer one, kept as it is.
        raise BadResponse(f"{where}: the stream ended before the answer was complete")
    texts = tuple("".join(parts[i]) for i in sorted(parts))
    return Generation(texts=texts, usage=usage, model=model)


def _server_message(exc: Any) -> str:
    body = exc.body
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str):
            return message
    return str(exc.message)
