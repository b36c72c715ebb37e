"""Use cases shared by the language server and the command line; no JSON-RPC in here.

`lsp/` and `cli/` use the engine through the names exported here, never through its
modules: `Runtime` (what a session holds), and the entry points of the three use cases
(`completion/`, `actions/`, `review/`) over the shared core (`ask.py`, the one paid call;
`failures.py`; `workspace.py`). Names are imported on first use, so starting the server does
not pay for a use case it has not run yet.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    # the session
    "Runtime": "runtime",
    "KEY_HELP": "runtime",
    "Workspace": "workspace",
    "workspace_folder": "workspace",
    "relative_path": "workspace",
    # completion
    "CompletionTarget": "completion.complete",
    "complete": "completion.complete",
    "PromptInspection": "completion.inspection",
    "inspect_prompt": "completion.inspection",
    # code actions
    "ActionFailed": "actions.model",
    "ActionOffer": "actions.model",
    "ActionResult": "actions.model",
    "ActionTarget": "actions.model",
    "EXPLAIN": "actions.model",
    "KINDS": "actions.model",
    "Problem": "actions.model",
    "SpendDeclined": "actions.model",
    "PromptSources": "actions.templates",
    "offer_actions": "actions.offers",
    "run_action": "actions.running",
    # review
    "Chunk": "review.chunks",
    "changed_chunks": "review.chunks",
    "whole_file_chunks": "review.chunks",
    "ChangedFile": "review.diff",
    "DiffError": "review.diff",
    "git_changes": "review.diff",
    "parse_unified_diff": "review.diff",
    "MalformedAnswer": "review.answers",
    "Progress": "review.run",
    "ReviewRun": "review.run",
    "estimate_costs": "review.run",
    "preview": "review.run",
    "run_review": "review.run",
    "why_not_reviewed": "review.run",
}

__all__ = [
    "EXPLAIN",
    "KEY_HELP",
    "KINDS",
    "ActionFailed",
    "ActionOffer",
    "ActionResult",
    "ActionTarget",
    "ChangedFile",
    "Chunk",
    "CompletionTarget",
    "DiffError",
    "MalformedAnswer",
    "Problem",
    "Progress",
    "PromptInspection",
    "PromptSources",
    "ReviewRun",
    "Runtime",
    "SpendDeclined",
    "Workspace",
    "changed_chunks",
    "complete",
    "estimate_costs",
    "git_changes",
    "inspect_prompt",
    "offer_actions",
    "parse_unified_diff",
    "preview",
    "relative_path",
    "run_action",
    "run_review",
    "whole_file_chunks",
    "why_not_reviewed",
    "workspace_folder",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from qwen_lsp.engine.actions.model import (
        EXPLAIN,
        KINDS,
        ActionFailed,
        ActionOffer,
        ActionResult,
        ActionTarget,
        Problem,
        SpendDeclined,
    )
    from qwen_lsp.engine.actions.offers import offer_actions
    from qwen_lsp.engine.actions.running import run_action
    from qwen_lsp.engine.actions.templates import PromptSources
    from qwen_lsp.engine.completion.complete import CompletionTarget, complete
    from qwen_lsp.engine.completion.inspection import PromptInspection, inspect_prompt
    from qwen_lsp.engine.review.answers import MalformedAnswer
    from qwen_lsp.engine.review.chunks import Chunk, changed_chunks, whole_file_chunks
    from qwen_lsp.engine.review.diff import ChangedFile, DiffError, git_changes, parse_unified_diff
    from qwen_lsp.engine.review.run import (
        Progress,
        ReviewRun,
        estimate_costs,
        preview,
        run_review,
        why_not_reviewed,
    )
    from qwen_lsp.engine.runtime import KEY_HELP, Runtime
    from qwen_lsp.engine.workspace import Workspace, relative_path, workspace_folder
