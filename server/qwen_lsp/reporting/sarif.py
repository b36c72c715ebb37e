"""The `sarif` report: SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

Each finding is a result with its rule (every rule the run met is listed on the driver), a
region of whole lines, a `partialFingerprints` entry that names it by its file, rule and the
code it flags (so an upload after the code moved updates the alert instead of opening a new
one), and, when the model suggested a fix, a `fixes` entry replacing those lines.

A file's `uri` is a relative reference (RFC 3986) against `%SRCROOT%`: every byte of the
path but unreserved characters and `/` is percent-encoded (UTF-8), so a space, `%`, `#`, `?`,
`:` or a non-ASCII letter in a file name reaches viewers as the same file.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from qwen_lsp.model import Finding
from qwen_lsp.reporting.report import TOOL_NAME, Report, deletion_span, utf16_width

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "qwenLspFindingHash/v1"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_SRCROOT = "%SRCROOT%"


def uri_reference(path: str) -> str:
    """`path` (relative, `/`-separated) as a relative URI reference: only unreserved
    characters and `/` stay as they are (`:` too is encoded, or a first segment like `a:b`
    would read as a scheme)."""
    return quote(path, safe="/")


def _location(f: Finding) -> dict[str, Any]:
    return {"uri": uri_reference(f.path), "uriBaseId": _SRCROOT}


def _fix(f: Finding, report: Report) -> dict[str, Any]:
    if f.suggestion == "":
        # Delete the lines with their line breaks, never past the end of the file.
        span = deletion_span(f, report.file_lines.get(f.path), utf16_width)
        region = {
            "startLine": span.start_line,
            "startColumn": span.start_column,
            "endLine": span.end_line,
            "endColumn": span.end_column,
        }
    else:
        region = {"startLine": f.line, "endLine": f.end_line}
    return {
        "description": {"text": "Apply the reviewer's suggestion"},
        "artifactChanges": [
            {
                "artifactLocation": _location(f),
                "replacements": [
                    {"deletedRegion": region, "insertedContent": {"text": f.suggestion or ""}}
                ],
            }
        ],
    }


def _rules(findings: tuple[Finding, ...]) -> list[dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for f in sorted(findings, key=lambda f: f.rank):
        rules.setdefault(
            f.rule,
            {
                "id": f.rule,
                "name": f.rule,
                "shortDescription": {"text": f"AI review: {f.rule}"},
                "defaultConfiguration": {"level": _LEVELS[f.severity]},
                "properties": {"tags": ["ai-review"]},
            },
        )
    return [rules[rule] for rule in sorted(rules)]


def render_sarif(report: Report) -> str:
    rules = _rules(report.findings)
    index = {rule["id"]: n for n, rule in enumerate(rules)}
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _LEVELS[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _location(f),
                        "region": {"startLine": f.line, "endLine": f.end_line},
                    }
                }
            ],
            "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        }
        if f.suggestion is not None:
            result["fixes"] = [_fix(f, report)]
        results.append(result)
    driver: dict[str, Any] = {"name": TOOL_NAME, "rules": rules}
    if report.version:
        driver["version"] = report.version
        driver["semanticVersion"] = report.version
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [{"executionSuccessful": report.summary.complete}],
                "columnKind": "utf16CodeUnits",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
