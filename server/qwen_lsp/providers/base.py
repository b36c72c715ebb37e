"""The provider interface: what every wire implements, and where it is reached (`Endpoint`).

A provider turns a `GenerationRequest` into a `Generation` over one wire. It streams
internally, honours its deadline, raises only `qwen_lsp.errors.ProviderError` subclasses, and
closes its HTTP request when the awaiting task is cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from qwen_lsp.model import Generation, GenerationRequest, PromptMode


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach a model. `api_key` is never shown in `repr`."""

    provider: str  # "dashscope" | "openai" | "openai-compatible"
    base_url: str | None
    api_key: str | None = None
    timeout: float = 10.0  # seconds, for the whole request
    max_retries: int = 0
    region: str | None = None  # DashScope's region setting, when the base URL does not say
    server_kind: str = "auto"  # openai-compatible: auto | ollama | llamacpp | vllm | generic

    def __repr__(self) -> str:
        key = "set" if self.api_key else "missing"
        return f"Endpoint(provider={self.provider!r}, base_url={self.base_url!r}, api_key={key})"


class Provider(Protocol):
    endpoint: Endpoint

    def modes(self, model: str) -> tuple[PromptMode, ...]:
        """Prompt modes this wire can carry for `model`, best first (probing goes in order)."""
        ...

    async def prepare(self) -> None:
        """Import the SDK and build the client: everything before a request goes out, so a
        request cancelled meanwhile was never sent (nor billed)."""
        ...

    async def generate(
        self, request: GenerationRequest, *, timeout: float | None = None
    ) -> Generation:
        """Run one request to completion; raise a ProviderError subclass on failure."""
        ...

    async def aclose(self) -> None: ...
