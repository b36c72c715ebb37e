"""Review reports: the findings of a run written for people, for tools and for CI services.

One module per format, each a pure function from a `Report` to text: `text` (grouped by
file, optionally coloured), `json`, `sarif` (2.1.0, for code scanning), `rdjson` (reviewdog),
`github` (workflow commands), `gitlab` (GitLab Code Quality) and `junit` (JUnit XML). Model
and repository text is data in every one of them (`safe_text`). Nothing here reviews, reads
settings or prints.
"""

from __future__ import annotations

from qwen_lsp.reporting.report import TOOL_NAME, Report, RunSummary, level_counts

FORMATS = ("text", "json", "sarif", "rdjson", "github", "gitlab", "junit")

__all__ = ["FORMATS", "TOOL_NAME", "Report", "RunSummary", "level_counts", "render"]


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
    if format == "gitlab":
        from qwen_lsp.reporting.gitlab import render_gitlab

        return render_gitlab(report)
    if format == "junit":
        from qwen_lsp.reporting.junit import render_junit

        return render_junit(report)
    raise ValueError(f"unknown report format {format!r}; expected one of {', '.join(FORMATS)}")
