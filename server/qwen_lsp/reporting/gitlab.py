"""The `gitlab` report: GitLab Code Quality JSON, for `artifacts: reports: codequality`.

GitLab reads a JSON array of issues, each with a `description`, a `check_name`, a
`fingerprint` unique within the report, a `severity` (info, minor, major, critical or blocker)
and a `location` of a path relative to the project and `lines.begin` (`lines.end` too). Our
fingerprints name a finding by its file, rule and code, not its line, so GitLab's merge
request widget keeps treating a finding as the same one while the code moves; two findings
with the same fingerprint in one report (the same rule on identical code) are told apart by
their order.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from qwen_lsp.reporting.report import TOOL_NAME, Report

# An error is a bug or a vulnerability; GitLab keeps `blocker` for what must stop a merge.
SEVERITIES = {"error": "critical", "warning": "major", "info": "info"}


def render_gitlab(report: Report) -> str:
    issues: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for f in report.findings:
        base = f.fingerprint or f"{f.path}:{f.line}:{f.rule}"
        repeat = seen.get(base, 0)
        seen[base] = repeat + 1
        fingerprint = hashlib.sha256(f"{TOOL_NAME}\0{base}\0{repeat}".encode()).hexdigest()[:32]
        issue: dict[str, Any] = {
            "type": "issue",
            "description": f.message,
            "check_name": f.rule,
            "fingerprint": fingerprint,
            "severity": SEVERITIES[f.severity],
            "location": {"path": f.path, "lines": {"begin": f.line, "end": f.end_line}},
        }
        if f.suggestion is not None:
            issue["content"] = {"body": _suggestion_body(f.suggestion)}
        issues.append(issue)
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _suggestion_body(suggestion: str) -> str:
    if suggestion == "":
        return "Suggested change: delete these lines."
    fence = "```"
    while fence in suggestion:  # a fence the code cannot close
        fence += "`"
    return f"Suggested change:\n\n{fence}\n{suggestion}\n{fence}"
