"""The `rdjson` report: reviewdog's Diagnostic Format, for `reviewdog -f=rdjson`.

Ranges are whole lines (reviewdog's line-wise form, no columns), and a suggestion replaces
them, so reviewdog can post it as a GitHub suggested change. A deletion takes the lines'
breaks with it and never points past the end of the file (columns in UTF-8 bytes, as
reviewdog counts them).
"""

from __future__ import annotations

import json
from typing import Any

from qwen_lsp.model import Finding
from qwen_lsp.reporting.report import TOOL_NAME, Report, deletion_span, utf8_width

_SEVERITIES = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}


def _lines(f: Finding) -> dict[str, Any]:
    return {"start": {"line": f.line}, "end": {"line": f.end_line}}


def _suggestion(f: Finding, report: Report) -> dict[str, Any]:
    if f.suggestion == "":
        span = deletion_span(f, report.file_lines.get(f.path), utf8_width)
        return {
            "range": {
                "start": {"line": span.start_line, "column": span.start_column},
                "end": {"line": span.end_line, "column": span.end_column},
            },
            "text": "",
        }
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
            diagnostic["suggestions"] = [_suggestion(f, report)]
        diagnostics.append(diagnostic)
    payload = {"source": {"name": TOOL_NAME}, "diagnostics": diagnostics}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
