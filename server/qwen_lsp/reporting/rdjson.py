"""The `rdjson` report: reviewdog's Diagnostic Format, for `reviewdog -f=rdjson`.

Ranges are whole lines (reviewdog's line-wise form, no columns), and a suggestion replaces
them, so reviewdog can post it as a GitHub suggested change.
"""

from __future__ import annotations

import json
from typing import Any

from qwen_lsp.model import Finding
from qwen_lsp.reporting.report import TOOL_NAME, Report

_SEVERITIES = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}


def _lines(f: Finding) -> dict[str, Any]:
    return {"start": {"line": f.line}, "end": {"line": f.end_line}}


def _suggestion(f: Finding) -> dict[str, Any]:
    if f.suggestion == "":
        # Deleting lines takes their line breaks too: end at the start of the next line.
        span = {
            "start": {"line": f.line, "column": 1},
            "end": {"line": f.end_line + 1, "column": 1},
        }
        return {"range": span, "text": ""}
    return {"range": _lines(f), "text": f.suggestion}


def render_rdjson(report: Report) -> str:
    diagnostics = []
    for f in report.findings:
        diagnostic: dict[str, Any] = {
            "message": f.message,
            "location": {"path": f.path, "range": _lines(f)},
            "severity": _SEVERITIES[f.severity],
            "code": {"value": f.rule},
        }
        if f.suggestion is not None:
            diagnostic["suggestions"] = [_suggestion(f)]
        diagnostics.append(diagnostic)
    payload = {"source": {"name": TOOL_NAME}, "diagnostics": diagnostics}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
