"""The sources of related code: references near the cursor (the call being typed weighs
most), similar windows of other open documents, and recent edits."""

from __future__ import annotations

from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.similarity import WindowIndex
from qwen_lsp.context.snippets import (
    CALLEE_WEIGHT,
    EditMark,
    recent_edit_pieces,
    references_near,
    similar_pieces,
)


def refs(drawn: str) -> list[tuple[str, str]]:
    cursor = drawn.index("█")
    return [(r.qualifier, r.name) for r in references_near(drawn.replace("█", ""), cursor)]


def test_the_call_being_typed_comes_first():
    assert refs("total = 0\nfor item in items:\n    total += pricing.net_price(item, █")[0] == (
        "pricing",
        "net_price",
    )
    assert refs("let r = geometry::area(&rect, █")[0] == ("geometry", "area")
    assert refs("if (x) {\n  widget->render(█")[0] == ("widget", "render")
    # a call closed before the cursor is not the one being typed
    assert refs("value = compute(a, b) + adjust(█")[0] == ("", "adjust")


def test_after_a_dot_the_object_whose_members_are_wanted_comes_first():
    assert refs("config = load()\nreturn settings.█")[0] == ("", "settings")


def test_keywords_are_not_references_and_closer_lines_weigh_more():
    cursor_text = "import os\n" + "far_away = 1\n" * 3 + "x = near_one + █"
    found = references_near(cursor_text.replace("█", ""), cursor_text.index("█"))
    names = [r.name for r in found]
    assert "import" not in names and "os" in names
    weight = {r.name: r.weight for r in found}
    assert weight["near_one"] > weight["far_away"] / 3  # three mentions far vs one near
    assert max(r.weight for r in found) < CALLEE_WEIGHT  # no call is being typed


def test_similar_code_in_another_document_is_found():
    handlers = "\n".join(
        f"def handle_{name}(request):\n    user = authenticate(request)\n"
        f"    payload = parse_json(request.body)\n    audit_log(user, '{name}')\n"
        f"    return respond(payload)\n"
        for name in ("create", "update", "delete")
    )
    other = ("x = 1\n" * 40) + handlers + ("y = 2\n" * 40)
    query = "def handle_archive(request):\n    user = authenticate(request)\n    payload = "
    [found] = similar_pieces(query, [("api/handlers.py", WindowIndex(other))])
    assert found.path == "api/handlers.py" and found.source == "similar"
    assert "authenticate(request)" in found.text and "parse_json" in found.text
    assert similar_pieces("a = b\n", [("x.py", WindowIndex(other))]) == []  # too little to go on


def test_recent_edits_show_the_lines_around_them_most_recent_first():
    document = SourceDocument("".join(f"line {i}\n" for i in range(50)), "python")
    pieces = recent_edit_pieces(
        [EditMark("a.py", 20), EditMark("a.py", 2), EditMark("gone.py", 1)], {"a.py": document}
    )
    assert [(p.start_line, p.end_line) for p in pieces] == [(16, 26), (0, 8)]
    assert pieces[0].score > pieces[1].score
    assert pieces[0].text.startswith("line 16\n") and pieces[0].text.endswith("line 26")
