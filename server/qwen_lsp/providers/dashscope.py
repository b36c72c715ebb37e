"""DashScope (Alibaba Cloud Model Studio): partial mode and chat on its native wire through the
dashscope SDK 2.x, raw FIM on its OpenAI-compatible Completions endpoint through the openai SDK.

Chat requests (partial mode and the chat hole-filler) go through the 2.x `dashscope.AsyncClient`,
which is httpx-based, raises typed errors and can be cancelled; its messages keep DashScope's
`"partial": true` on the last assistant message; it streams incremental output from
`{host}/api/v1/services/aigc/text-generation/generation`.

A raw FIM prompt does not go there: that endpoint reads `input.prompt` as a user turn, so it
answers prose about the code, with HTTP 200. DashScope documents FIM on
`{host}/compatible-mode/v1/completions` only, in the Beijing region, for qwen-coder-turbo
(-latest, -0919) and the qwen2.5-coder-*-instruct models; so FIM is offered for those models
when the region is Beijing, and sent to the compatible-mode base on the same host as the native
one. Everything runs under one deadline for the whole request and leaves this module only as
`qwen_lsp.errors.ProviderError`. The SDKs are imported on first use; each provider owns its
clients and passes its base URL per call, so no SDK global is touched.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qwen_lsp.errors import (
    AuthError,
    BadResponse,
    DeadlineExceeded,
    EndpointUnavailable,
    ProviderError,
)
from qwen_lsp.model import Generation, GenerationRequest, PromptMode, Usage
from qwen_lsp.providers.base import Endpoint
from qwen_lsp.providers.openai import OpenAIProvider
from qwen_lsp.providers.wire import (
    compatible_base,
    dashscope_fim_offered,
    dashscope_region,
    dashscope_serves_fim,
    import_sdk,
    redact,
    refusal,
    retry_after,
    sampling_params,
    wire_message,
    within_deadline,
)

if TYPE_CHECKING:
    from dashscope import AsyncClient

__all__ = ["DashScopeProvider", "serves_raw_fim"]

serves_raw_fim = dashscope_serves_fim


class DashScopeProvider:
    """Provider for `endpoint.provider` "dashscope" (native API, `base_url` ends in /api/v1)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.region = dashscope_region(endpoint.base_url, endpoint.region)
        self._client: AsyncClient | None = None
        # FIM's wire: the openai SDK on the compatible-mode base of the same host.
        self._completions = OpenAIProvider(
            dataclasses.replace(
                endpoint, provider="openai-compatible", base_url=compatible_base(endpoint.base_url)
            )
        )

    def modes(self, model: str) -> tuple[PromptMode, ...]:
        if dashscope_fim_offered(model, self.region):
            return (PromptMode.FIM, PromptMode.PARTIAL, PromptMode.CHAT)
        return (PromptMode.PARTIAL, PromptMode.CHAT)

    async def prepare(self) -> None:
        """Build the client before the first request needs it (importing the SDK takes a few
        hundred ms); sends nothing."""
        await import_sdk("dashscope")
        self._get_client()

    async def generate(
        self, request: GenerationRequest, *, timeout: float | None = None
    ) -> Generation:
        deadline = self.endpoint.timeout if timeout is None else timeout
        return await within_deadline(self._generate(request, deadline), deadline, self._where())

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        await self._completions.aclose()

    # -- internals -----------------------------------------------------------------------

    def _where(self) -> str:
        return f"dashscope endpoint {self.endpoint.base_url or '(SDK default)'}"

    async def _generate(self, request: GenerationRequest, deadline: float) -> Generation:
        if not self.endpoint.api_key:
            # Checked here so the SDK never goes looking for a key in the environment or in
            # ~/.dashscope on its own: config.py is where keys come from.
            raise AuthError(f"{self._where()}: no DashScope API key is configured")
        if request.prompt is not None:
            return await self._completions.generate(request, timeout=deadline)
        await import_sdk("dashscope")
        try:
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

    # -- errors, mapped once -------------------------------------------------------------

    def _from_status(
        self, status: int, code: str | None, message: str, headers: Mapping[str, str]
    ) -> ProviderError:
        detail = self._redact(message or "")
        if code:
            detail = f"{code}: {detail}" if detail else code
        return refusal(status, detail, self._where(), retry_in=retry_after(headers), code=code)

    def _map_error(self, exc: Exception) -> ProviderError:
        """Translate what either SDK generation (or its HTTP library) raised, once."""
        import httpx
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
        if isinstance(exc, TimeoutError):
            return DeadlineExceeded(f"{where}: timed out")
        if isinstance(exc, OSError):
            return EndpointUnavailable(f"{where}: connection lost ({type(exc).__name__})")
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
        self._parts: dict[int, list[str]] = {}
        self._finished: set[int] = set()

    def add(self, index: int | None, content: Any, finish_reason: str | None) -> None:
        index = index or 0
        pieces = self._parts.setdefault(index, [])
        if isinstance(content, str) and content:
            pieces.append(content)
        # DashScope spells an unfinished choice's finish_reason as the string "null".
        if finish_reason and finish_reason != "null":
            self._finished.add(index)

    def result(self, where: str) -> Generation:
        if not self._finished or self._finished != set(self._parts):
            # The stream ended cleanly but before every candidate said it was done (fewer
            # candidates than asked for is not that: what came is kept).
            raise BadResponse(f"{where}: the stream ended before the answer was complete")
        texts = tuple("".join(self._parts[i]) for i in sorted(self._parts))
        return Generation(texts=texts, usage=self.usage, model=self.model)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()}
