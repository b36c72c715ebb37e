"""The acceptance book: an answer typed through counts as shown once; an accepted
suggestion's place follows the document's edits, and what is measured there is what is left
of it."""

from __future__ import annotations

from qwen_lsp.engine.acceptance import AcceptanceBook, retained_chars
from qwen_lsp.model import Position, Suggestion
from qwen_lsp.spend import Ledger


def book(enabled: bool = True) -> tuple[AcceptanceBook, Ledger]:
    ledger = Ledger(None)
    return AcceptanceBook(ledger, enabled=lambda: enabled, delay=lambda: 60.0), ledger


def suggestion(text: str, line: int, character: int) -> Suggestion:
    at = Position(line, character)
    return Suggestion(text, at, at, model="m", mode="fim")


def counts(ledger: Ledger) -> tuple[int, int, int, int]:
    [row] = ledger.acceptance()
    return row.shown, row.accepted, row.accepted_chars, row.retained_chars


def test_typing_through_an_answer_shows_it_once():
    b, ledger = book()
    [first] = b.shown("doc", [suggestion("sum(values)", 1, 12)], "python")
    [again] = b.shown("doc", [suggestion("values)", 1, 16)], "python")
    assert first == again
    [other] = b.shown("doc", [suggestion("len(values)", 1, 16)], "python")
    assert other != first
    assert counts(ledger)[:2] == (2, 0)


def test_the_place_follows_edits_before_and_inside_it():
    b, ledger = book()
    text = "def f(values):\n    total = sum(values)\n"
    [sid] = b.shown("doc", [suggestion("sum(values)", 1, 12)], "python")
    assert b.accepted(sid, lambda key: text)
    # A line typed above, then "values" rewritten to "xs" (line 2 now).
    text = "# note\n" + text
    b.changed("doc", [(Position(0, 0), Position(0, 0), "# note\n")], text)
    text = text.replace("sum(values)", "sum(xs)")
    b.changed("doc", [(Position(2, 16), Position(2, 22), "xs")], text)
    b.closed("doc")
    assert counts(ledger) == (1, 1, len("sum(values)"), len("sum()") + 1)  # "s" of "xs"


def test_a_deleted_suggestion_retains_nothing_and_unknown_ids_are_refused():
    b, ledger = book()
    text = "x = foo(1)\n"
    [sid] = b.shown("doc", [suggestion("foo(1)", 0, 4)], "python")
    assert not b.accepted("s999", lambda key: text)
    assert b.accepted(sid, lambda key: text)
    assert not b.accepted(sid, lambda key: text)  # counted once
    text = "x = \n"
    b.changed("doc", [(Position(0, 4), Position(0, 10), "")], text)
    b.closed("doc")
    assert counts(ledger) == (1, 1, 6, 0)


def test_counting_off_counts_nothing():
    b, ledger = book(enabled=False)
    assert b.shown("doc", [suggestion("a", 0, 0)], "python") == [None]
    assert ledger.acceptance() == []


def test_retained_chars_align_the_suggestion_with_what_is_there():
    assert retained_chars("return a + b", "return a + b") == 12
    assert retained_chars("return a + b", "return a - b") == 11
    assert retained_chars("abc", "") == 0
