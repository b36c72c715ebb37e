"""The order the filters run in; the first that drops an answer ends it.

`CLEAN` turns a raw answer into the continuation worth keeping at the cursor (every line of
it); `SHOW` then decides how much of that to show now. The engine keeps the whole
continuation, so the lines not shown yet can be offered for the next lines without asking
the model again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qwen_lsp.postprocess.brackets import balance_brackets
from qwen_lsp.postprocess.chat import (
    cut_at_stop_tokens,
    strip_code_fences_and_prose,
    strip_echoed_prefix,
)
from qwen_lsp.postprocess.cleanup import drop_empty_and_trivial, drop_trailing_whitespace
from qwen_lsp.postprocess.context import FilterContext
from qwen_lsp.postprocess.overlap import keep_first_line_mid_line, trim_suffix_overlap
from qwen_lsp.postprocess.repetition import drop_repeated_blocks, drop_repeated_lines
from qwen_lsp.postprocess.scope import limit_to_scope, match_indentation
from qwen_lsp.postprocess.syntax import cut_to_parsing_prefix, decide_single_or_multi_line

Filter = Callable[[str, FilterContext], "str | None"]

CLEAN: tuple[Filter, ...] = (
    cut_at_stop_tokens,
    strip_code_fences_and_prose,
    strip_echoed_prefix,
    keep_first_line_mid_line,
    match_indentation,
    trim_suffix_overlap,
    drop_repeated_lines,
    drop_repeated_blocks,
    limit_to_scope,
    balance_brackets,
    drop_trailing_whitespace,
    cut_to_parsing_prefix,
    drop_empty_and_trivial,
)
SHOW: tuple[Filter, ...] = (
    decide_single_or_multi_line,
    drop_empty_and_trivial,
)
PIPELINE: tuple[Filter, ...] = CLEAN + SHOW


@dataclass(frozen=True)
class Processed:
    """An answer after post-processing: what to show now, and all of what it continues with."""

    shown: str | None  # None: nothing to show at the cursor itself (the next line may use it)
    continuation: str


def run(text: str, ctx: FilterContext, pipeline: tuple[Filter, ...]) -> str | None:
    """Run `text` through every filter of `pipeline`; None when one of them drops it."""
    result: str | None = text
    for step in pipeline:
        result = step(result, ctx)
        if result is None:
            return None
    return result


def postprocess(text: str, ctx: FilterContext) -> str | None:
    """What to show for `text` at the cursor, or None."""
    return run(text, ctx, PIPELINE)


def process(text: str, ctx: FilterContext) -> Processed | None:
    """The kept continuation and what of it to show; None when the answer is dropped."""
    continuation = run(text, ctx, CLEAN)
    if continuation is None:
        return None
    return Processed(run(continuation, ctx, SHOW), continuation)
