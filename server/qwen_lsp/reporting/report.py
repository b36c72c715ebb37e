"""What every report format is made from: the findings of a run and its summary."""

from __future__ import annotations

from dataclasses import dataclass, field

from qwen_lsp.model import Finding

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


def headline(report: Report) -> str:
    """What a report's last line (or title) says: the findings, and for a run that did not
    review everything how much it did review, never a bare "no findings"."""
    summary = report.summary
    counts = level_counts(report.findings)
    if summary.complete:
        return counts
    reviewed = summary.chunks - summary.failed - summary.skipped
    found = counts if report.findings else "0 findings"
    return f"INCOMPLETE: reviewed {reviewed} of {summary.chunks} chunks; {found} in those"
