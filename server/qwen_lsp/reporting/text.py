"""The `text` report: findings grouped by file, most readable on a terminal (with colour).

Paths, rules, messages and suggestions are the repository's and the model's: printed through
`safe_text`, so no control byte reaches the terminal and no line reads as a CI command.
"""

from __future__ import annotations

from itertools import groupby

from qwen_lsp.reporting.report import Report, headline
from qwen_lsp.reporting.safe_text import code_line, one_line

_COLORS = {"error": "31", "warning": "33", "info": "36"}  # red, yellow, cyan


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def render_text(report: Report, *, color: bool = False) -> str:
    findings = report.findings
    lines: list[str] = []
    for path, group in groupby(findings, key=lambda f: f.path):
        lines.append(_paint(one_line(path), "1", color))
        for f in group:
            where = f"{f.line}" if f.line == f.end_line else f"{f.line}-{f.end_line}"
            severity = _paint(f"{f.severity:<7}", _COLORS[f.severity], color)
            rule = _paint(one_line(f.rule), "2", color)
            lines.append(f"  {where:<9} {severity}  {rule}  {one_line(f.message)}")
            if f.suggestion is not None:
                label = "suggestion (delete the lines)" if f.suggestion == "" else "suggestion:"
                lines.append(f"  {'':<9} {label}")
                lines.extend(
                    f"  {'':<9} | {code_line(code)}"
                    for code in f.suggestion.split("\n")
                    if f.suggestion
                )
        lines.append("")
    files = len({f.path for f in findings})
    tail = f" in {files} file{'s' if files != 1 else ''}" if findings else ""
    lines.append(headline(report) + (tail if report.summary.complete else ""))
    return "\n".join(lines) + "\n"
