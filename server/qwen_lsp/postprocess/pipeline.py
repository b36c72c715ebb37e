"""The order the filters run in; the first that drops an answer ends it."""

from __future__ import annotations

from collections.abc import Callable

from qwen_lsp.postprocess import filters
from qwen_lsp.postprocess.context import FilterContext

Filter = Callable[[str, FilterContext], "str | None"]

PIPELINE: tuple[Filter, ...] = (
    filters.cut_at_stop_tokens,
    filters.extract_code_block,
    filters.strip_echoed_line_prefix,
    filters.keep_first_line_mid_line,
    filters.trim_suffix_overlap,
    filters.drop_trailing_whitespace,
    filters.drop_empty,
)


def postprocess(
    text: str, ctx: FilterContext, pipeline: tuple[Filter, ...] = PIPELINE
) -> str | None:
    """Run `text` through every filter; None when one of them drops it."""
    result: str | None = text
    for step in pipeline:
        result = step(result, ctx)
        if result is None:
            return None
    return result
