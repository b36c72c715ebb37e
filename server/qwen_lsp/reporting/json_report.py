"""The `json` report: the findings in the review answer schema's names, plus the run summary."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from qwen_lsp.model import Finding
from qwen_lsp.reporting.report import TOOL_NAME, Report

FORMAT_VERSION = 1


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "path": f.path,
        "line": f.line,
        "endLine": f.end_line,
        "severity": f.severity,
        "rule": f.rule,
        "message": f.message,
        "suggestion": f.suggestion,
        "fingerprint": f.fingerprint,
    }


def render_json(report: Report) -> str:
    summary = asdict(report.summary)
    summary["complete"] = report.summary.complete
    payload = {
        "version": FORMAT_VERSION,
        "tool": {"name": TOOL_NAME, "version": report.version},
        "findings": [finding_json(f) for f in report.findings],
        "summary": {_camel(k): v for k, v in summary.items()},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
