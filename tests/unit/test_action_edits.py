"""Minimal edits: each case is an old and a new text and the replacements expected between them."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qwen_lsp.engine.actions.edits import (
    Replacement,
    apply_edits,
    changed_characters,
    minimal_edits,
)

CASES = [
    # (description, old, new, expected replacements as (old text replaced, new text))
    ("identical", "a = 1\n", "a = 1\n", []),
    (
        "a docstring inserted",
        "def f():\n    pass\n",
        'def f():\n    """F."""\n    pass\n',
        [("", '    """F."""\n')],
    ),
    ("a letter added", "    return len(value)\n", "    return len(values)\n", [("", "s")]),
    (
        "two annotations on one line",
        "function greet(name) {\n",
        "function greet(name: string): string {\n",
        [("", ": string"), ("", ": string")],
    ),
    (
        "a block rewritten is one replacement",
        "\tif n > 0 {\n\t\treturn true\n\t} else {\n\t\treturn false\n\t}\n",
        "\treturn n > 0\n",
        [("if n > 0 {\n\t\treturn true\n\t} else {\n\t\treturn false\n\t}", "return n > 0")],
    ),
    ("a line removed", "a\nb\nc\n", "a\nc\n", [("b\n", "")]),
    ("everything from nothing", "", "x = 1\n", [("", "x = 1\n")]),
    ("a final newline dropped", "a\nb\n", "a\nb", [("\n", "")]),
    ("CRLF kept", "a = 1\r\nb = 2\r\n", "a = 1\r\nb = 3\r\n", [("2", "3")]),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_minimal_edits(old: str, new: str, expected: list[tuple[str, str]]):
    edits = minimal_edits(old, new)
    assert apply_edits(old, edits) == new
    assert [(old[e.start : e.end], e.text) for e in edits] == expected


def test_offset_places_edits_in_the_larger_text():
    head = "# header\n"
    edits = minimal_edits("x = 1\n", "x = 2\n", offset=len(head))
    assert edits == [Replacement(len(head) + 4, len(head) + 5, "2")]
    assert apply_edits(head + "x = 1\n", edits) == head + "x = 2\n"


def test_a_touched_up_function_changes_far_fewer_characters_than_a_whole_replacement():
    old = "def area(w, h):\n    # area\n    return w * h\n\n\ndef unrelated():\n    return 0\n"
    new = "def area(w: float, h: float) -> float:\n    # area\n    return w * h\n\n\n"
    new += "def unrelated():\n    return 0\n"
    edits = minimal_edits(old, new)
    assert apply_edits(old, edits) == new
    assert changed_characters(edits) == len(": float") * 2 + len(" -> float")


@given(
    st.text(alphabet="ab \n\t:(){}é中", max_size=60),
    st.text(alphabet="ab \n\t:(){}é中", max_size=60),
)
def test_edits_always_rebuild_the_new_text(old: str, new: str):
    edits = minimal_edits(old, new)
    assert apply_edits(old, edits) == new
    ends = [(e.start, e.end) for e in edits]
    assert ends == sorted(ends)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends))  # no overlap
