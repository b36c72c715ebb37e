"""What the filters know about the place an answer goes: the text around the cursor, the
language, whether a chat model wrote it, and (lazily) its syntax.

Everything here is derived from plain text, so a golden test builds the same context from a
document with the cursor drawn in it as the engine builds from an open document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qwen_lsp.postprocess.syntax import SyntaxProbe

_INDENT = re.compile(r"^[ \t]*")
# What a line ends with when the next lines belong to it (a block, a literal, a call).
BLOCK_OPENERS = (":", "{", "(", "[", "=>", "->", " do", " then")
CLOSERS = ")]}"
OPENERS = "([{"
PAIRS = {")": "(", "]": "[", "}": "{"}


def indentation(line: str) -> str:
    """The leading spaces and tabs of `line`."""
    match = _INDENT.match(line)
    return match.group(0) if match else ""


def width(indent: str, tab: int = 4) -> int:
    """Columns an indentation string spans (a tab counts `tab`)."""
    return len(indent.expandtabs(tab))


def opens_block(line: str) -> bool:
    """Whether the lines after `line` are its body, items or arguments."""
    code = line.rstrip()
    return code.endswith(BLOCK_OPENERS)


@dataclass(frozen=True)
class FilterContext:
    prefix: str
    suffix: str
    language: str | None = None
    from_chat: bool = False  # the answer came from a chat model (fences, prose, echoes)
    # Parses the code around the cursor with and without an answer; None: no grammar (tests
    # of text-only filters, plain text documents), and the syntax filters leave answers alone.
    syntax: SyntaxProbe | None = field(default=None, compare=False)

    @cached_property
    def line_prefix(self) -> str:
        return self.prefix.rsplit("\n", 1)[-1]

    @cached_property
    def line_suffix(self) -> str:
        return self.suffix.split("\n", 1)[0]

    @property
    def at_blank_line(self) -> bool:
        """Nothing but indentation before the cursor on its line."""
        return not self.line_prefix.strip()

    @property
    def mid_line(self) -> bool:
        """Code after the cursor on its line, beyond closing brackets an editor auto-inserts."""
        rest = self.line_suffix.strip()
        return bool(rest.strip(CLOSERS + ";,"))

    @cached_property
    def cursor_indent(self) -> str:
        """The indentation of the cursor's line (as far as the cursor, on a blank line)."""
        return indentation(self.line_prefix)

    @cached_property
    def previous_line(self) -> str:
        """The nearest non-blank line above the cursor's line."""
        lines = self.prefix.split("\n")[:-1]
        return next((line for line in reversed(lines[-50:]) if line.strip()), "")

    @cached_property
    def next_line(self) -> str:
        """The nearest non-blank line below the cursor's line."""
        lines = self.suffix.split("\n")[1:]
        return next((line for line in lines[:50] if line.strip()), "")

    @cached_property
    def comment_marker(self) -> str | None:
        """How a line comment starts in this language, for the bracket counter."""
        if self.language in ("python", "ruby", "shell", "bash", "toml", "yaml", "r"):
            return "#"
        if self.language in (None, "text", "markdown"):
            return None
        return "//"
