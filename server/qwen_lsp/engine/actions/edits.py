"""Minimal edits: the smallest replacements that turn one text into another.

A code action's answer is a new version of some code. Sending it back as one big replacement
would move the user's cursor, folds and marks and hide what changed, so `minimal_edits` diffs
the old and new text line by line (difflib), then each changed block word by word, unless the
block was rewritten: an added docstring becomes one insertion, each added type annotation its
own small insertion. Offsets are string indices into the old text; the caller turns them into
positions in the document's encoding.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"\w+|\s+|[^\w\s]")
_MAX_WORD_DIFF = 20_000  # characters: beyond that a block is replaced whole, quickly
_REWRITTEN = 0.5  # below this share of words in common, a block was rewritten, not touched up


@dataclass(frozen=True)
class Replacement:
    """Replace `old[start:end]` with `text`."""

    start: int
    end: int
    text: str


def minimal_edits(old: str, new: str, *, offset: int = 0) -> list[Replacement]:
    """Replacements, in document order and not overlapping, that turn `old` into `new`.

    `offset` is added to every position, for when `old` is a slice of a larger text.
    """
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    edits: list[Replacement] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            before, after = old[starts[i1] : starts[i2]], "".join(new_lines[j1:j2])
            edits.extend(_within_block(before, after, offset + starts[i1]))
    return edits


def _within_block(before: str, after: str, at: int) -> list[Replacement]:
    """A changed block as small edits: word by word when the block was touched up (a type
    annotation added here and there), as one trimmed replacement when it was rewritten."""
    if before and after and len(before) + len(after) <= _MAX_WORD_DIFF:
        old_words, new_words = _WORD.findall(before), _WORD.findall(after)
        matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
        if matcher.ratio() >= _REWRITTEN:
            starts = [0]
            for word in old_words:
                starts.append(starts[-1] + len(word))
            return [
                _trimmed(
                    before[starts[i1] : starts[i2]], "".join(new_words[j1:j2]), at + starts[i1]
                )
                for tag, i1, i2, j1, j2 in matcher.get_opcodes()
                if tag != "equal"
            ]
    return [_trimmed(before, after, at)]


def _trimmed(before: str, after: str, at: int) -> Replacement:
    """Replace `before` (at offset `at`) by `after`, minus what they start and end with."""
    head = _shared_prefix(before, after)
    tail = _shared_prefix(before[head:][::-1], after[head:][::-1])
    return Replacement(at + head, at + len(before) - tail, after[head : len(after) - tail])


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def apply_edits(text: str, edits: Iterable[Replacement]) -> str:
    """`text` with `edits` applied (they must not overlap)."""
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text


def changed_characters(edits: Iterable[Replacement]) -> int:
    """How many characters the edits remove plus insert: a measure of how small they are."""
    return sum((e.end - e.start) + len(e.text) for e in edits)
