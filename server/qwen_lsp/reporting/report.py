"""What every report format is made from: the findings of a run and its summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
    # The lines of the files findings are in (without line breaks), where a format needs
    # them: a deletion that ends at a file's last line must end inside the file.
    file_lines: Mapping[str, Sequence[str]] = field(default_factory=dict)
    reviewed_files: tuple[str, ...] = ()  # every file the run reviewed (JUnit's test cases)


@dataclass(frozen=True)
class Span:
    """A range of a file in 1-based lines and columns; the end column is exclusive."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int


def deletion_span(
    f: Finding, lines: Sequence[str] | None, width: Callable[[str], int] = len
) -> Span:
    """Where deleting `f`'s lines with their line breaks starts and ends, in columns counted
    by `width` (UTF-8 bytes for reviewdog, UTF-16 units for SARIF).

    Usually from the start of the first line to the start of the line after the last. When
    the last line is the file's last, there is no line after it: the deletion takes the line
    break before the first line instead, and ends at the end of the last one.
    """
    if lines is None or f.end_line < len(lines):
        return Span(f.line, 1, f.end_line + 1, 1)
    last = lines[-1] if lines else ""
    end_column = width(last) + 1
    if f.line > 1 and f.line - 2 < len(lines):
        return Span(f.line - 1, width(lines[f.line - 2]) + 1, len(lines), end_column)
    return Span(1, 1, max(len(lines), 1), end_column)


def utf8_width(text: str) -> int:
    return len(text.encode("utf-8"))


def utf16_width(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


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
