"""Exact token counts with Qwen's tokenizer, where its vocabulary is installed.

Qwen2.5/Qwen3-Coder use the Qwen BPE (151,643 merges, the pre-tokenizer pattern below); the
dashscope package ships that vocabulary as `resources/qwen.tiktoken`, and tiktoken (one of
its dependencies) runs it. Both come with qwen-lsp's own dependencies, so counts are exact
offline; this module finds the file without importing dashscope (which costs half a second).
Loading takes about 0.3 s and 40 MB, so only the prompt inspector, review chunks (whose
budget a review must keep) and the benchmarks count exactly; per-keystroke budgets use
`budget.estimate_tokens`, whose error against this
tokenizer is stated in its docstring. The special tokens of the coder models
(`<|fim_prefix|>`, `<|file_sep|>`, ...) count one token each.
"""

from __future__ import annotations

import base64
import importlib.util
import logging
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from qwen_lsp.special_tokens import QWEN_STOP_TOKENS

log = logging.getLogger(__name__)

# Qwen's pre-tokenizer (the `pat_str` of its tiktoken encoding).
_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
    r"\s*[\r\n]+|\s+(?!\S)|\s+"
)
_SPECIAL = re.compile("|".join(re.escape(t) for t in (*QWEN_STOP_TOKENS, "<|im_start|>")))


def vocabulary_file() -> Path | None:
    """dashscope's copy of the Qwen vocabulary, found without importing dashscope."""
    try:
        spec = importlib.util.find_spec("dashscope")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "qwen.tiktoken"
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def qwen_token_counter() -> Callable[[str], int] | None:
    """A function counting Qwen tokens exactly, or None when tiktoken or the vocabulary is
    missing (then callers fall back to the estimate)."""
    vocabulary = vocabulary_file()
    if vocabulary is None:
        return None
    try:
        import tiktoken

        ranks = {
            base64.b64decode(token): int(rank)
            for token, rank in (
                line.split() for line in vocabulary.read_bytes().splitlines() if line
            )
        }
        encoding = tiktoken.Encoding(
            "qwen", pat_str=_PATTERN, mergeable_ranks=ranks, special_tokens={}
        )
    except (ImportError, OSError, ValueError) as exc:
        log.info("no exact Qwen token counts (%s): estimating", exc)
        return None

    def count(text: str) -> int:
        if "<|" not in text:  # no special token: one encoding (the common case, and faster)
            return len(encoding.encode_ordinary(text))
        parts = _SPECIAL.split(text)  # the text between special tokens, each encoded apart
        return len(parts) - 1 + sum(len(encoding.encode_ordinary(part)) for part in parts if part)

    return count
