"""Post-processing: small pure filters run as a pipeline over a model's raw answer."""

from __future__ import annotations

from qwen_lsp.postprocess.context import FilterContext
from qwen_lsp.postprocess.pipeline import postprocess

__all__ = ["FilterContext", "postprocess"]
