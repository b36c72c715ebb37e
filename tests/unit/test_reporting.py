"""Report formats that are pure text: colours, escaping, caps."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from qwen_lsp.model import Finding
from qwen_lsp.reporting import Report, RunSummary, render
from qwen_lsp.reporting.github import ANNOTATIONS_PER_LEVEL, render_github
from qwen_lsp.reporting.safe_text import is_command


def finding(line: int, severity: str = "warning", message: str = "m", **kw) -> Finding:
    return Finding("a.py", line, line, severity, "rule", message, fingerprint=f"f{line}", **kw)


def test_text_colours_only_when_asked():
    report = Report((finding(1, "error"),))
    assert "\x1b[31m" in render("text", report, color=True)
    assert "\x1b[" not in render("text", report, color=False)


def test_text_without_findings():
    assert render("text", Report(())) == "no findings\n"


def test_github_escapes_data_and_properties():
    f = Finding("dir/a,b.py", 3, 4, "info", "r:1", "50% done\nnext", suggestion="x = 1")
    [line] = render_github(Report((f,))).commands.splitlines()
    assert line == (
        "::notice file=dir/a%2Cb.py,line=3,endLine=4,title=qwen-lsp%3A r%3A1::"
        "50%25 done%0Anext%0A%0ASuggested change:%0Ax = 1"
    )


def test_github_caps_each_level_separately():
    findings = tuple(finding(n, "error") for n in range(1, 13)) + tuple(
        finding(n, "warning") for n in range(13, 16)
    )
    output = render_github(Report(findings))
    assert output.shown == ANNOTATIONS_PER_LEVEL + 3
    assert output.summary.count("| `a.py` |") == 15
    assert render_github(Report(findings), capped=False).shown == 15


# -- model text is data, not commands ---------------------------------------------------------

HOSTILE = (
    "Looks fine.\n::error file=app.py,line=1::spoofed\n  ::add-mask::x\x1b[2J\x07 ##[error]old"
)


def test_text_report_has_no_command_line_and_no_control_byte():
    f = Finding(
        "::warning::odd\nname.py",
        1,
        2,
        "error",
        "rule\n::error::r",
        HOSTILE,
        suggestion="x = 1\n::set-output name=a::b\n\tindented\x1b]0;title\x07",
    )
    out = render("text", Report((f,)))
    for line in out.splitlines():
        assert not is_command(line), line
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in out)
    assert "\\x1b[2J" in out  # escaped, still readable
    assert "|     \tindented" in out.replace("| \t", "|     \t")  # tabs of code kept


def test_github_commands_are_one_line_each_and_controls_escaped():
    f = Finding("a.py", 3, 3, "error", "r", HOSTILE, suggestion="y = 2\r\n::error::z")
    output = render_github(Report((f,)))
    [line] = output.commands.splitlines()
    assert line.startswith("::error file=a.py,line=3,endLine=3,title=qwen-lsp%3A r::")
    assert "\x1b" not in line and "\x07" not in line and "\\x1b[2J" in line
    # the message's own lines are GitHub's %0A, inside the one command
    assert "Looks fine.%0A::error file=app.py,line=1::spoofed%0A" in line
    assert "\\r%0A::error::z" in line  # a CR of the model's is shown, not obeyed
    assert "\x1b" not in output.summary


def test_sarif_uris_are_percent_encoded_relative_references():
    from qwen_lsp.reporting.sarif import uri_reference

    assert uri_reference("src/a b/100%#1?.py") == "src/a%20b/100%25%231%3F.py"
    assert uri_reference("docs/é.py") == "docs/%C3%A9.py"
    assert uri_reference("a:b/c.py") == "a%3Ab/c.py"  # not a scheme
    assert uri_reference("plain/path_1-x.y~z.py") == "plain/path_1-x.y~z.py"


def _deletion(f: Finding, lines: tuple[str, ...], fmt: str) -> dict:
    report = Report((f,), file_lines={f.path: lines})
    data = json.loads(render(fmt, report))
    if fmt == "rdjson":
        return data["diagnostics"][0]["suggestions"][0]["range"]
    fix = data["runs"][0]["results"][0]["fixes"][0]
    return fix["artifactChanges"][0]["replacements"][0]["deletedRegion"]


def test_deleting_the_last_lines_never_points_past_the_end_of_the_file():
    lines = ("a = 1", "b = 'é'", "c = 3")
    last = Finding("a.py", 2, 3, "info", "dead", "m", suggestion="", fingerprint="x")
    # reviewdog counts UTF-8 bytes: the break after line 1 to the end of line 3
    assert _deletion(last, lines, "rdjson") == {
        "start": {"line": 1, "column": 6},
        "end": {"line": 3, "column": 6},
    }
    assert _deletion(last, lines, "sarif") == {
        "startLine": 1,
        "startColumn": 6,
        "endLine": 3,
        "endColumn": 6,
    }
    middle = Finding("a.py", 2, 2, "info", "dead", "m", suggestion="", fingerprint="x")
    assert _deletion(middle, lines, "rdjson") == {
        "start": {"line": 2, "column": 1},
        "end": {"line": 3, "column": 1},
    }
    whole = Finding("a.py", 1, 3, "info", "dead", "m", suggestion="", fingerprint="x")
    assert _deletion(whole, lines, "rdjson")["end"] == {"line": 3, "column": 6}
    # the line before the deletion is measured in UTF-16 units for SARIF
    after_accent = Finding("a.py", 3, 3, "info", "dead", "m", suggestion="", fingerprint="x")
    assert _deletion(after_accent, lines, "rdjson")["start"] == {"line": 2, "column": 9}
    assert _deletion(after_accent, lines, "sarif")["startColumn"] == 8


# -- GitLab and JUnit -------------------------------------------------------------------------

DATA = Path(__file__).resolve().parents[1] / "data"


def _mixed() -> Report:
    return Report(
        (
            Finding("src/a.py", 3, 4, "error", "sql-injection", "Built from input.", "q()", "f1"),
            Finding("src/a.py", 9, 9, "warning", "leak", "Not closed.\x1b[0m", None, "f2"),
            Finding("src/a.py", 12, 12, "warning", "leak", "Not closed.", "", "f2"),
            Finding("b.py", 1, 1, "info", "naming", "Misleading & <odd>.", None, "f3"),
        ),
        reviewed_files=("src/a.py", "b.py", "clean.py"),
        version="1.2.3",
    )


def test_gitlab_code_quality_is_valid_and_fingerprints_are_unique():
    schema = json.loads((DATA / "gitlab-codequality-schema.json").read_text(encoding="utf-8"))
    issues = json.loads(render("gitlab", _mixed()))
    jsonschema.Draft7Validator(schema).validate(issues)
    assert [i["severity"] for i in issues] == ["critical", "major", "major", "info"]
    assert issues[0]["location"] == {"path": "src/a.py", "lines": {"begin": 3, "end": 4}}
    assert issues[0]["check_name"] == "sql-injection"
    assert len({i["fingerprint"] for i in issues}) == 4  # the same code twice: still two
    assert "```\nq()\n```" in issues[0]["content"]["body"]
    assert render("gitlab", Report(())) == "[]\n"


def test_gitlab_schema_catches_what_gitlab_rejects():
    schema = json.loads((DATA / "gitlab-codequality-schema.json").read_text(encoding="utf-8"))
    [issue] = json.loads(render("gitlab", Report((finding(1),))))
    for broken in (
        {**issue, "severity": "error"},
        {k: v for k, v in issue.items() if k != "fingerprint"},
        {**issue, "location": {"path": "a.py"}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.Draft7Validator(schema).validate([broken])


def test_junit_is_valid_with_a_case_per_file_and_a_failure_per_finding():
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))
    text = render("junit", _mixed())
    schema.validate(text)
    root = ET.fromstring(text)
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["src/a.py", "b.py", "clean.py"]
    assert [len(c.findall("failure")) for c in cases] == [3, 1, 0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "4", "0")
    first = cases[0].find("failure")
    assert first is not None and first.get("type") == "error"
    assert first.get("message") == "line 3-4: Built from input."
    assert "[sql-injection]" in (first.text or "") and "q()" in (first.text or "")
    assert "\x1b" not in text and "&lt;odd&gt;" in text


def test_junit_marks_an_incomplete_run_as_an_error():
    xmlschema = pytest.importorskip("xmlschema")
    summary = RunSummary(chunks=5, failed=2, stopped="the endpoint is down")
    text = render("junit", Report((), summary, reviewed_files=("a.py",)))
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(text)
    suite = ET.fromstring(text).find("testsuite")
    assert suite is not None and suite.get("errors") == "1"
    error = suite.find("testcase/error")
    assert error is not None
    assert "3 of 5 chunks reviewed (the endpoint is down)" in (error.get("message") or "")
