"""The `junit` report: JUnit XML, the test report CI systems show (GitLab `reports: junit`,
Jenkins, Azure Pipelines, CircleCI, the test-report actions of GitHub).

One `<testsuite>` for the run, one `<testcase>` per reviewed file (a file without findings
passes), and one `<failure>` per finding, its `type` the severity and its text the place, rule,
message and suggestion. A run that did not review everything adds a test case with an
`<error>` saying so, so the report never reads as all green when it is not. The model's and
the repository's text is escaped as XML, and control characters, which XML 1.0 cannot carry,
are written as escapes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from qwen_lsp.log import escape_controls
from qwen_lsp.model import Finding
from qwen_lsp.reporting.report import TOOL_NAME, Report, level_counts

SUITE_NAME = f"{TOOL_NAME} review"


def _text(text: str) -> str:
    return escape_controls(text, keep_lines=True)


def _failure(f: Finding) -> ET.Element:
    where = f"{f.line}" if f.line == f.end_line else f"{f.line}-{f.end_line}"
    failure = ET.Element(
        "failure",
        {"message": _text(f"line {where}: {f.message}").replace("\n", " "), "type": f.severity},
    )
    body = [f"{f.path}:{where}: {f.severity} [{f.rule}]", f.message]
    if f.suggestion == "":
        body.append("Suggested change: delete these lines.")
    elif f.suggestion is not None:
        body += ["Suggested change:", f.suggestion]
    failure.text = _text("\n".join(body))
    return failure


def render_junit(report: Report) -> str:
    by_file: dict[str, list[Finding]] = {path: [] for path in report.reviewed_files}
    for f in report.findings:
        by_file.setdefault(f.path, []).append(f)
    summary = report.summary
    suite = ET.Element("testsuite", {"name": SUITE_NAME})
    failures = errors = 0
    for path, findings in by_file.items():
        case = ET.SubElement(
            suite, "testcase", {"name": _text(path), "classname": TOOL_NAME, "time": "0"}
        )
        for f in findings:
            case.append(_failure(f))
            failures += 1
    if not summary.complete:
        reviewed = summary.chunks - summary.failed - summary.skipped
        why = f" ({summary.stopped})" if summary.stopped else ""
        message = f"the review is incomplete: {reviewed} of {summary.chunks} chunks reviewed{why}"
        case = ET.SubElement(
            suite, "testcase", {"name": "review run", "classname": TOOL_NAME, "time": "0"}
        )
        error = ET.SubElement(case, "error", {"message": _text(message), "type": "incomplete"})
        error.text = _text(message)
        errors += 1
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", "0")
    properties = ET.Element("properties")
    ET.SubElement(
        properties, "property", {"name": "summary", "value": level_counts(report.findings)}
    )
    if report.version:
        ET.SubElement(properties, "property", {"name": "version", "value": report.version})
    suite.insert(0, properties)
    root = ET.Element(
        "testsuites",
        {
            "name": SUITE_NAME,
            "tests": suite.get("tests", "0"),
            "failures": str(failures),
            "errors": str(errors),
            "time": "0",
        },
    )
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
