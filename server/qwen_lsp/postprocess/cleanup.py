"""The last word on an answer: no trailing whitespace, and nothing shown that is not worth a
keystroke (empty, or only the closing brackets an editor types by itself).
"""

from __future__ import annotations

from qwen_lsp.postprocess.context import FilterContext

_TRIVIAL = set(")]};,.")


def drop_trailing_whitespace(text: str, ctx: FilterContext) -> str | None:
    """Trailing blank lines and spaces only push the suffix around, except the spaces that
    part a one-line answer from the code right after the cursor (`if █and` + `started `)."""
    kept = text.rstrip()
    after = ctx.line_suffix[:1]
    if "\n" in kept or not after.strip() or after in _TRIVIAL or after == ":":
        return kept
    trailing = text[len(kept) :]
    return kept + trailing[: len(trailing) - len(trailing.lstrip(" \t"))]


def drop_empty_and_trivial(text: str, ctx: FilterContext) -> str | None:
    """Nothing, whitespace, or a few closing brackets and semicolons are not a suggestion."""
    code = text.strip()
    if not code:
        return None
    if len(code) <= 3 and set(code) <= _TRIVIAL:
        return None
    return text
