"""Where the secrets of a text are: every rule's findings, merged into secrets that do not
overlap."""

from __future__ import annotations

import string
from dataclasses import dataclass

from qwen_lsp.redaction.blocks import (
    find_kubernetes_secret_data,
    find_random_assigned,
    find_terraform_defaults,
)
from qwen_lsp.redaction.lines import find_in_lines
from qwen_lsp.redaction.shapes import find_pairs, find_shapes
from qwen_lsp.redaction.values import Span


@dataclass(frozen=True)
class Secret:
    start: int
    end: int
    kind: str


def find_secrets(text: str) -> list[Secret]:
    """Where the secrets of `text` are, in order, not overlapping."""
    if not text:
        return []
    spans: list[Span] = []
    pairs: list[int] = []
    find_shapes(text, spans, pairs)
    for at in pairs:
        find_pairs(text, at, spans)
    find_in_lines(text, _lowered(text), spans)
    find_kubernetes_secret_data(text, spans)
    find_terraform_defaults(text, spans)
    find_random_assigned(text, spans)
    return merged(spans)


def merged(spans: list[Span]) -> list[Secret]:
    """Overlapping spans become one secret: hiding both is hiding their union."""
    out: list[Secret] = []
    for start, end, kind in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1].end:
            last = out[-1]
            out[-1] = Secret(last.start, max(last.end, end), last.kind)
        else:
            out.append(Secret(start, end, kind))
    return out


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _lowered(text: str) -> str:
    """`text` in lower case, character for character: positions in one are positions in the
    other ("İ".lower() is two characters, so such a text is lowered in ASCII only)."""
    lower = text.lower()
    return lower if len(lower) == len(text) else text.translate(_ASCII_LOWER)
