"""Reading the model's review answer: the schema, validated, in file lines."""

from __future__ import annotations

import json

import pytest

from qwen_lsp.engine.review.chunks import Chunk
from qwen_lsp.engine.review.diff import parse_unified_diff
from qwen_lsp.engine.review.prompt import numbered
from qwen_lsp.engine.review.run import MalformedAnswer, parse_answer

# Lines 21-25 of a file; 22-23 under review.
CHUNK = Chunk(
    path="src/app.py",
    language="python",
    start=21,
    lines=("def f(x):", "    y = x[0]", "    return y / 0", "", "# end"),
    review=((22, 23),),
)


def item(**overrides):
    base = {
        "path": "src/app.py",
        "line": 3,
        "endLine": 3,
        "severity": "error",
        "rule": "zero-division",
        "message": "Division by zero.",
        "suggestion": "    return y",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def test_lines_are_numbered_from_the_chunk_start():
    assert numbered(CHUNK).split("\n")[:2] == ["1 | def f(x):", "2 |     y = x[0]"]


@pytest.mark.parametrize(
    ("description", "given", "kept", "malformed", "outside"),
    [
        ("a good finding, in file lines", item(), (23, 23), 0, 0),
        ("endLine may be left out", item(endLine=...), (23, 23), 0, 0),
        ("numbers as text", item(line="2", endLine="3"), (22, 23), 0, 0),
        ("severity in capitals", item(severity="Warning"), (23, 23), 0, 0),
        ("'./' before the path", item(path="./src/app.py"), (23, 23), 0, 0),
        ("no line", item(line=...), None, 1, 0),
        ("a line that is not a number", item(line="three"), None, 1, 0),
        ("ends before it starts", item(line=3, endLine=2), None, 1, 0),
        ("unknown severity", item(severity="purple"), None, 1, 0),
        ("critical is an error", item(severity="critical"), (23, 23), 0, 0),
        ("major is a warning", item(severity=" Major "), (23, 23), 0, 0),
        ("trivial is info", item(severity="trivial"), (23, 23), 0, 0),
        ("no message", item(message=""), None, 1, 0),
        ("not an object", "just text", None, 1, 0),
        ("a context line", item(line=1, endLine=1), None, 0, 1),
        ("past the chunk", item(line=5, endLine=9), None, 0, 1),
        ("another file", item(path="src/other.py"), None, 0, 1),
    ],
)
def test_findings_are_validated(description, given, kept, malformed, outside):
    parsed = parse_answer(json.dumps({"findings": [given]}), CHUNK)
    assert (parsed.malformed, parsed.outside) == (malformed, outside), description
    if kept is None:
        assert parsed.findings == []
    else:
        [finding] = parsed.findings
        assert (finding.line, finding.end_line) == kept
        assert finding.path == "src/app.py"


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("critical", "error"),
        ("HIGH", "error"),
        ("blocker", "error"),
        ("medium", "warning"),
        ("major", "warning"),
        ("low", "info"),
        ("minor", "info"),
        ("trivial", "info"),
        ("note", "info"),
        ("warning", "warning"),
    ],
)
def test_severities_in_other_words_keep_their_level(written, meant):
    parsed = parse_answer(json.dumps({"findings": [item(severity=written)]}), CHUNK)
    assert [f.severity for f in parsed.findings] == [meant]


def test_a_fenced_suggestion_is_unwrapped_and_the_fingerprint_ignores_line_numbers():
    [finding] = parse_answer(
        json.dumps({"findings": [item(suggestion="```python\n    return y\n```")]}), CHUNK
    ).findings
    assert finding.suggestion == "    return y"
    moved = Chunk(CHUNK.path, "python", 121, CHUNK.lines, ((122, 123),))
    [again] = parse_answer(json.dumps({"findings": [item()]}), moved).findings
    assert again.line == 123
    assert again.fingerprint == finding.fingerprint


@pytest.mark.parametrize(
    "text",
    [
        "no JSON here",
        '{"result": []}',
        '{"findings": "none"}',
        "",
    ],
)
def test_answers_without_the_schema_are_malformed(text):
    with pytest.raises(MalformedAnswer):
        parse_answer(text, CHUNK)


def test_json_around_prose_is_found():
    text = 'Sure! {"findings": []} Hope this helps.'
    assert parse_answer(text, CHUNK).findings == []


def test_unified_diff_new_side_lines():
    patch = """diff --git a/a.py b/a.py
--- a/a.py
+++ b/a.py
@@ -1,3 +1,4 @@
 keep
-old
+new
+added
 keep
@@ -10,2 +11,0 @@
-removed only
-removed too
diff --git a/gone.py b/gone.py
deleted file mode 100644
--- a/gone.py
+++ /dev/null
@@ -1 +0,0 @@
--- looks like a header
diff --git a/sql.sql b/sql.sql
--- a/sql.sql
+++ b/sql.sql
@@ -4 +4 @@
--- an old SQL comment
+-- a new SQL comment
"""
    changes = {c.path: c.hunks for c in parse_unified_diff(patch)}
    assert changes == {"a.py": ((2, 3),), "sql.sql": ((4, 4),)}


def test_a_patch_without_prefixes_and_from_plain_diff():
    patch = "--- old/f.c\t2026-01-01\n+++ new/f.c\t2026-01-01\n@@ -5,0 +6,2 @@\n+x\n+y\n"
    assert [(c.path, c.hunks) for c in parse_unified_diff(patch)] == [("new/f.c", ((6, 7),))]
