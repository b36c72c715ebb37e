"""The filters. Each takes the answer and the context and returns text, or None to drop it."""

from __future__ import annotations

import re

from qwen_lsp.postprocess.context import FilterContext
from qwen_lsp.special_tokens import HOLE, QWEN_STOP_TOKENS

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:\n```|$)", re.DOTALL)


def cut_at_stop_tokens(text: str, ctx: FilterContext) -> str | None:
    """Servers that ignore `stop` leave Qwen's special tokens in the answer: cut at the first."""
    cut = len(text)
    for token in (*QWEN_STOP_TOKENS, HOLE):
        index = text.find(token)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]


def extract_code_block(text: str, ctx: FilterContext) -> str | None:
    """Chat models wrap code in Markdown fences (and sometimes prose): keep the first block."""
    if not ctx.from_chat or "```" not in text:
        return text
    if not text.lstrip().startswith("```") and "```" in ctx.prefix[-200:] + ctx.suffix[:200]:
        return text  # the document itself is Markdown with fences; leave the answer alone
    match = _FENCE.search(text)
    return match.group(1) if match else text


def strip_echoed_line_prefix(text: str, ctx: FilterContext) -> str | None:
    """Hole-fillers often repeat the start of the cursor's line; drop the repeated part."""
    line_prefix = ctx.line_prefix
    if ctx.from_chat and line_prefix.strip() and text.startswith(line_prefix):
        return text[len(line_prefix) :]
    stripped = line_prefix.lstrip()
    if ctx.from_chat and stripped and text.startswith(stripped) and len(stripped) >= 4:
        return text[len(stripped) :]
    return text


def keep_first_line_mid_line(text: str, ctx: FilterContext) -> str | None:
    """With code after the cursor on its line, only a single-line completion fits."""
    if ctx.line_suffix.strip():
        return text.split("\n", 1)[0]
    return text


def trim_suffix_overlap(text: str, ctx: FilterContext) -> str | None:
    """Drop the tail of the answer that repeats the text after the cursor."""
    line_suffix = ctx.line_suffix.strip()
    if line_suffix and text.rstrip().endswith(line_suffix):
        return text.rstrip()[: -len(line_suffix)]
    next_line = next((line for line in ctx.suffix.split("\n") if line.strip()), "")
    if not line_suffix and next_line.strip() and "\n" in text:
        lines = text.split("\n")
        for index, line in enumerate(lines):
            if index and line.rstrip() == next_line.rstrip():
                return "\n".join(lines[:index]).rstrip("\n")
    return text


def drop_trailing_whitespace(text: str, ctx: FilterContext) -> str | None:
    """Trailing blank lines and spaces only push the suffix around."""
    return text.rstrip()


def drop_empty(text: str, ctx: FilterContext) -> str | None:
    return text if text.strip() else None
