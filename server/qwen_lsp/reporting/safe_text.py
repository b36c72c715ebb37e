"""Model text made safe to print where a CI runner reads the output as commands.

A review's message, rule and suggestion are written by a model that read the repository, and
file names come from the repository: both are data. GitHub Actions reads every line of a
step's output, and a line that starts with `::` after its leading blanks is a workflow command
(`::error file=...::`, `::add-mask::`, `::stop-commands::`); the runner's older form `##[cmd]`
is found anywhere in a line. Terminal escape bytes can rewrite what a log shows. So text that
goes to stdout has every control character escaped and no line that a runner would take for a
command.
"""

from __future__ import annotations

from qwen_lsp.log import escape_controls

_V1_COMMAND = "##["


def one_line(text: str) -> str:
    """`text` on one line, every control character (line breaks too) written as an escape."""
    return defuse(escape_controls(text))


def code_line(text: str) -> str:
    """A line of code for display: controls escaped except tabs, which code is made of."""
    return defuse("\t".join(escape_controls(part) for part in text.split("\t")))


def defuse(line: str) -> str:
    """`line` such that no CI runner takes it for a workflow command: a leading `::` (after
    blanks) gets a backslash before it, and the old `##[` form is broken up."""
    stripped = line.lstrip()
    if stripped.startswith("::"):
        line = line[: len(line) - len(stripped)] + "\\" + stripped
    return line.replace(_V1_COMMAND, "#\\#[")


def is_command(line: str) -> bool:
    """Whether a runner would read `line` as a workflow command (for checks and tests)."""
    return line.lstrip().startswith("::") or _V1_COMMAND in line
