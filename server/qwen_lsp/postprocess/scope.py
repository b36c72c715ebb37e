"""Filters for the shape of a multi-line answer: indented the way the document is, and kept
inside the block the cursor is in.
"""

from __future__ import annotations

import re

from qwen_lsp.postprocess.context import CLOSERS, FilterContext, indentation, opens_block, width

_TAB = 4  # columns a tab counts for when comparing indentation
_UNITS = (8, 4, 3, 2)
# Lines that go on the statement above them at its own indentation, not a new statement.
_CONTINUATION = re.compile(r"(?:else|elif|except|finally|catch|case|default)\b")
_STYLE_SAMPLE = 4000  # characters of the document read to learn its indentation


def _unit(widths: list[int]) -> int | None:
    """The indentation step most of `widths` are multiples of (one of them being the step)."""
    widths = [w for w in widths if w > 0]
    if not widths:
        return None
    for unit in _UNITS:
        multiples = sum(1 for w in widths if w % unit == 0)
        if unit in widths and multiples >= 0.9 * len(widths):
            return unit
    return None


def _document_style(ctx: FilterContext) -> tuple[bool | None, int | None]:
    """Whether the document indents with tabs (None: it has no indented line to tell), and
    its step when it indents with spaces."""
    sample = ctx.prefix[-_STYLE_SAMPLE:] + ctx.suffix[: _STYLE_SAMPLE // 2]
    indents = [indentation(line) for line in sample.split("\n") if line.strip()]
    tabs = sum(1 for i in indents if i.startswith("\t"))
    spaces = [len(i) for i in indents if i and not i.strip(" ")]
    if not tabs and not spaces:
        return None, None
    return tabs > len(spaces), _unit(spaces)


def match_indentation(text: str, ctx: FilterContext) -> str | None:
    """Indent the answer's lines the way the document does.

    Tabs become spaces (or the reverse) as the document has them; a two-space answer in a
    four-space document is re-stepped; and a chat model's answer written flush left, as if
    the hole were at column 0, moves to the cursor's indentation.
    """
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    uses_tabs, doc_unit = _document_style(ctx)
    base = width(ctx.cursor_indent, _TAB)
    body = [(index, width(indentation(line), _TAB)) for index, line in enumerate(lines) if index]
    body = [(index, w) for index, w in body if lines[index].strip()]
    if not body:
        return text
    # A chat model may write the snippet as if the hole were at column 0: a statement (not a
    # closing bracket) indented less than the cursor, where the snippet cannot have left the
    # block it fills, gives it away.
    statements = [w for index, w in body if not _closers_only(lines[index].strip())]
    shift = base if ctx.from_chat and base and statements and min(statements) < base else 0
    steps = [w + shift - base for _, w in body if w + shift > base]
    answer_unit = min(steps) if steps else None
    rescale = (
        doc_unit is not None
        and answer_unit in _UNITS
        and answer_unit != doc_unit
        and len(steps) >= 2
        and all(step % answer_unit == 0 for step in steps)
    )
    out = list(lines)
    for index, w in body:
        new = w + shift
        if rescale and new > base:
            new = base + (new - base) // answer_unit * doc_unit  # type: ignore[operator]
        if new == w and uses_tabs is None:
            continue  # nothing to learn the document's style from, nothing to move
        if uses_tabs or (uses_tabs is None and indentation(lines[index]).startswith("\t")):
            indent = "\t" * (new // _TAB) + " " * (new % _TAB)
        else:
            indent = " " * new
        out[index] = indent + lines[index].lstrip(" \t")
    return "\n".join(out)


def _closers_only(code: str) -> bool:
    return bool(code) and not code.strip(CLOSERS + ";,)")


def limit_to_scope(text: str, ctx: FilterContext) -> str | None:
    """Keep the answer inside the block the cursor is in.

    After a line the user ended with a block opener (`def f():`, `if (x) {`), the answer is
    that block: it ends at the first line back at the opener's indentation (a closing bracket
    there is kept, `else`/`except` go on). Otherwise it may go on with statements at the
    cursor's indentation or deeper, and ends at the first line indented less.
    """
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first = ctx.line_prefix + lines[0]
    ref = width(indentation(first), _TAB)
    block = bool(ctx.line_prefix.strip()) and opens_block(first)
    for index in range(1, len(lines)):
        code = lines[index].strip()
        if not code:
            continue
        level = width(indentation(lines[index]), _TAB)
        if level > ref:
            continue
        if level == ref and not block:
            continue
        if level == ref and (
            _CONTINUATION.match(code) or (code[0] in CLOSERS and opens_block(code))
        ):
            continue
        if level == ref and _closers_only(code):
            return "\n".join(lines[: index + 1])
        return "\n".join(lines[:index]).rstrip()
    return text
