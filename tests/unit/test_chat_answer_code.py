"""What a code action puts into the file from a chat model's answer: the document's own line
breaks, the indentation of the code it replaces, lines kept as the model wrote them, and the
exact reason an answer that would break the file is refused (the message the user reads).

Table-driven; each row is a document or answer shape the action meets in real files.
"""

from __future__ import annotations

import pytest

from qwen_lsp.postprocess.answers import (
    code_changed,
    code_from_answer,
    common_indent,
    newline_of,
    prose_from_answer,
    syntax_problem,
)

LONE_SURROGATE = "\ud800"  # an editor may send one (JSON "\ud800"); the file must still be checked

NEWLINES = [
    # (description, document, the line break the edit is written with)
    ("Windows line breaks", "a\r\nb\r\n", "\r\n"),
    ("Unix line breaks", "a\nb\n", "\n"),
    ("classic Mac line breaks", "a\rb\r", "\r"),
    ("one line, no break", "abc", "\n"),
    ("empty document", "", "\n"),
    ("the first break decides, not the last", "a\r\nb\nc\n", "\r\n"),
    ("the first break decides: a Unix one before a Windows one", "a\nb\r\n", "\n"),
    ("a document that starts with a blank line", "\nx\r", "\n"),
    ("a carriage return inside a Unix line is not a line break", "a\rb\nc\n", "\n"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [n[1:] for n in NEWLINES], ids=[n[0] for n in NEWLINES]
)
def test_the_edit_uses_the_documents_line_breaks(text: str, expected: str):
    assert newline_of(text) == expected


INDENTS = [
    # (description, replaced code, the indentation every line of it shares)
    ("a method body", "    a = 1\n    b = 2", "    "),
    ("a nested line keeps the outer indent", "    if x:\n        y()", "    "),
    ("a shallower second line decides", "    a\n  b\n    c", "  "),
    ("an odd number of spaces", "   a\n  b", "  "),
    ("tabs", "\ta\n\t\tb", "\t"),
    ("blank lines do not count", "  a\n\n  b", "  "),
    ("one flush-left line", "a\n  b", ""),
    ("only blank lines", "\n  \n", ""),
    ("nothing", "", ""),
]


@pytest.mark.parametrize(
    ("code", "expected"), [i[1:] for i in INDENTS], ids=[i[0] for i in INDENTS]
)
def test_the_indentation_the_replaced_code_shares(code: str, expected: str):
    assert common_indent(code) == expected


ANSWERS = [
    # (description, model answer, indentation of the replaced code, code put into the file)
    (
        "an answer with Windows line breaks",
        "```python\r\nx = 1\r\ny = 2\r\n```",
        "",
        "x = 1\ny = 2",
    ),
    ("an answer with classic Mac line breaks", "x = 1\ry = 2", "", "x = 1\ny = 2"),
    ("a blank line with spaces becomes empty", "a = 1\n   \nb = 2", "", "a = 1\n\nb = 2"),
    (
        "trailing spaces inside a string literal are kept",
        's = """x  \ny"""',
        "",
        's = """x  \ny"""',
    ),
    (
        "re-indented: blank lines stay empty",
        "```\ndef f():\n    a = 1\n\n    return a\n```",
        "    ",
        "    def f():\n        a = 1\n\n        return a",
    ),
]


@pytest.mark.parametrize(
    ("answer", "indent", "expected"), [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS]
)
def test_the_code_put_into_the_file(answer: str, indent: str, expected: str):
    assert code_from_answer(answer, indent=indent) == expected


def test_an_explanation_with_windows_line_breaks_is_unwrapped():
    assert prose_from_answer("```markdown\r\n# Title\r\ntext\r\n```") == "# Title\ntext"


def _edit(old: str, replaced: str, by: str) -> tuple[str, tuple[int, int]]:
    start = old.index(replaced)
    return old.replace(replaced, by, 1), (start, start + len(by))


REFUSALS = [
    # (description, language, old file, replaced code, the model's code, the user's message)
    (
        "a bracket the new code leaves open, on the second line",
        "javascript",
        "let a = 1\nlet b = [1, 2];\n",
        "let b = [1, 2];",
        "let b = [1, 2;",
        "the new code does not parse as javascript: ']' is missing at line 2",
    ),
    (
        "the new code dropped the bracket the replaced region began with",
        "javascript",
        "let x = f(1);\n",
        ")",
        "",
        "the new code does not parse as javascript: ')' is missing at line 1",
    ),
    (
        "a syntax error on the third line",
        "python",
        "import os\n\nx = 1\n",
        "x = 1",
        "x = (1 +",
        "the new code does not parse as python: a syntax error at line 3",
    ),
    (
        "an error in the new code found although the file already had one after it",
        "python",
        "x = 1\n\ndef broken(:\n    pass\n",
        "x = 1",
        "x = (1 +",
        "the new code does not parse as python: a syntax error at line 1",
    ),
    (
        "a block opened and never closed breaks the rest of the file",
        "javascript",
        f"let s = '{LONE_SURROGATE}';\nlet x = 1;\nlet y = [1];\n",
        "let x = 1;",
        "if (x) {",
        "the new code breaks the parse of the rest of the file as javascript",
    ),
    (
        "a file with a lone surrogate is still checked",
        "python",
        f"s = '{LONE_SURROGATE}'\nx = 1\n",
        "x = 1",
        "x = (1",
        "the new code does not parse as python: a syntax error at line 2",
    ),
    (
        "a good edit of a file with a lone surrogate is accepted",
        "python",
        f"s = '{LONE_SURROGATE}'\nx = 1\n",
        "x = 1",
        "x = 2",
        None,
    ),
]


@pytest.mark.parametrize(
    ("language", "old", "replaced", "by", "message"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_the_reason_an_edit_is_refused(
    language: str, old: str, replaced: str, by: str, message: str | None
):
    new, changed = _edit(old, replaced, by)
    assert syntax_problem(language, old, new, changed) == message


def test_a_comment_translation_in_a_file_with_a_lone_surrogate_is_told_from_a_code_change():
    old = f"# 你好\ns = '{LONE_SURROGATE}'\nx = 1\n"
    assert not code_changed("python", old, old.replace("你好", "hello"))
    assert code_changed("python", old, old.replace("x = 1", "x = 2"))


def test_without_a_grammar_any_difference_is_a_code_change():
    assert code_changed(None, "a", "b")
    assert code_changed("no-such-language", "# a", "# b")
    assert not code_changed(None, "same", "same")
