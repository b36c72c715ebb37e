"""OpenAI and OpenAI-compatible endpoints: OpenAI, vLLM, Ollama, llama.cpp, DashScope compat mode.

Built on the `openai` SDK (3.x, itself on httpx2), imported the first time a request is made so
that starting the language server does not pay for it. A request with a raw `prompt` goes to the
legacy completions endpoint verbatim (FIM); a request with `messages` goes to chat completions,
where a partial assistant message keeps DashScope's `"partial": true`. Every request streams,
asks for usage in the last chunk, runs under one deadline for the whole exchange, and leaves
this module only as a `qwen_lsp.errors.ProviderError`; cancelling the awaiting task closes the
HTTP response, so the server stops generating.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qwen_lsp.errors import (
    AuthError,
    BadResponse,
    DeadlineExceeded,
    EndpointUnavailable,
    ProviderError,
    RateLimitError,
    UnsupportedMode,
)
from qwen_lsp.model import Generation, GenerationRequest, PromptMode, Usage
from qwen_lsp.providers.base import Endpoint
from qwen_lsp.providers.wire import (
    import_sdk,
    redact,
    retry_after,
    sampling_params,
    wire_message,
    within_deadline,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["OpenAIProvider"]

# Keyless local servers (Ollama, llama.cpp, vLLM without --api-key) ignore the key, but the SDK
# insists on one; a fixed placeholder also stops it reading OPENAI_API_KEY behind config's back.
_NO_KEY = "no-key"
# Statuses that mean "this endpoint or model does not take this kind of request": the engine
# probes prompt modes with them. 422 is how FastAPI-based servers reject an unknown shape.
_UNSUPPORTED = frozenset({400, 404, 405, 422, 501})


class OpenAIProvider:
    """Provider for `endpoint.provider` "openai" and "openai-compatible"."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client: AsyncOpenAI | None = None

    def modes(self, model: str) -> tuple[PromptMode, ...]:
        if self.endpoint.provider == "openai":
            return (PromptMode.CHAT,)
        return (PromptMode.FIM, PromptMode.CHAT)

    async def generate(
        self, request: GenerationRequest, *, timeout: float | None = None
    ) -> Generation:
        deadline = self.endpoint.timeout if timeout is None else timeout
        return await within_deadline(self._generate(request, deadline), deadline, self._where())

    async def prepare(self) -> None:
        """Build the client before the first request needs it (importing the SDK and setting
        up its TLS take a few hundred ms); sends nothing."""
        await self._get_client()

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

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

    async def _generate(self, request: GenerationRequest, deadline: float) -> Generation:
        try:
            client = await self._get_client()
            params = _sampling(request, deadline)
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
            status = exc.status_code
            message = f"{where}: HTTP {status}: {self._redact(_server_message(exc))}"
            if status in (401, 403):
                return AuthError(message, status=status)
            if status == 429:
                return RateLimitError(message, retry_after=retry_after(exc.response.headers))
            if status in _UNSUPPORTED:
                return UnsupportedMode(message, status=status)
            if status >= 500:
                return EndpointUnavailable(message, status=status)
            return ProviderError(message, status=status)
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


def _sampling(request: GenerationRequest, deadline: float) -> dict[str, Any]:
    params: dict[str, Any] = {
        **sampling_params(request),
        "model": request.model,
        "stream": True,
        "stream_options": {"include_usage": True},
        # The SDK's own timeout is per read; the whole-request deadline is enforced above.
        "timeout": deadline,
    }
    return params


async def _collect(stream: Any, request: GenerationRequest, where: str) -> Generation:
    """Assemble the streamed chunks into one text per candidate."""
    parts: dict[int, list[str]] = {i: [] for i in range(request.n)}
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
    if len(finished) < request.n:
        # The stream ended cleanly but before every candidate said it was done: a proxy or
        # server cut it short, and the text may stop mid-token.
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
