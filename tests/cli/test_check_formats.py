"""`qwen-lsp --check` output formats and exit codes, against the fake LLM."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.cli.helpers import APP, SCHEMA, answer, check_env, finding, run_check

LEAK = finding(5, 6, suggestion="    with open(path) as f:\n        return f.read()")
ZERO = finding(10, severity="error", rule="zero-division", message="b may be 0.")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP, encoding="utf-8")
    return root


def test_text_groups_findings_by_file(project: Path, fake_llm):
    (project / "lib").mkdir()
    (project / "lib" / "util.py").write_text("def f(x):\n    return x[0]\n", encoding="utf-8")
    fake_llm.enqueue(answer(LEAK, ZERO), answer(finding(2, path="lib/util.py", rule="index")))
    result = run_check(project, fake_llm, "--jobs", "1")
    assert result.code == 1, result.stderr  # an error at the default fail level
    assert result.stdout.splitlines()[:5] == [
        "app.py",
        "  5-6       warning  resource-leak  The file is never closed.",
        "            suggestion:",
        "            |     with open(path) as f:",
        "            |         return f.read()",
    ]
    assert "  10        error    zero-division  b may be 0." in result.stdout
    assert "lib/util.py\n  2         warning  index" in result.stdout
    assert result.stdout.rstrip().endswith("3 findings (1 error, 2 warnings) in 2 files")
    assert "\x1b[" not in result.stdout  # no colour when stdout is not a terminal
    assert len(fake_llm.requests) == 2
    assert fake_llm.requests[0].body["response_format"] == {"type": "json_object"}


def test_json_report(project: Path, fake_llm):
    fake_llm.reply(answer(LEAK))
    result = run_check(project, fake_llm, "--format", "json")
    assert result.code == 0, result.stderr  # a warning does not fail at --fail-level error
    report = result.json()
    [item] = report["findings"]
    assert {k: item[k] for k in ("path", "line", "endLine", "severity", "rule")} == {
        "path": "app.py",
        "line": 5,
        "endLine": 6,
        "severity": "warning",
        "rule": "resource-leak",
    }
    assert item["suggestion"] == "    with open(path) as f:\n        return f.read()"
    assert report["summary"]["chunks"] == 1
    assert report["summary"]["calls"] == 1
    assert report["summary"]["complete"] is True
    assert report["summary"]["cost"] > 0


def test_sarif_is_valid_and_its_fingerprints_survive_reruns_and_moved_code(project, fake_llm):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    fake_llm.reply(answer(LEAK, ZERO))
    first = run_check(project, fake_llm, "--format", "sarif", "--output", "out/review.sarif")
    assert first.code == 1, first.stderr
    assert first.stdout == ""
    log = json.loads((project / "out" / "review.sarif").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["resource-leak", "zero-division"]
    leak, zero = run["results"]
    assert leak["ruleId"] == "resource-leak" and leak["level"] == "warning"
    assert leak["locations"][0]["physicalLocation"]["region"] == {"startLine": 5, "endLine": 6}
    assert leak["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app.py"
    [fix] = leak["fixes"]
    [replacement] = fix["artifactChanges"][0]["replacements"]
    assert replacement["deletedRegion"] == {"startLine": 5, "endLine": 6}
    assert replacement["insertedContent"]["text"].startswith("    with open(path) as f:")
    assert "fixes" not in zero

    again = run_check(project, fake_llm, "--format", "sarif")  # from the cache
    assert json.loads(again.stdout)["runs"][0]["results"] == run["results"]

    # Two lines added on top: the same code moves down, and keeps its fingerprints.
    (project / "app.py").write_text("# header\n# more\n" + APP, encoding="utf-8")
    fake_llm.reply(answer(finding(7, 8), finding(12, severity="error", rule="zero-division")))
    moved = json.loads(run_check(project, fake_llm, "--format", "sarif").stdout)["runs"][0]
    jsonschema.Draft4Validator(schema).validate({**log, "runs": [moved]})
    assert [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in moved["results"]
    ] == [7, 12]
    assert [r["partialFingerprints"] for r in moved["results"]] == [
        r["partialFingerprints"] for r in run["results"]
    ]


def test_rdjson_for_reviewdog(project: Path, fake_llm):
    fake_llm.reply(answer(LEAK, finding(9, 9, rule="dead-code", suggestion="")))
    result = run_check(project, fake_llm, "--format", "rdjson", "--fail-level", "none")
    assert result.code == 0
    report = result.json()
    assert report["source"]["name"] == "qwen-lsp"
    leak, dead = report["diagnostics"]
    assert leak["location"] == {
        "path": "app.py",
        "range": {"start": {"line": 5}, "end": {"line": 6}},
    }
    assert leak["severity"] == "WARNING"
    assert leak["code"] == {"value": "resource-leak"}
    assert leak["suggestions"] == [
        {"range": {"start": {"line": 5}, "end": {"line": 6}}, "text": LEAK["suggestion"]}
    ]
    # An empty suggestion deletes the line, line break included.
    assert dead["suggestions"] == [
        {"range": {"start": {"line": 9, "column": 1}, "end": {"line": 10, "column": 1}}, "text": ""}
    ]


def test_github_annotations_past_the_cap_go_to_the_step_summary(project: Path, fake_llm):
    lines = "".join(f"x{n} = {n}\n" for n in range(1, 16))
    (project / "app.py").write_text(lines, encoding="utf-8")
    fake_llm.reply(
        answer(
            *(
                finding(n, severity="error", rule="r", message=f"bad: {n}%, 100")
                for n in range(1, 16)
            )
        )
    )
    summary = project.parent / "summary.md"
    env = check_env(project.parent, fake_llm, GITHUB_STEP_SUMMARY=str(summary))
    result = run_check(project, fake_llm, "--format", "github", env=env)
    assert result.code == 1
    commands = result.stdout.splitlines()
    assert len(commands) == 10  # GitHub shows ten error annotations per step
    assert commands[0] == "::error file=app.py,line=1,endLine=1,title=qwen-lsp%3A r::bad: 1%25, 100"
    table = summary.read_text(encoding="utf-8")
    assert "15 findings (15 errors)" in table
    assert "5 of them are past GitHub's annotation limit" in table
    assert sum(line.startswith("| `app.py` |") for line in table.splitlines()) == 15
    assert "job summary" in result.stderr

    # Without a summary file nothing would be seen past the cap anyway: print every command.
    again = run_check(project, fake_llm, "--format", "github")
    assert len(again.stdout.splitlines()) == 15


@pytest.mark.parametrize(
    ("severities", "fail_level", "code"),
    [
        (["warning"], "error", 0),
        (["warning"], "warning", 1),
        (["warning"], "info", 1),
        (["warning", "error"], "error", 1),
        (["warning", "error"], "none", 0),
        (["info"], "warning", 0),
        (["info"], "info", 1),
        ([], "info", 0),
    ],
)
def test_exit_code_at_each_fail_level(project, fake_llm, severities, fail_level, code):
    fake_llm.reply(answer(*(finding(5 + i, severity=s) for i, s in enumerate(severities))))
    result = run_check(project, fake_llm, "--fail-level", fail_level)
    assert result.code == code, result.stderr


def test_usage_errors_exit_2(project: Path, fake_llm):
    assert run_check(project, fake_llm, "--jobs", "0").code == 2
    assert run_check(project, fake_llm, "--format", "xml").code == 2
    result = run_check(project, fake_llm, "--baseline", "missing.json")
    assert result.code == 2
    assert "missing.json does not exist" in result.stderr
    assert fake_llm.requests == []


def test_baseline_accepts_existing_findings(project: Path, fake_llm):
    fake_llm.reply(answer(LEAK, ZERO))
    written = run_check(project, fake_llm, "--write-baseline", "--baseline", "ai-baseline.json")
    assert written.code == 0, written.stderr
    entries = json.loads((project / "ai-baseline.json").read_text(encoding="utf-8"))["findings"]
    assert [e["rule"] for e in entries] == ["resource-leak", "zero-division"]

    assert run_check(project, fake_llm, "--baseline", "ai-baseline.json").code == 0
    # A new finding is still reported.
    fake_llm.reply(answer(LEAK, ZERO, finding(2, severity="error", rule="unused-import")))
    (project / "app.py").write_text(APP + "\n# touched\n", encoding="utf-8")
    result = run_check(project, fake_llm, "--baseline", "ai-baseline.json", "--format", "json")
    assert result.code == 1
    assert [f["rule"] for f in result.json()["findings"]] == ["unused-import"]
    assert result.json()["summary"]["baselined"] == 2


DATA = SCHEMA.parent


def test_gitlab_code_quality_report(project: Path, fake_llm):
    gitlab_schema = json.loads((DATA / "gitlab-codequality-schema.json").read_text("utf-8"))
    fake_llm.reply(answer(LEAK, ZERO))
    result = run_check(project, fake_llm, "--format", "gitlab", "--output", "gl-code-quality.json")
    assert result.code == 1, result.stderr
    issues = json.loads((project / "gl-code-quality.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(gitlab_schema).validate(issues)
    assert [(i["check_name"], i["severity"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("resource-leak", "major", 5),
        ("zero-division", "critical", 10),
    ]


def test_junit_report(project: Path, fake_llm):
    xmlschema = pytest.importorskip("xmlschema")
    (project / "clean.py").write_text("x = 1\n", encoding="utf-8")
    fake_llm.enqueue(answer(LEAK, ZERO), answer())
    result = run_check(project, fake_llm, "--format", "junit", "--jobs", "1")
    assert result.code == 1, result.stderr
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(result.stdout)
    assert result.stdout.count("<testcase ") == 2
    assert result.stdout.count("<failure ") == 2
    assert 'tests="2" failures="2" errors="0"' in result.stdout


def test_sarif_uri_of_an_awkward_file_name_is_encoded_and_valid(project: Path, fake_llm):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    (project / "app.py").unlink()
    odd = project / "my dir" / "100% #1?é.py"
    odd.parent.mkdir()
    odd.write_text(APP, encoding="utf-8")
    fake_llm.reply(answer(finding(10, 10, suggestion="", path="my dir/100% #1?é.py")))
    result = run_check(project, fake_llm, "--format", "sarif")
    log = result.json()
    jsonschema.Draft4Validator(schema).validate(log)
    [hit] = log["runs"][0]["results"]
    location = hit["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == "my%20dir/100%25%20%231%3F%C3%A9.py"
    # the file's last line is deleted: from the end of line 9 to the end of line 10
    [change] = hit["fixes"][0]["artifactChanges"]
    assert change["replacements"][0]["deletedRegion"] == {
        "startLine": 9,
        "startColumn": 18,
        "endLine": 10,
        "endColumn": 17,
    }


def test_hostile_model_text_prints_no_workflow_command(project: Path, fake_llm):
    spoof = "Fine.\n::error file=app.py,line=1::spoofed\x1b[31m"
    fake_llm.reply(answer(finding(5, message=spoof, rule="::warning::x")))
    for fmt in ("text", "github"):
        result = run_check(project, fake_llm, "--format", fmt)
        lines = result.stdout.splitlines()
        assert "\x1b" not in result.stdout
        own = [line for line in lines if line.startswith("::warning file=app.py,")]
        assert len([line for line in lines if line.lstrip().startswith("::")]) == len(own)
        assert len(own) == (1 if fmt == "github" else 0)
