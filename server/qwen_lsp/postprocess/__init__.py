"""Post-processing: small pure filters, run as a pipeline over a model's raw answer.

Each filter takes the answer and a `FilterContext` and returns the text to keep, or None to
drop the answer. `pipeline.CLEAN` makes the continuation worth keeping; `pipeline.SHOW`
decides how much of it to show at the cursor now.
"""

from __future__ import annotations

from qwen_lsp.postprocess.context import FilterContext
from qwen_lsp.postprocess.pipeline import Processed, postprocess, process
from qwen_lsp.postprocess.syntax import SyntaxProbe

__all__ = ["FilterContext", "Processed", "SyntaxProbe", "postprocess", "process"]
