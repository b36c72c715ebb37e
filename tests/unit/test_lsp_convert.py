"""lsp/convert.py: LSP types to the engine's plain data and back.

Round trips (positions, ranges, a code action's packed data, diagnostics to Problems), and the
places where a column is computed from text rather than passed through: a review finding's
range and its quick fix, and a completion item that replaces the word before the cursor. Those
are checked in each position encoding a client may negotiate, on lines whose characters take
a different number of units in each (CJK, an emoji outside the BMP, an ideographic space), by
applying the result to the document the way a client counting in that encoding would.
"""

from __future__ import annotations

import json

import pytest
from lsprotocol import types

from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine import ActionOffer, FileEdit, Problem, TextChange
from qwen_lsp.lsp import convert
from qwen_lsp.model import Finding, Position, Suggestion

ENCODINGS = ["utf-16", "utf-8", "utf-32"]


def units(text: str, encoding: str) -> int:
    """How many units a client counting in `encoding` sees in `text`."""
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    return len(text)


def apply(source: SourceDocument, edit: types.TextEdit) -> str:
    """The document's text after `edit`, its range read in the document's encoding."""
    start, end = convert.span(edit.range)
    a, b = source.offset_at(start), source.offset_at(end)
    return source.text[:a] + edit.new_text + source.text[b:]


def covered(source: SourceDocument, r: types.Range) -> str:
    start, end = convert.span(r)
    return source.text[source.offset_at(start) : source.offset_at(end)]


# -- round trips ------------------------------------------------------------------------------


def test_positions_and_ranges_round_trip():
    p = types.Position(line=3, character=17)
    assert convert.lsp_position(convert.position(p)) == p
    assert convert.position(p) == Position(3, 17)
    r = types.Range(start=types.Position(1, 2), end=types.Position(4, 0))
    assert convert.lsp_range(*convert.span(r)) == r


def test_a_packed_span_survives_json_and_an_lsp_range_unpacks_too():
    start, end = Position(2, 5), Position(7, 1)
    packed = json.loads(json.dumps(convert.pack_span(start, end)))
    assert convert.unpack_span(packed) == (start, end)
    as_json = {"start": {"line": 2, "character": 5}, "end": {"line": 7, "character": 1}}
    assert convert.unpack_span(as_json) == (start, end)


@pytest.mark.parametrize(
    "damaged",
    [[1, 2, 3], ["a", 0, 0, 0], None, {"start": {"line": 0}}, [0, -1, 0, 0], "0,0,0,0"],
)
def test_a_damaged_span_is_an_error_not_a_range(damaged):
    with pytest.raises((ValueError, TypeError, KeyError)):
        convert.unpack_span(damaged)


def test_a_diagnostic_becomes_a_problem_and_a_problem_survives_a_code_action_round_trip():
    d = types.Diagnostic(
        range=types.Range(types.Position(4, 2), types.Position(4, 9)),
        message="undefined name 'x'",
        source="pyflakes",
        code=821,
    )
    problem = convert.problem(d)
    assert problem == Problem(
        "undefined name 'x'", Position(4, 2), Position(4, 9), "pyflakes", "821"
    )
    packed = json.loads(json.dumps(convert.pack_problem(problem)))
    assert convert.unpack_problem(packed) == problem
    assert convert.problem(types.Diagnostic(range=d.range, message="m")).code is None


def test_an_engine_text_change_becomes_a_text_edit():
    edit = convert.text_edit(TextChange(Position(1, 0), Position(2, 3), "new"))
    assert edit == types.TextEdit(types.Range(types.Position(1, 0), types.Position(2, 3)), "new")


def test_a_listed_code_action_survives_the_round_trip_through_the_client():
    problem = Problem("unused", Position(1, 0), Position(1, 4), "ruff", "F401")
    offer = ActionOffer("fix", "AI: Fix", "quickfix", argument=None, diagnostics=(problem,))
    listed = convert.ListedAction(offer, "file:///a.py", 7, Position(1, 0), Position(2, 5))
    data = json.loads(json.dumps(convert.action_data(listed)))
    action = types.CodeAction(title="AI: Fix", kind="quickfix", data=data)
    assert convert.is_listed_action(action.data)
    assert convert.listed_action(action) == listed


@pytest.mark.parametrize(
    "data", [None, {"other": 1}, {"qwenLsp": 1, "action": "fix"}, {"qwenLsp": 1, "range": 3}]
)
def test_a_code_action_that_is_not_ours_or_is_damaged_is_refused(data):
    with pytest.raises((KeyError, TypeError, ValueError)):
        convert.listed_action(types.CodeAction(title="t", data=data))


def test_an_action_result_becomes_the_workspace_edit_the_client_takes(tmp_path):
    test_file = tmp_path / "tests" / "test_a.py"
    files = [
        FileEdit(None, (TextChange(Position(0, 0), Position(0, 0), '"""Doc."""\n'),)),
        FileEdit(
            test_file, (TextChange(Position(0, 0), Position(0, 0), "def test(): ...\n"),), True
        ),
    ]
    versions = {"file:///a.py": 3}
    rich = convert.workspace_edit(
        files, "file:///a.py", document_changes=True, version_of=versions.get
    )
    own, create, new = rich.document_changes  # a new file is created before its edit
    assert isinstance(create, types.CreateFile) and create.uri == test_file.as_uri()
    assert (own.text_document.uri, own.text_document.version) == ("file:///a.py", 3)
    assert (new.text_document.uri, new.text_document.version) == (test_file.as_uri(), None)
    assert own.edits[0].new_text == '"""Doc."""\n'
    plain = convert.workspace_edit(
        files, "file:///a.py", document_changes=False, version_of=versions.get
    )
    assert plain.document_changes is None
    assert set(plain.changes) == {"file:///a.py", test_file.as_uri()}


def test_suggestions_become_inline_items_over_their_range():
    [item] = convert.inline_items([Suggestion("b + c", Position(0, 4), Position(0, 6))])
    assert item.insert_text == "b + c"
    assert item.range == types.Range(types.Position(0, 4), types.Position(0, 6))


# -- columns computed from text, in each encoding ---------------------------------------------

CODE = 'def greet():\n\u3000\u3000s = "日本😀"\n    return s\n'
LEAK = Finding("a.py", 2, 2, "warning", "style", "a CJK string", "x = 1", "fp1")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_finding_covers_its_code_from_the_first_non_blank_to_the_end_of_its_last_line(
    encoding: str,
):
    source = SourceDocument(CODE, "python", encoding=encoding)
    d = convert.diagnostic(source, LEAK, 2)
    assert covered(source, d.range) == 's = "日本😀"'
    assert d.range.start == types.Position(1, units("\u3000\u3000", encoding))
    assert d.range.end == types.Position(1, units('\u3000\u3000s = "日本😀"', encoding))
    assert (d.source, d.code, d.severity) == ("qwen-lsp", "style", types.DiagnosticSeverity.Warning)
    assert d.data == {"fingerprint": "fp1"}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_finding_that_moved_is_shown_where_its_code_is_now(encoding: str):
    source = SourceDocument("# added\n" + CODE, "python", encoding=encoding)
    assert covered(source, convert.diagnostic(source, LEAK, 3).range) == 's = "日本😀"'


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_quick_fix_replaces_the_whole_lines_or_deletes_them_with_their_breaks(encoding: str):
    source = SourceDocument(CODE, "python", encoding=encoding)
    replaced = apply(source, convert.suggestion_edit(source, LEAK, 2))
    assert replaced == "def greet():\nx = 1\n    return s\n"
    delete = Finding("a.py", 2, 2, "info", "unused", "unused", "", "fp2")
    assert apply(source, convert.suggestion_edit(source, delete, 2)) == (
        "def greet():\n    return s\n"
    )


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    ("line", "word"),
    [("x = 日本.fo", "fo"), ("😀fo", "fo"), ("print(😀)", ""), ("value_1", "value_1")],
)
def test_a_completion_item_replaces_the_word_before_the_cursor(encoding: str, line: str, word: str):
    text = line + "\nnext\n"
    source = SourceDocument(text, "python", encoding=encoding)
    cursor = Position(0, units(line, encoding))
    [item] = convert.completion_items([Suggestion("bar()", cursor, cursor)], source, cursor)
    assert item.text_edit.new_text == word + "bar()"
    assert item.text_edit.range.start == types.Position(0, units(line, encoding) - len(word))
    assert apply(source, item.text_edit) == line + "bar()\nnext\n"
    assert item.filter_text == word + "bar()"


def test_completion_items_keep_the_engine_order_and_label_by_the_first_line():
    source = SourceDocument("x = ", "python")
    cursor = Position(0, 4)
    suggestions = [
        Suggestion("compute(\n    a,\n)", cursor, cursor),
        Suggestion("\n    other", cursor, cursor),
    ]
    first, second = convert.completion_items(suggestions, source, cursor)
    assert (first.label, first.sort_text) == ("compute(", "00")
    assert (second.label, second.sort_text) == ("other", "01")
