"""Similar code elsewhere: windows of lines that share the most identifiers with the code
just before the cursor.

Repetitive code (one more handler like the three above it in another file, a test like its
neighbours) is completed best by showing the model its closest sibling. A document is cut
into overlapping windows of `WINDOW_LINES` lines, each reduced to its set of identifiers, with
an inverted index from identifier to windows; a query scores windows by Jaccard similarity
through the index, touching only windows that share an identifier with it. Building a
`WindowIndex` costs about a millisecond per thousand lines, so callers keep one per document
text and rebuild it only when that text changes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

WINDOW_LINES = 12
STEP = 4
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that say nothing about what code does: keywords and the commonest names.
_COMMON = _words(
    """
    and def class return import from self None True False not for while with try except
    finally raise pass break continue lambda yield async await elif else assert global const
    let var function new this null undefined true false export default extends typeof
    instanceof void public private protected static final abstract interface package int
    func struct type range chan map string bool error nil defer switch case impl pub mut use
    mod crate match loop where ref move dyn Self fn let char long short unsigned signed
    double float auto sizeof typedef namespace template include define ifdef ifndef endif
    typename using std
    """
)
_MAX_SHARED_BY = 0.5  # an identifier in more than half the windows does not discriminate


def identifiers(text: str) -> frozenset[str]:
    return frozenset(w for w in _IDENTIFIER.findall(text) if w not in _COMMON)


@dataclass(frozen=True, slots=True)
class SimilarWindow:
    score: float  # Jaccard similarity of the identifier sets, 0..1
    start_line: int
    end_line: int  # exclusive


class WindowIndex:
    """The identifier windows of one document text."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self._sets: list[frozenset[str]] = []
        self._starts: list[int] = []
        postings: dict[str, list[int]] = {}
        for start in range(0, max(len(self.lines) - WINDOW_LINES, 0) + 1, STEP):
            words = identifiers("\n".join(self.lines[start : start + WINDOW_LINES]))
            window = len(self._sets)
            self._sets.append(words)
            self._starts.append(start)
            for word in words:
                postings.setdefault(word, []).append(window)
        limit = max(len(self._sets) * _MAX_SHARED_BY, 4)
        self._postings = {w: ids for w, ids in postings.items() if len(ids) <= limit}

    def most_similar(
        self, query: frozenset[str], *, limit: int = 2, threshold: float = 0.3
    ) -> list[SimilarWindow]:
        """The best windows (not overlapping each other) at or above `threshold`."""
        if not query:
            return []
        shared: Counter[int] = Counter()
        for word in query:
            ids = self._postings.get(word)
            if ids:
                shared.update(ids)
        scored = []
        for window, count in shared.items():
            score = count / (len(query) + len(self._sets[window]) - count)
            if score >= threshold:
                scored.append((score, window))
        scored.sort(reverse=True)
        out: list[SimilarWindow] = []
        for score, window in scored:
            start = self._starts[window]
            end = min(start + WINDOW_LINES, len(self.lines))
            if any(start < w.end_line and w.start_line < end for w in out):
                continue
            out.append(SimilarWindow(score, start, end))
            if len(out) == limit:
                break
        return out

    def text(self, window: SimilarWindow) -> str:
        return "\n".join(self.lines[window.start_line : window.end_line])
