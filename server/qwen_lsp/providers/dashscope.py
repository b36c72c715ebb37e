"""DashScope (Alibaba Cloud Model Studio) on its native wire, through the dashscope SDK 2.x.

Chat requests (partial mode and the chat hole-filler) go through the 2.x `dashscope.AsyncClient`,
which is httpx-based, raises typed errors and can be cancelled; its messages keep DashScope's
`"partial": true` on the last assistant message. A raw FIM `prompt` cannot be expressed by the
2.x chat resource (it always sends `input.messages`), so it goes through the 1.x-style
`dashscope.AioGeneration.call`, which sends `input.prompt` verbatim and reports failures as a
`status_code` on the response instead of raising. Both stream incremental output to
`{base}/services/aigc/text-generation/generation`, run under one deadline for the whole request,
and leave this module only as `qwen_lsp.errors.ProviderError`. The SDK is imported on first use;
each provider owns its clients and passes its base URL per call, so no SDK global is touched.
"""

from __future__ import annotations

import warnings
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
    import aiohttp
    from dashscope import AsyncClient

__all__ = ["DashScopeProvider", "serves_raw_fim"]

# Statuses that mean "this endpoint or model does not take this kind of request": the engine
# probes prompt modes with them.
_UNSUPPORTED = frozenset({400, 404, 405, 422, 501})
# What the 1.x SDK puts in `message` when an error body was an empty SSE stream.
_EMPTY_SSE_ERROR = "Empty SSE error response"


def serves_raw_fim(model: str) -> bool:
    """Models DashScope serves raw `<|fim_prefix|>` prompts for (the native API's
    `input.prompt`): qwen-coder-turbo and the Qwen2.5-Coder models. Other models, such as
    qwen3-coder-flash, are asked in `partial` or `chat` mode (the README's "Prompt modes")."""
    name = model.lower()
    return (
        name == "qwen-coder-turbo"
        or name.startswith("qwen-coder-turbo-")
        or name.startswith("qwen2.5-coder-")
    )


class DashScopeProvider:
    """Provider for `endpoint.provider` "dashscope" (native API, `base_url` ends in /api/v1)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._client: AsyncClient | None = None
        self._session: aiohttp.ClientSession | None = None

    def modes(self, model: str) -> tuple[PromptMode, ...]:
        if serves_raw_fim(model):
            return (PromptMode.FIM, PromptMode.PARTIAL, PromptMode.CHAT)
        return (PromptMode.PARTIAL, PromptMode.CHAT)

    async def generate(
        self, request: GenerationRequest, *, timeout: float | None = None
    ) -> Generation:
        deadline = self.endpoint.timeout if timeout is None else timeout
        return await within_deadline(self._generate(request, deadline), deadline, self._where())

    async def prepare(self) -> None:
        """Build the client and the HTTP session before the first request needs them
        (importing the SDK and setting up TLS take a few hundred ms); sends nothing."""
        await import_sdk("dashscope")
        self._get_client()
        await self._get_session()

    async def aclose(self) -> None:
        client, self._client = self._client, None
        session, self._session = self._session, None
        if client is not None:
            await client.aclose()
        if session is not None:
            await session.close()

    # -- internals -----------------------------------------------------------------------

    def _where(self) -> str:
        return f"dashscope endpoint {self.endpoint.base_url or '(SDK default)'}"

    async def _generate(self, request: GenerationRequest, deadline: float) -> Generation:
        if not self.endpoint.api_key:
            # Checked here so the SDK never goes looking for a key in the environment or in
            # ~/.dashscope on its own: config.py is where keys come from.
            raise AuthError(f"{self._where()}: no DashScope API key is configured")
        await import_sdk("dashscope")
        try:
            if request.prompt is not None:
                return await self._generate_prompt(request, deadline)
            return await self._generate_messages(request, deadline)
        except ProviderError:
            raise
        except Exception as exc:
            raise self._map_error(exc) from None

    def _get_client(self) -> AsyncClient:
        if self._client is None:
            import dashscope

            with warnings.catch_warnings():
                # Without a base URL the SDK nudges toward a workspace gateway with a
                # UserWarning; the user chose the endpoint in qwen-lsp's settings.
                warnings.simplefilter("ignore", UserWarning)
                try:
                    self._client = dashscope.AsyncClient(
                        api_key=self.endpoint.api_key,
                        base_url=self.endpoint.base_url,
                        # Explicit, so DASHSCOPE_PROTOCOL cannot move us off the native wire.
                        protocol="native",
                        timeout=self.endpoint.timeout,
                        max_retries=self.endpoint.max_retries,
                    )
                except ValueError as exc:  # a bad ~/.dashscope/config.toml or DASHSCOPE_* variable
                    raise ProviderError(f"{self._where()}: cannot set up the SDK: {exc}") from None
        return self._client

    async def _get_session(self) -> aiohttp.ClientSession:
        # Our own session rather than the SDK's per-loop shared one, so aclose() can close it
        # without touching other users of the SDK.
        if self._session is None or self._session.closed:
            import aiohttp

            try:
                from dashscope.api_entities.aio_session import get_ssl_context

                ssl: Any = get_ssl_context()  # certifi's CA bundle, as the SDK's session uses
            except ImportError:
                ssl = True
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=ssl), trust_env=True
            )
        return self._session

    async def _generate_messages(self, request: GenerationRequest, deadline: float) -> Generation:
        client = self._get_client()
        params = sampling_params(request)
        if request.json_mode:
            params["response_format"] = {"type": "json_object"}
        stream = await client.chat.completions.create(
            model=request.model,
            messages=[wire_message(m) for m in request.messages],
            stream=True,
            incremental_output=True,
            # Per read; the whole-request deadline is enforced by generate().
            timeout=deadline,
            **params,
        )
        answer = _Answer(request)
        chunks = stream.__aiter__()
        try:
            async for chunk in chunks:
                answer.model = chunk.model or answer.model
                if chunk.usage is not None:
                    answer.usage = Usage(chunk.usage.input_tokens, chunk.usage.output_tokens)
                for choice in chunk.choices:
                    answer.add(choice.index, choice.delta.content, choice.finish_reason)
        finally:
            # Closing an unfinished response drops the connection, so the server stops.
            await chunks.aclose()
            await stream.aclose()
        return answer.result(self._where())

    async def _generate_prompt(self, request: GenerationRequest, deadline: float) -> Generation:
        import dashscope

        session = await self._get_session()
        params = sampling_params(request)
        if request.json_mode:
            params["response_format"] = {"type": "json_object"}
        if self.endpoint.base_url:
            params["base_address"] = self.endpoint.base_url
        responses = await dashscope.AioGeneration.call(
            model=request.model,
            prompt=request.prompt,
            api_key=self.endpoint.api_key,
            stream=True,
            incremental_output=True,
            result_format="message",
            session=session,
            # For a stream this is the idle time between chunks, not a total.
            request_timeout=deadline,
            **params,
        )
        answer = _Answer(request)
        try:
            async for response in responses:
                if response.status_code != 200:
                    raise self._response_error(response)
                if response.usage:
                    answer.usage = Usage(
                        int(response.usage.get("input_tokens") or 0),
                        int(response.usage.get("output_tokens") or 0),
                    )
                output = response.output or {}
                choices = output.get("choices")
                if choices:
                    for position, choice in enumerate(choices):
                        message = choice.get("message") or {}
                        answer.add(
                            choice.get("index", position),
                            message.get("content"),
                            choice.get("finish_reason"),
                        )
                elif output.get("text") is not None or output.get("finish_reason"):
                    answer.add(0, output.get("text"), output.get("finish_reason"))
        finally:
            await responses.aclose()
        return answer.result(self._where())

    # -- errors, mapped once -------------------------------------------------------------

    def _response_error(self, response: Any) -> ProviderError:
        """The 1.x SDK's failed response (it returns errors instead of raising them)."""
        status = int(response.status_code or 0)
        code = response.code or ""
        message = response.message if isinstance(response.message, str) else str(response.message)
        headers = _lower(response.headers or {})
        if (
            status == 500
            and code == "Unknown"
            and "text/event-stream" in headers.get("content-type", "")
            and message != _EMPTY_SSE_ERROR
        ):
            # The 1.x SDK reports an SSE data line that is not JSON as a made-up HTTP 500
            # whose message is the line itself (api_entities/http_request.py).
            return BadResponse(f"{self._where()}: the stream carried an invalid data line")
        return self._from_status(status, code, message, headers)

    def _from_status(
        self, status: int, code: str | None, message: str, headers: Mapping[str, str]
    ) -> ProviderError:
        text = f"{self._where()}: HTTP {status}"
        if code:
            text += f" {code}"
        if message:
            text += f": {self._redact(message)}"
        if status in (401, 403):
            return AuthError(text, status=status)
        if status == 429:
            return RateLimitError(text, retry_after=retry_after(headers))
        if status in _UNSUPPORTED:
            return UnsupportedMode(text, status=status)
        if status >= 500:
            return EndpointUnavailable(text, status=status)
        return ProviderError(text, status=status)

    def _map_error(self, exc: Exception) -> ProviderError:
        """Translate what either SDK generation (or its HTTP library) raised, once."""
        import aiohttp
        import httpx
        from dashscope.common.error import AuthenticationError as LegacyAuthError
        from dashscope.v2 import errors as v2
        from httpx_sse import SSEError

        where = self._where()
        if isinstance(exc, v2.APITimeoutError):
            return DeadlineExceeded(f"{where}: timed out")
        if isinstance(exc, v2.APIConnectionError):
            return EndpointUnavailable(f"{where}: cannot reach the endpoint")
        if isinstance(exc, v2.ContentFilterError):
            # The request was fine, its content was refused: not a reason to switch modes.
            return ProviderError(
                f"{where}: content refused: {self._redact(exc.message)}", status=400
            )
        if isinstance(exc, v2.APIStatusError):
            status = exc.status_code or 0
            if status < 400:
                # An error event inside a 200 stream: its class names the HTTP status the
                # catalog gives that error code.
                status = getattr(type(exc), "status_code", None) or 0
            if status:
                return self._from_status(status, exc.code, exc.message, _lower(exc.headers))
            return ProviderError(f"{where}: {self._redact(exc.message)}")
        if isinstance(exc, v2.DashScopeError):
            if exc.code:
                return ProviderError(f"{where}: {exc.code}: {self._redact(exc.message)}")
            return BadResponse(f"{where}: the answer is not valid JSON or SSE")
        # The 2.x stream iterator lets httpx errors through unwrapped.
        if isinstance(exc, SSEError):
            return BadResponse(f"{where}: the answer is not an event stream")
        if isinstance(exc, httpx.TimeoutException):
            return DeadlineExceeded(f"{where}: timed out")
        if isinstance(exc, httpx.TransportError):
            return EndpointUnavailable(f"{where}: connection lost ({type(exc).__name__})")
        # The 1.x path runs on aiohttp.
        if isinstance(exc, aiohttp.ContentTypeError):
            return BadResponse(f"{where}: the answer is not JSON")
        if isinstance(exc, (aiohttp.ServerTimeoutError, TimeoutError)):
            return DeadlineExceeded(f"{where}: timed out")
        if isinstance(exc, (aiohttp.ClientError, OSError)):
            return EndpointUnavailable(f"{where}: connection lost ({type(exc).__name__})")
        if isinstance(exc, LegacyAuthError):
            return AuthError(f"{where}: no usable API key")
        # JSON errors are ValueErrors; a chunk without `output` makes the SDK raise TypeError.
        return BadResponse(f"{where}: unexpected answer ({type(exc).__name__})")

    def _redact(self, text: str) -> str:
        return redact(text, self.endpoint.api_key)


class _Answer:
    """Streamed pieces assembled into one text per candidate."""

    def __init__(self, request: GenerationRequest) -> None:
        self.n = request.n
        self.model = request.model
        self.usage = Usage()
        self._parts: dict[int, list[str]] = {i: [] for i in range(request.n)}
        self._finished: set[int] = set()

    def add(self, index: int | None, content: Any, finish_reason: str | None) -> None:
        index = index or 0
        if isinstance(content, str) and content:
            self._parts.setdefault(index, []).append(content)
        # DashScope spells an unfinished choice's finish_reason as the string "null".
        if finish_reason and finish_reason != "null":
            self._finished.add(index)

    def result(self, where: str) -> Generation:
        if len(self._finished) < self.n:
            # The stream ended cleanly but before every candidate said it was done.
            raise BadResponse(f"{where}: the stream ended before the answer was complete")
        texts = tuple("".join(self._parts[i]) for i in sorted(self._parts))
        return Generation(texts=texts, usage=self.usage, model=self.model)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}
