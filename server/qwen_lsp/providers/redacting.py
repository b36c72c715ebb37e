"""The one door to a model: every prompt has its secrets replaced before it goes out,
whichever feature built it (completion, action, review)."""

from __future__ import annotations

import dataclasses
import logging
import re

from qwen_lsp.model import Generation, GenerationRequest, Message, PromptMode
from qwen_lsp.providers.base import Provider
from qwen_lsp.redaction import redact_secrets

log = logging.getLogger(__name__)

_SPECIAL_TOKEN = re.compile(r"(<\|[a-z_]+\|>)")


class RedactingProvider:
    """The one door to a model: every prompt has its secrets replaced before it goes out,
    whichever feature built it (completion, action, review)."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.endpoint = inner.endpoint

    def modes(self, model: str) -> tuple[PromptMode, ...]:
        return self.inner.modes(model)

    async def generate(
        self, request: GenerationRequest, *, timeout: float | None = None
    ) -> Generation:
        return await self.inner.generate(redact_request(request), timeout=timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()


def redact_request(request: GenerationRequest) -> GenerationRequest:
    """`request` with the secrets in its prompt or messages replaced by placeholders."""
    found: list[str] = []

    def clean(text: str) -> str:
        redaction = redact_secrets(text)
        found.extend(redaction.found)
        return redaction.text

    if request.prompt is not None:
        # Each piece between Qwen's special tokens on its own, so a line right after
        # <|fim_prefix|> or <|file_sep|> still starts a line for the patterns.
        pieces = _SPECIAL_TOKEN.split(request.prompt)
        prompt = "".join(p if _SPECIAL_TOKEN.fullmatch(p) else clean(p) for p in pieces)
        cleaned = dataclasses.replace(request, prompt=prompt)
    else:
        messages = tuple(
            Message(m.role, clean(m.content), partial=m.partial) for m in request.messages
        )
        cleaned = dataclasses.replace(request, messages=messages)
    if not found:
        return request
    log.info("redacted %d secret(s) from a prompt: %s", len(found), ", ".join(sorted(set(found))))
    return cleaned
