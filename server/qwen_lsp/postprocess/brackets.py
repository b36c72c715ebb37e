"""The bracket filter: an answer may close the brackets opened before the cursor, but not the
ones the code after the cursor already closes, and never with the wrong kind of bracket.
"""

from __future__ import annotations

from collections.abc import Iterator

from qwen_lsp.postprocess.context import CLOSERS, OPENERS, PAIRS, FilterContext

_PREFIX_LINES = 30  # how far back the open brackets before the cursor are counted
_QUOTES = "\"'`"


def _brackets(text: str, comment: str | None) -> Iterator[tuple[int, str]]:
    """(index, bracket) for every bracket of `text` outside strings and line comments.

    A rough lexer: quotes pair up on one line (backticks across lines), a backslash escapes.
    Good enough to count brackets, which is all it is for.
    """
    quote: str | None = None
    index = 0
    length = len(text)
    while index < length:
        ch = text[index]
        if quote is not None:
            if ch == "\\":
                index += 1
            elif ch == quote or (ch == "\n" and quote != "`"):
                quote = None
        elif ch in _QUOTES:
            quote = ch
        elif comment is not None and text.startswith(comment, index):
            end = text.find("\n", index)
            index = length if end < 0 else end
            continue
        elif ch in OPENERS or ch in CLOSERS:
            yield index, ch
        index += 1


def _open_before_cursor(ctx: FilterContext) -> list[str]:
    """The brackets still open at the cursor, innermost last (from the last lines only)."""
    start = len(ctx.prefix)
    for _ in range(_PREFIX_LINES):
        start = ctx.prefix.rfind("\n", 0, start)
        if start < 0:
            break
    stack: list[str] = []
    for _, ch in _brackets(ctx.prefix[start + 1 :], ctx.comment_marker):
        if ch in OPENERS:
            stack.append(ch)
        elif stack and stack[-1] == PAIRS[ch]:
            stack.pop()
    return stack


def _closed_after_cursor(ctx: FilterContext) -> str:
    """The closing brackets the code after the cursor starts with (spaces between allowed)."""
    run = []
    for ch in ctx.suffix[:200]:
        if ch in CLOSERS:
            run.append(ch)
        elif not ch.isspace():
            break
    return "".join(run)


def balance_brackets(text: str, ctx: FilterContext) -> str | None:
    """Cut the answer at the first bracket that would unbalance the file.

    That is a closing bracket of the wrong kind, or one that closes a bracket opened before
    the cursor which the code after the cursor closes already (`print(█)` answered with
    `msg)`). Brackets the answer opens are its own business.
    """
    if not any(ch in CLOSERS for ch in text):
        return text
    comment = ctx.comment_marker
    own: list[str] = []
    outer = _open_before_cursor(ctx)
    supplied = len(_closed_after_cursor(ctx))
    # The code after the cursor closes the innermost brackets left open after the answer, so
    # the answer may close only the outer ones it does not reach.
    allowed = max(len(outer) - supplied, 0) if outer else (0 if supplied else len(text))
    closed = 0
    for index, ch in _brackets(text, comment):
        if ch in OPENERS:
            own.append(ch)
            continue
        if own:
            if own[-1] != PAIRS[ch]:
                return text[:index].rstrip()
            own.pop()
            continue
        if closed >= allowed:
            return text[:index].rstrip()
        if outer and outer[-1 - closed] != PAIRS[ch]:
            return text[:index].rstrip()
        closed += 1
    return text
