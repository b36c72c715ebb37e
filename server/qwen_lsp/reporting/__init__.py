"""Review reports: the findings of a run written for people, for tools and for CI services.

One module per format, each a pure function from a `Report` to text: `text` (grouped by
file, optionally coloured), `json`, `sarif` (2.1.0, for code scanning), `rdjson` (reviewdog)
and `github` (workflow commands). Nothing here reviews, reads settings or prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qwen_lsp.model import Finding

FORMATS = ("text", "json", "sarif", "rdjson", "github")
TOOL_NAME = "qwen-lsp"


@dataclass(frozen=True)
class RunSummary:
    """What a run did besides its findings, for the reports that carry it."""

    chunks: int = 0
    cached: int = 0
    failed: int = 0  # chunks that got no usable answer
    skipped: int = 0  # chunks not sent because the run stopped
    malformed: int = 0  # findings dropped for their shape
    outside: int = 0  # findings dropped for pointing outside the reviewed lines
    over_limit: int = 0  # findings beyond review.maxFindings of their file
    baselined: int = 0  # findings accepted by the baseline file
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    saved: float = 0.0
    currency: str = "USD"
    stopped: str | None = None

    @property
    def complete(self) -> bool:
        return self.stopped is None and not self.failed and not self.skipped


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    summary: RunSummary = field(default_factory=RunSummary)
    version: str = ""


def level_counts(findings: tuple[Finding, ...]) -> str:
    """ "3 findings (1 error, 2 warnings)"."""
    if not findings:
        return "no findings"
    parts = []
    for severity, plural in (("error", "errors"), ("warning", "warnings"), ("info", "info")):
        count = sum(f.severity == severity for f in findings)
        if count:
            parts.append(f"{count} {severity if count == 1 else plural}")
    noun = "finding" if len(findings) == 1 else "findings"
    return f"{len(findings)} {noun} ({', '.join(parts)})"


def render(format: str, report: Report, *, color: bool = False) -> str:
    """The report in `format` (one of FORMATS); `github` returns its workflow commands only."""
    if format == "text":
        from qwen_lsp.reporting.text import render_text

        return render_text(report, color=color)
    if format == "json":
        from qwen_lsp.reporting.json_report import render_json

        return render_json(report)
    if format == "sarif":
        from qwen_lsp.reporting.sarif import render_sarif

        return render_sarif(report)
    if format == "rdjson":
        from qwen_lsp.reporting.rdjson import render_rdjson

        return render_rdjson(report)
    if format == "github":
        from qwen_lsp.reporting.github import render_github

        return render_github(report).commands
    raise ValueError(f"unknown report format {format!r}; expected one of {', '.join(FORMATS)}")
