"""The texts of a request with their secrets replaced by numbered placeholders."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qwen_lsp.redaction.find import find_secrets, merged
from qwen_lsp.redaction.placeholders import Placeholders
from qwen_lsp.redaction.values import Span


@dataclass(frozen=True)
class Redaction:
    """Texts with their secrets replaced by the numbered placeholders of `placeholders`."""

    texts: tuple[str, ...]
    found: tuple[str, ...]  # the kinds of secret replaced, one entry per replacement
    placeholders: Placeholders

    @property
    def text(self) -> str:
        return "".join(self.texts)


# A value found once is hidden wherever else it occurs in the request (a comment, a second
# file), if it is long enough that an occurrence is surely the same secret.
_REPEAT_MIN = 8


def redact_texts(texts: Sequence[str], *, verbatim: re.Pattern[str] | None = None) -> Redaction:
    """`texts`, the parts of one request, with every secret replaced by its placeholder: the
    same value gets the same placeholder in every part.

    The parts are read as one text, each starting a line, so a rule spanning lines (a
    Kubernetes Secret, a key pair over two lines) still sees a block that the cursor or a
    message boundary cuts. Matches of `verbatim` (a model's special tokens) are kept as they
    are and read as line breaks."""
    protected = [[m.span() for m in verbatim.finditer(text)] if verbatim else [] for text in texts]
    found_in = _found_in_parts(texts, protected)
    values = {
        text[start:end]
        for text, found, keep in zip(texts, found_in, protected, strict=True)
        for start, end, _ in _cut(found, keep)
    }
    repeated = sorted((v for v in values if len(v) >= _REPEAT_MIN), key=len, reverse=True)
    placeholders = Placeholders.for_texts(texts)
    out: list[str] = []
    kinds: list[str] = []
    for text, found, keep in zip(texts, found_in, protected, strict=True):
        spans = list(found)
        for value in repeated:
            index = text.find(value)
            while index != -1:
                end = index + len(value)
                if _delimited(text, index, end):
                    spans.append((index, end, "repeated"))
                index = text.find(value, end)
        # A secret followed by digits hides them too: "REDACTED_SECRET_1" then "5" would read
        # as placeholder 15.
        spans = [(s.start, _digits_end(text, s.end), s.kind) for s in merged(spans)]
        secrets = merged(_cut(spans, keep))
        pieces: list[str] = []
        done = 0
        for secret in secrets:
            pieces.append(text[done : secret.start])
            pieces.append(placeholders.placeholder(text[secret.start : secret.end]))
            done = secret.end
        pieces.append(text[done:])
        out.append("".join(pieces))
        kinds.extend(s.kind for s in secrets)
    return Redaction(tuple(out), tuple(kinds), placeholders)


def _found_in_parts(
    texts: Sequence[str], protected: list[list[tuple[int, int]]]
) -> list[list[Span]]:
    """The secrets of the parts read as one text (the protected ranges blanked to line
    breaks), cut back into each part."""
    pieces: list[str] = []
    offsets: list[int] = []
    at = 0
    for text, keep in zip(texts, protected, strict=True):
        offsets.append(at)
        done = 0
        for start, end in keep:
            pieces += (text[done:start], "\n" * (end - start))
            done = end
        pieces += (text[done:], "\n")
        at += len(text) + 1
    found: list[list[Span]] = [[] for _ in texts]
    for secret in find_secrets("".join(pieces)[:-1]):
        for index, (offset, text) in enumerate(zip(offsets, texts, strict=True)):
            start, end = max(secret.start - offset, 0), min(secret.end - offset, len(text))
            if start < end:
                found[index].append((start, end, secret.kind))
    return found


def _cut(spans: list[Span], keep: list[tuple[int, int]]) -> list[Span]:
    """`spans` without the ranges in `keep`."""
    for low, high in keep:
        spans = [
            piece
            for start, end, kind in spans
            for piece in ((start, min(end, low), kind), (max(start, high), end, kind))
            if piece[0] < piece[1]
        ]
    return spans


def _digits_end(text: str, end: int) -> int:
    while end < len(text) and text[end].isdigit():
        end += 1
    return end


def _delimited(text: str, start: int, end: int) -> bool:
    """The occurrence is not the middle of a longer word: `x_secret_value` does not hold a
    secret `secret_value`."""
    before = text[start - 1 : start] if start else ""
    after = text[end : end + 1]
    return not (before and _is_word_char(before) and _is_word_char(text[start])) and not (
        after and _is_word_char(after) and _is_word_char(text[end - 1])
    )


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def redact_secrets(text: str) -> Redaction:
    """`text` with every secret found replaced by a numbered placeholder."""
    return redact_texts((text,))
