"""The one door to a model: every prompt has its secrets replaced by numbered placeholders
before it goes out, whichever feature built it (completion, action, review), and every answer
has the real values put back before anyone reads it.

So no caller ever sees a placeholder, and no edit ever writes one over the user's real value.
An answer that holds a placeholder this request never gave out (or a mangled one) cannot be
put back: that candidate is dropped, and when none is left the answer is refused as a
`BadResponse`.

The answer cache keeps what `generate` returns, real values included. That is as private as
the files they came from: the cache lives in the user's own cache directory and is never sent.
"""

from __future__ import annotations

import dataclasses
import logging
import re

from qwen_lsp import errors
from qwen_lsp.model import Generation, GenerationRequest, Message, PromptMode
from qwen_lsp.providers.base import Provider
from qwen_lsp.redaction import Placeholders, UnknownPlaceholder, redact_texts

log = logging.getLogger(__name__)

_SPECIAL_TOKEN = re.compile(r"<\|[a-z_]+\|>")


class RedactingProvider:
    """The one door to a model: secrets out of every prompt, real values back into every
    answer."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.endpoint = inner.endpoint

    def modes(self, model: str) -> tuple[PromptMode, ...]:
        return self.inner.modes(model)

    async def generate(
        self, request: GenerationRequest, *, timeout: float | None = None
    ) -> Generation:
        sent, placeholders = hide_secrets(request)
        generation = await self.inner.generate(sent, timeout=timeout)
        return restore_secrets(generation, placeholders, json_document=request.json_mode or None)

    async def prepare(self) -> None:
        """Ready the wire for its first request, when the provider can (sends nothing)."""
        prepare = getattr(self.inner, "prepare", None)
        if prepare is not None:
            await prepare()

    async def aclose(self) -> None:
        await self.inner.aclose()


def redact_request(request: GenerationRequest) -> GenerationRequest:
    """`request` with the secrets in its prompt or messages replaced by placeholders: what the
    model is sent (the prompt inspector shows it)."""
    return hide_secrets(request)[0]


def hide_secrets(request: GenerationRequest) -> tuple[GenerationRequest, Placeholders]:
    """`request` as it is sent, and the placeholders that put its secrets back into an answer.
    The same value gets the same placeholder in the prompt and in every message."""
    texts = (
        [request.prompt] if request.prompt is not None else [m.content for m in request.messages]
    )
    # Qwen's special tokens stay as they are, and a line right after <|fim_prefix|> or
    # <|file_sep|> still starts a line for the patterns.
    redaction = redact_texts(texts, verbatim=_SPECIAL_TOKEN)
    if not redaction.found:
        return request, redaction.placeholders
    if request.prompt is not None:
        sent = dataclasses.replace(request, prompt=redaction.texts[0])
    else:
        messages = tuple(
            Message(m.role, text, partial=m.partial)
            for m, text in zip(request.messages, redaction.texts, strict=True)
        )
        sent = dataclasses.replace(request, messages=messages)
    log.info(
        "redacted %d secret(s) from a prompt: %s",
        len(redaction.found),
        ", ".join(sorted(set(redaction.found))),
    )
    return sent, redaction.placeholders


def restore_secrets(
    generation: Generation, placeholders: Placeholders, *, json_document: bool | None = None
) -> Generation:
    """`generation` with the real values in place of the placeholders. A candidate holding a
    placeholder that was not sent is dropped; BadResponse when none is left. `json_document`:
    the answers are JSON documents quoting code (a review in JSON mode), see
    `Placeholders.restore`."""
    texts: list[str] = []
    refused: list[str] = []
    for text in generation.texts:
        try:
            texts.append(placeholders.restore(text, json_document=json_document))
        except UnknownPlaceholder as exc:
            refused.append(str(exc))
    if refused:
        log.warning("dropped %d answer(s) holding a placeholder: %s", len(refused), refused[0])
        if not texts:
            raise errors.BadResponse(
                "the model's answer held a placeholder for a redacted secret that was not in "
                f"the prompt ({refused[0]}); it was refused so that no placeholder is written "
                "into your code"
            )
    if tuple(texts) == generation.texts:
        return generation
    return dataclasses.replace(generation, texts=tuple(texts))
