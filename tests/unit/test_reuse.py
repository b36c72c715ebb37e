"""Typing-through reuse: the rest of a suggestion already paid for, with the cursor drawn as █."""

from __future__ import annotations

import pytest

from qwen_lsp.engine.completion.reuse import Anchor, Remembered, remainder
from qwen_lsp.model import Usage
from qwen_lsp.postprocess import FilterContext, process


def anchor(drawn: str) -> Anchor:
    before, after = drawn.split("█")
    return Anchor(before, after)


def remembered_at(drawn: str, answer: str) -> Remembered:
    at = anchor(drawn)
    processed = process(answer, FilterContext(prefix=at.before, suffix=at.after))
    assert processed is not None
    return Remembered(at, (processed.continuation,), (processed.shown,), "m", Usage(10, 5))


@pytest.mark.parametrize(
    ("continuation", "typed", "rest"),
    [
        ("sum(values)", "", "sum(values)"),
        ("sum(values)", "sum(", "values)"),
        ("sum(values)", "sum(values)", ""),
        ("sum(values)", "sun", None),
        # the editor indented the new line as the model did
        ("a()\n    b()", "a()\n    ", "b()"),
        # ... or differently: the user's indentation wins
        ("a()\n    b()", "a()\n        ", "b()"),
        ("a()\n    b()", "a()\n        b", "()"),
        # no indentation typed yet: the model's comes along
        ("a()\n    b()", "a()\n", "    b()"),
        ("a()\n    b()\n    c()", "a()\n  b()\n  ", "c()"),
        ("a()\n    b()", "a()\n    x", None),
        ("a()", "a()\n", None),
    ],
)
def test_remainder(continuation: str, typed: str, rest: str | None):
    assert remainder(continuation, typed) == rest


def test_typed_since_sees_only_typing_at_the_cursor():
    first = anchor("x = █\ny = 2\n")
    assert anchor("x = su█\ny = 2\n").typed_since(first) == "su"
    assert anchor("x = █\ny = 2\n").typed_since(first) == ""
    assert anchor("x =█\ny = 2\n").typed_since(first) is None  # deleted
    assert anchor("x = su█\ny = 3\n").typed_since(first) is None  # edited after the cursor
    assert anchor("z = su█\ny = 2\n").typed_since(first) is None  # edited before it


def test_typing_the_start_of_a_suggestion_serves_the_rest():
    memory = remembered_at("def mean(xs):\n    total = █\n", "sum(xs)")
    assert memory.serve(anchor("def mean(xs):\n    total = █\n")) == ["sum(xs)"]
    assert memory.serve(anchor("def mean(xs):\n    total = su█\n")) == ["m(xs)"]
    assert memory.serve(anchor("def mean(xs):\n    total = sum(xs)█\n")) == []
    assert memory.serve(anchor("def mean(xs):\n    total = max█\n")) is None


def test_hot_streak_offers_the_next_line_after_enter():
    memory = remembered_at(
        "def mean(xs):\n    total = █\n",
        "sum(xs)\n    count = len(xs)\n    return total / count",
    )
    assert memory.serve(anchor("def mean(xs):\n    total = █\n")) == ["sum(xs)"]
    # the first line accepted: nothing more on this line, no request either
    assert memory.serve(anchor("def mean(xs):\n    total = sum(xs)█\n")) == []
    # Enter, and the editor's indentation: the rest, several lines on a blank line
    after_enter = anchor("def mean(xs):\n    total = sum(xs)\n    █\n")
    assert memory.serve(after_enter) == ["count = len(xs)\n    return total / count"]
    typing = anchor("def mean(xs):\n    total = sum(xs)\n    count = len(xs)\n    ret█\n")
    assert memory.serve(typing) == ["urn total / count"]


def test_several_candidates_are_matched_each_and_deduplicated():
    at = anchor("x = █\n")
    memory = Remembered(
        at, ("foo(1)", "foo(2)", "bar()"), ("foo(1)", "foo(2)", "bar()"), "m", Usage()
    )
    assert memory.serve(anchor("x = fo█\n")) == ["o(1)", "o(2)"]
    assert memory.serve(anchor("x = b█\n")) == ["ar()"]
