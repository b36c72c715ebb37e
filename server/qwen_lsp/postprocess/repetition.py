"""Filters for a model caught in a loop: the same line, or the same block of lines, again and
again until the token limit, and an answer that starts by repeating the line above the cursor.
"""

from __future__ import annotations

from qwen_lsp.postprocess.context import FilterContext, indentation


def _substantive(line: str) -> bool:
    """A line worth calling a repetition: some code, not just a bracket or a blank."""
    code = line.strip()
    return len(code) >= 4 and any(ch.isalnum() for ch in code)


def drop_repeated_lines(text: str, ctx: FilterContext) -> str | None:
    """Keep one copy of a line the answer repeats straight after itself, and drop a first
    line that only repeats the line above the cursor."""
    lines = text.split("\n")
    if (
        ctx.at_blank_line
        and _substantive(lines[0])
        and lines[0].strip() == ctx.previous_line.strip()
    ):
        lines = lines[1:]
        if not lines:
            return None
        # The next line moves up to the cursor, where the line's indentation is typed already.
        typed = min(len(ctx.line_prefix), len(indentation(lines[0])))
        lines[0] = lines[0][typed:]
    # Compare whole lines: the first one starts after what is typed on the cursor's line.
    whole = [ctx.line_prefix + lines[0], *lines[1:]]
    for index in range(1, len(lines)):
        if whole[index] == whole[index - 1] and _substantive(lines[index]):
            return "\n".join(lines[:index])
    return "\n".join(lines)


def drop_repeated_blocks(text: str, ctx: FilterContext) -> str | None:
    """Keep one copy of a block of two or more lines that the answer repeats straight after
    itself (the model was looping until its token limit)."""
    lines = text.split("\n")
    whole = [ctx.line_prefix + lines[0], *lines[1:]]
    count = len(lines)
    for start in range(count):
        for size in range(2, (count - start) // 2 + 1):
            block = whole[start : start + size]
            if sum(map(_substantive, block)) < 2:
                continue
            if block == whole[start + size : start + 2 * size]:
                return "\n".join(lines[: start + size]).rstrip()
    return text
