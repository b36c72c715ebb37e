"""Acceptance, counted on this machine: which suggestions were shown, which the user accepted,
and how much of an accepted one is still in the file a while later (retained characters).

Each suggestion shown gets an id; the editor runs the accept command with it when the user
takes the suggestion (the LSP way: the inline item's `command`). A suggestion served again as
the user types through it (the same answer, less of it left) keeps its id and counts as shown
once. From the accept on, the place the suggestion was inserted is followed through the
document's own changes (each edit before it moves it, an edit inside it changes it) and,
`spend.retentionDelayMs` later (or when the document closes first), the characters of the
suggestion still there are counted: the text of that place aligned with the suggestion, as
difflib matches them. Counts go to the spend ledger's `acceptance` table, per model, language
and prompt mode. Nothing is sent anywhere; `spend.countAcceptance` off counts nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import difflib
import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qwen_lsp.model import Position, Suggestion
from qwen_lsp.spend import Ledger

if TYPE_CHECKING:
    from qwen_lsp.engine.runtime import Runtime

log = logging.getLogger(__name__)

MAX_REMEMBERED = 200  # suggestions shown and not yet accepted, most recent kept


@dataclass
class ShownSuggestion:
    id: str
    key: str  # the document (its URI)
    text: str
    start: Position
    model: str
    language: str
    mode: str


@dataclass
class Follow:
    """An accepted suggestion's place in its document, kept up to date through edits."""

    shown: ShownSuggestion
    start: Position
    end: Position
    timer: asyncio.TimerHandle | None = None


Change = tuple[Position, Position, str] | tuple[None, None, str]  # None: the whole document


def _moved(pos: Position, start: Position, end: Position, text: str, *, sticky: bool) -> Position:
    """Where `pos` is after `start..end` was replaced by `text`. A position inside the
    replaced span goes to its start (`sticky`: to the end of the new text)."""
    lines = text.split("\n")
    new_end = Position(
        start.line + len(lines) - 1,
        (start.character if len(lines) == 1 else 0) + len(lines[-1]),
    )
    if (pos.line, pos.character) < (start.line, start.character):
        return pos
    if (pos.line, pos.character) < (end.line, end.character):
        return new_end if sticky else start
    if pos.line == end.line:
        return Position(new_end.line, new_end.character + pos.character - end.character)
    return Position(pos.line + new_end.line - end.line, pos.character)


class AcceptanceBook:
    """Shown suggestions by id, accepted ones followed until measured, counts to the ledger."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        enabled: Callable[[], bool],
        delay: Callable[[], float],
    ) -> None:
        """`enabled`, `delay` (seconds): what the settings say now."""
        self._ledger = ledger
        self._enabled = enabled
        self._delay = delay
        self._texts: dict[str, str] = {}  # the last text of documents with follows
        self._ids = itertools.count(1)
        self._shown: OrderedDict[str, ShownSuggestion] = OrderedDict()
        self._last: dict[str, list[ShownSuggestion]] = {}  # per document: the last shown
        self._follows: dict[str, list[Follow]] = {}  # per document
        self._day = dt.date.today()
        self._counts: dict[str, list[int]] = {}  # today, per model: shown, accepted, retained
        self.on_count: Callable[[], None] = lambda: None  # a count changed (the status bar)

    # -- shown ---------------------------------------------------------------------------

    def shown(self, key: str, suggestions: list[Suggestion], language: str) -> list[str | None]:
        """Ids for `suggestions` shown in document `key` (None: counting is off)."""
        if not self._enabled():
            return [None] * len(suggestions)
        before = self._last.get(key, [])
        out: list[str | None] = []
        now: list[ShownSuggestion] = []
        for s in suggestions:
            same = next(
                (old for old in before if old.model == s.model and old.text.endswith(s.text)),
                None,
            )
            if same is None:
                same = ShownSuggestion(
                    f"s{next(self._ids)}", key, s.text, s.start, s.model, language, s.mode
                )
                self._ledger.record_acceptance("shown", s.model, language, s.mode, len(s.text))
                self._count(s.model, 0, 1)
            else:  # typed through: the same answer, its rest shown here
                same = ShownSuggestion(
                    same.id, key, s.text, s.start, same.model, language, same.mode
                )
            self._shown[same.id] = same
            self._shown.move_to_end(same.id)
            now.append(same)
            out.append(same.id)
        while len(self._shown) > MAX_REMEMBERED:
            self._shown.popitem(last=False)
        self._last[key] = now
        return out

    # -- accepted ------------------------------------------------------------------------

    def accepted(
        self,
        suggestion_id: str,
        read: Callable[[str], str | None],
        accepted_chars: int | None = None,
    ) -> bool:
        """The user took suggestion `suggestion_id` (its first `accepted_chars` characters,
        for an editor that reports a partial accept); False for an id not known here. The
        editor has inserted it already (`read`: a document's text now, by its key): its
        place is followed from here on."""
        shown = self._shown.pop(suggestion_id, None)
        if shown is None or not self._enabled():
            return False
        text = shown.text if accepted_chars is None else shown.text[: max(accepted_chars, 0)]
        self._ledger.record_acceptance(
            "accepted", shown.model, shown.language, shown.mode, len(text)
        )
        self._count(shown.model, 1, 1)
        self._last.pop(shown.key, None)
        taken = ShownSuggestion(
            shown.id, shown.key, text, shown.start, shown.model, shown.language, shown.mode
        )
        end = _moved(shown.start, shown.start, shown.start, text, sticky=True)
        follow = Follow(taken, shown.start, end)
        self._follows.setdefault(shown.key, []).append(follow)
        text_now = read(shown.key)
        if text_now is not None:
            self._texts[shown.key] = text_now
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return True  # measured when the document closes
        follow.timer = loop.call_later(self._delay(), self._measure_one, shown.key, follow)
        return True

    # -- the document's changes ----------------------------------------------------------

    def changed(self, key: str, changes: list[Change], text: str) -> None:
        """Edits of document `key`, in order (LSP incremental sync); `text`: after them."""
        self._last.pop(key, None)  # what was shown there is gone from the screen
        follows = self._follows.get(key, [])
        if follows:
            self._texts[key] = text
        for follow in follows:
            for start, end, text in changes:
                if start is None or end is None:
                    follow.start = follow.end = Position(0, 0)  # cannot be followed
                    follow.shown = _lost(follow.shown)
                    continue
                follow.start = _moved(follow.start, start, end, text, sticky=False)
                follow.end = _moved(follow.end, start, end, text, sticky=False)

    def closed(self, key: str) -> None:
        """Document `key` closed: measure what is followed there, in its last text."""
        self._last.pop(key, None)
        text = self._texts.pop(key, None)
        for follow in self._follows.pop(key, []):
            if follow.timer is not None:
                follow.timer.cancel()
            self._record(follow, text)

    def measure_all(self) -> None:
        """At shutdown: measure everything still followed."""
        for key in list(self._follows):
            self.closed(key)

    # -- measuring -----------------------------------------------------------------------

    def _measure_one(self, key: str, follow: Follow) -> None:
        follows = self._follows.get(key, [])
        if follow in follows:
            follows.remove(follow)
            self._record(follow, self._texts.get(key))
            if not follows:
                self._follows.pop(key, None)
                self._texts.pop(key, None)

    def _record(self, follow: Follow, text: str | None) -> None:
        shown = follow.shown
        kept = retained_chars(shown.text, _span(text, follow.start, follow.end)) if text else 0
        self._ledger.record_acceptance("retained", shown.model, shown.language, shown.mode, kept)
        self._count(shown.model, 2, kept)

    def _count(self, model: str, which: int, amount: int) -> None:
        today = dt.date.today()
        if today != self._day:
            self._day, self._counts = today, {}
        self._counts.setdefault(model, [0, 0, 0])[which] += amount
        self.on_count()

    def today(self) -> dict[str, tuple[int, int, int]]:
        """Today's counts of this session per model: (shown, accepted, retained chars)."""
        if dt.date.today() != self._day:
            return {}
        return {model: (c[0], c[1], c[2]) for model, c in self._counts.items()}


# -- what the editor's server calls ------------------------------------------------------------


def suggestions_shown(
    runtime: Runtime, key: str, suggestions: list[Suggestion], language: str
) -> list[str | None]:
    """Ids for the suggestions shown in document `key`, for the editor to send back when
    one is accepted (None: counting is off)."""
    return runtime.acceptance.shown(key, suggestions, language)


def suggestion_accepted(
    runtime: Runtime,
    suggestion_id: str,
    read: Callable[[str], str | None],
    accepted_chars: int | None = None,
) -> bool:
    """The editor ran the accept command of suggestion `suggestion_id`; `read`: the text of
    a document now, by its key. False: not a suggestion shown here (or counting is off)."""
    return runtime.acceptance.accepted(suggestion_id, read, accepted_chars)


def document_changed(runtime: Runtime, key: str, changes: list[Change], text: str) -> None:
    """Edits of document `key` in order (`text`: after them), for the suggestions followed."""
    runtime.acceptance.changed(key, changes, text)


def document_gone(runtime: Runtime, key: str) -> None:
    """Document `key` closed: its accepted suggestions are measured now."""
    runtime.acceptance.closed(key)


def retained_chars(suggestion: str, now: str) -> int:
    """Characters of `suggestion` still in `now` (the text at its place), aligned by difflib."""
    if not suggestion or not now:
        return 0
    matcher = difflib.SequenceMatcher(None, suggestion, now, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


def _lost(shown: ShownSuggestion) -> ShownSuggestion:
    return ShownSuggestion(
        shown.id, shown.key, "", shown.start, shown.model, shown.language, shown.mode
    )


def _span(text: str, start: Position, end: Position) -> str:
    """The text between two positions counted in characters (the follow's units)."""
    lines = text.split("\n")

    def offset(pos: Position) -> int:
        line = min(pos.line, len(lines) - 1)
        return sum(len(x) + 1 for x in lines[:line]) + min(pos.character, len(lines[line]))

    return text[offset(start) : offset(end)]
