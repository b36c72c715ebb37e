"""The syntax check at the cursor parses only the constructs next to it: an error elsewhere in
the file must not switch the check off, and a file with a lone surrogate (an editor may send
one) is still checked. The cursor is drawn as █; each row says what the user is offered.
"""

from __future__ import annotations

import pytest

from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.postprocess import FilterContext
from qwen_lsp.postprocess.syntax import SyntaxProbe, cut_to_parsing_prefix

BROKEN = "def broken(:\n    pass\n\n\n"  # a function the user has not finished, elsewhere
BREAKS = "y = 1\n    z = ("  # an answer whose second line breaks the code at the cursor

AROUND = [
    # (description, document, answer, what the user is offered)
    (
        "inside a function, broken code before and after it",
        f"{BROKEN}def f(x):\n    █\n    return x\n\n\n{BROKEN}",
        BREAKS,
        "y = 1",
    ),
    (
        "inside the first construct of the file, broken code after it",
        f"def f(x):\n    █\n    return x\n\n\n{BROKEN}",
        BREAKS,
        "y = 1",
    ),
    (
        "inside the last construct of the file, broken code before it",
        f"{BROKEN}def f(x):\n    █\n    return x\n",
        BREAKS,
        "y = 1",
    ),
    (
        "between two constructs, broken code beyond them",
        f"{BROKEN}def f(x):\n    return x\n\n█\n\ndef h():\n    pass\n\n\n{BROKEN}",
        "y = 1\nz = (",
        "y = 1",
    ),
    (
        "at the end of the file, after the last construct",
        f"{BROKEN}def f(x):\n    return x\n\n\n█",
        "y = 1\nz = (",
        "y = 1",
    ),
    (
        "at the start of a construct, broken code before it",
        f"{BROKEN}█def f(x):\n    return x\n",
        "z = (\n",
        None,
    ),
    (
        "at the start of the file, before the first construct",
        f"█\n\ndef f(x):\n    return x\n\n\n{BROKEN}",
        "y = 1\nz = (",
        "y = 1",
    ),
    (
        "an answer that parses is kept whole",
        f"{BROKEN}def f(x):\n    █\n    return x\n\n\n{BROKEN}",
        "y = 1\n    z = 2",
        "y = 1\n    z = 2",
    ),
]


@pytest.mark.parametrize(
    ("drawn", "answer", "expected"), [a[1:] for a in AROUND], ids=[a[0] for a in AROUND]
)
def test_an_error_elsewhere_in_the_file_does_not_switch_the_check_off(
    drawn: str, answer: str, expected: str | None
):
    cursor = drawn.index("█")
    text = drawn.replace("█", "", 1)
    document = SourceDocument(text, "python")
    probe = SyntaxProbe.around(document, cursor, 0, len(text))
    assert probe is not None
    ctx = FilterContext(text[:cursor], text[cursor:], "python", syntax=probe)
    assert cut_to_parsing_prefix(answer, ctx) == expected


def test_the_prompts_window_bounds_the_code_that_is_parsed():
    drawn = f"{BROKEN}x = 1\n█\ny = 2\n"
    cursor = drawn.index("█")
    text = drawn.replace("█", "", 1)
    window = text.index("x = 1")  # the prompt starts after the broken function
    probe = SyntaxProbe.around(SourceDocument(text, "python"), cursor, window, len(text))
    assert probe is not None
    ctx = FilterContext(text[:cursor], text[cursor:], "python", syntax=probe)
    assert cut_to_parsing_prefix("z = 3\nw = (", ctx) == "z = 3"


def test_no_grammar_no_probe():
    assert SyntaxProbe.around(SourceDocument("x = 1\n", None), 0, 0, 6) is None
    assert SyntaxProbe.for_text("no-such-language", "x", "") is None


LONE_SURROGATE = "\ud800"


def test_a_document_with_a_lone_surrogate_is_still_checked():
    before, after = f"s = '{LONE_SURROGATE}'\n", "\nt = 2\n"
    ctx = FilterContext(
        before, after, "python", syntax=SyntaxProbe.for_text("python", before, after)
    )
    assert cut_to_parsing_prefix("x = 1\nz = (", ctx) == "x = 1"
    assert cut_to_parsing_prefix("x = 1\nz = 2", ctx) == "x = 1\nz = 2"
