"""The `github` report: workflow commands that GitHub Actions shows as annotations.

GitHub shows at most ten annotations of each level per step and drops the rest, so the first
ten of each level become annotations and every finding goes into a Markdown table for the
job summary (`$GITHUB_STEP_SUMMARY`), where nothing is lost. Without a summary file, every
finding is printed as a command.

Every command is one line that we write; the model's and the repository's text inside it is
data: control characters are escaped (line breaks become GitHub's `%0A`, shown as new lines
of the annotation), and the property and data escapes are GitHub's own (`%`, CR, LF; and `:`
and `,` in properties), so no text can end a command early or start another.
"""

from __future__ import annotations

from dataclasses import dataclass

from qwen_lsp.log import escape_controls
from qwen_lsp.model import Finding
from qwen_lsp.reporting.report import TOOL_NAME, Report, headline

ANNOTATIONS_PER_LEVEL = 10  # GitHub's cap per step for each of error, warning and notice
_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


@dataclass(frozen=True)
class GithubOutput:
    commands: str  # for stdout
    summary: str  # Markdown for $GITHUB_STEP_SUMMARY
    shown: int  # findings that became annotations


def _escape(text: str) -> str:
    # GitHub's escapes for data (the runner's ActionCommand): `%` first, then CR and LF.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _data(text: str) -> str:
    """A command's message: line feeds kept (as %0A), every other control escaped."""
    return _escape(escape_controls(text, keep_lines=True))


def _property(text: str) -> str:
    """A property value (file, title): as data, with `:` and `,` escaped too."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def command(f: Finding) -> str:
    message = f.message
    if f.suggestion:
        message += "\n\nSuggested change:\n" + f.suggestion
    props = (
        f"file={_property(f.path)},line={f.line},endLine={f.end_line},"
        f"title={_property(f'{TOOL_NAME}: {f.rule}')}"
    )
    return f"::{_COMMANDS[f.severity]} {props}::{_data(message)}"


def _cell(text: str) -> str:
    return escape_controls(text.replace("|", "\\|").replace("\n", "<br>"))


def render_github(report: Report, *, capped: bool = True) -> GithubOutput:
    """Commands for the annotations GitHub will show (all of them when not `capped`), and the
    job summary listing every finding."""
    per_level: dict[str, int] = {}
    commands = []
    for f in report.findings:
        per_level[f.severity] = per_level.get(f.severity, 0) + 1
        if not capped or per_level[f.severity] <= ANNOTATIONS_PER_LEVEL:
            commands.append(command(f))
    hidden = len(report.findings) - len(commands)
    rows = [
        f"### {TOOL_NAME} review: {headline(report)}",
        "",
    ]
    if hidden:
        rows += [f"{hidden} of them are past GitHub's annotation limit and listed only here.", ""]
    if report.findings:
        rows += ["| file | lines | severity | rule | message |", "|---|---|---|---|---|"]
        for f in report.findings:
            where = f"{f.line}" if f.line == f.end_line else f"{f.line}-{f.end_line}"
            rows.append(
                f"| `{_cell(f.path)}` | {where} | {f.severity} | `{_cell(f.rule)}` "
                f"| {_cell(f.message)} |"
            )
    return GithubOutput(
        commands="".join(c + "\n" for c in commands),
        summary="\n".join(rows) + "\n",
        shown=len(commands),
    )
