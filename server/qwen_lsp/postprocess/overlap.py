"""Filters for where an answer meets the code after the cursor: a completion in the middle of
a line is one line, and an answer must not repeat what already follows the cursor.
"""

from __future__ import annotations

from qwen_lsp.postprocess.context import FilterContext

_MIN_PARTIAL_OVERLAP = 3  # shorter overlaps with the suffix are as likely to be chance


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def keep_first_line_mid_line(text: str, ctx: FilterContext) -> str | None:
    """With code after the cursor on its line, only a single-line completion fits."""
    if ctx.mid_line:
        return text.split("\n", 1)[0]
    return text


def trim_suffix_overlap(text: str, ctx: FilterContext) -> str | None:
    """Drop the tail of the answer that repeats the text after the cursor.

    On the cursor's line, the answer may end with the code that follows the cursor (FIM
    models do this when they "finish" the line); below it, a multi-line answer may run into
    the next line of the file and go on copying. Closing brackets alone are left to
    `balance_brackets`, which can tell a bracket the answer opened from one of the file's.
    """
    line_suffix = ctx.line_suffix.strip()
    if line_suffix and _has_word(line_suffix):
        stripped = text.rstrip()
        # The suffix brings its own leading space; the answer's would double it.
        spaced = ctx.line_suffix[:1].isspace()
        if stripped.endswith(line_suffix):
            kept = stripped[: -len(line_suffix)]
            return kept.rstrip() if spaced else kept
        longest = min(len(line_suffix) - 1, len(stripped))
        for size in range(longest, _MIN_PARTIAL_OVERLAP - 1, -1):
            head = line_suffix[:size]
            if stripped.endswith(head) and _has_word(head):
                kept = stripped[:-size]
                return kept.rstrip() if spaced else kept
    next_line = ctx.next_line.rstrip()
    if next_line and "\n" in text:
        lines = text.split("\n")
        for index in range(1, len(lines)):
            if lines[index].rstrip() == next_line:
                return "\n".join(lines[:index]).rstrip("\n")
    return text
