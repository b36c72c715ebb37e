"""Filters for what comes around the code in an answer: special tokens a server failed to stop
at, and the Markdown fences, prose and echoed code that chat models wrap a completion in.
"""

from __future__ import annotations

import re

from qwen_lsp.postprocess.context import FilterContext
from qwen_lsp.special_tokens import HOLE, QWEN_STOP_TOKENS

_FENCE = re.compile(r"```[^\n`]*\n(.*?)(?:\n[ \t]*```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
# A line of prose a chat model puts before the code: "Here is the completion:", "Sure!".
_LEAD_IN = re.compile(
    r"^(?:here(?:'s| is| are)|sure|certainly|the (?:missing|completed?|code)|"
    r"to complete|you can|this (?:code|completes))\b[^\n]*\n+",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"^[A-Z][a-z']*(?: [\w'`,()-]+){2,}[.!]$")
_CODE_CHARS = set("=;{}()[]<>")
_ECHO_LINES = 4  # how many lines before the cursor a chat model may repeat


def cut_at_stop_tokens(text: str, ctx: FilterContext) -> str | None:
    """Servers that ignore `stop` leave Qwen's special tokens in the answer: cut at the first."""
    cut = len(text)
    for token in (*QWEN_STOP_TOKENS, HOLE):
        index = text.find(token)
        if index != -1:
            cut = min(cut, index)
    return text[:cut]


def strip_code_fences_and_prose(text: str, ctx: FilterContext) -> str | None:
    """Chat models wrap code in Markdown fences and explain it: keep the code.

    The first fenced block wins (an unclosed fence runs to the end); without fences, a
    lead-in line and a closing sentence of prose go, and a one-sentence answer with one
    `inline code` span is that span. A Markdown document's own fences are left alone.
    """
    if not ctx.from_chat:
        return text
    if "```" in text:
        if not text.lstrip().startswith("```") and "```" in ctx.prefix[-200:] + ctx.suffix[:200]:
            return text  # the document itself is Markdown with fences; leave the answer alone
        match = _FENCE.search(text)
        return match.group(1) if match else text
    stripped = text.strip()
    if "\n" not in stripped:
        spans = _INLINE_CODE.findall(stripped)
        if len(spans) == 1 and _is_prose(_INLINE_CODE.sub("x", stripped)):
            return spans[0]
    text = _LEAD_IN.sub("", text.lstrip("\n"), count=1)
    head, sep, last = text.rstrip().rpartition("\n\n")
    if sep and _is_prose(last.strip()):
        return head
    return text


def _is_prose(line: str) -> bool:
    """A sentence in words, not a line of code."""
    return bool(_SENTENCE.match(line)) and not (_CODE_CHARS & set(line))


def strip_echoed_prefix(text: str, ctx: FilterContext) -> str | None:
    """Chat models often repeat the code before the hole (the start of the cursor's line, or
    the last few lines) before the part that fills it: drop what is repeated."""
    if not ctx.from_chat:
        return text
    lines = ctx.prefix.split("\n")
    # The last lines, longest first (the cursor's line is the last); also all of the code
    # before the hole, which a model may repeat whole.
    tails = ["\n".join(lines[-count:]) for count in range(min(_ECHO_LINES, len(lines)), 0, -1)]
    if len(lines) > _ECHO_LINES:
        tails.insert(0, ctx.prefix)
    for tail in tails:
        if not tail.strip():
            continue
        if text.startswith(tail):
            return text[len(tail) :]
        stripped = tail.lstrip()
        if len(stripped) >= 4 and text.lstrip().startswith(stripped):
            return text.lstrip()[len(stripped) :]
    return text
