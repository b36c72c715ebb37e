"""Use cases shared by the language server and the command line; no JSON-RPC in here.

`lsp/` and `cli/` use the engine through the names exported here, never through its
modules: `Runtime` (what a session holds), and the entry points of the three use cases
(`completion/`, `actions/`, `review/`) over the shared core (`ask.py`, the one paid call;
`failures.py`; `workspace.py`), and what an editor needs of a session besides them
(`indexing.py`: the symbol index as editor events drive it, `workers.py` its processes;
`status.py`: what the status bar and the stats command show). Names are imported on first
use, so starting the server does not pay for a use case it has not run yet.
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
    # what the session shows about itself
    "SessionStatus": "status",
    "on_status_change": "status",
    "session_status": "status",
    "spend_stats": "status",
    "status_changed": "status",
    # the workspace symbol index, as an editor drives it
    "build_indexes": "indexing",
    "document_closed": "indexing",
    "document_edited": "indexing",
    "document_opened": "indexing",
    "files_changed_on_disk": "indexing",
    "files_saved": "indexing",
    "index_folders": "indexing",
    "indexes_to_rescan": "indexing",
    "know_folders": "indexing",
    "start_index_workers": "workers",
    "start_listing": "workers",
    "typing_paused": "indexing",
    # acceptance, counted locally
    "document_changed": "acceptance",
    "document_gone": "acceptance",
    "suggestion_accepted": "acceptance",
    "suggestions_shown": "acceptance",
    # the one paid call
    "Prompt": "ask",
    "Question": "ask",
    "get_answer": "ask",
    # completion
    "CompletionTarget": "completion.complete",
    "complete": "completion.complete",
    "PromptInspection": "completion.inspection",
    "inspect_prompt": "completion.inspection",
    # eval: which model pays off on this code
    "Hole": "evaluation.holes",
    "cut_holes": "evaluation.holes",
    "TestRunner": "evaluation.scoring",
    "EvalSpend": "evaluation.run",
    "ModelRun": "evaluation.run",
    "ModelSpec": "evaluation.run",
    "estimate_eval": "evaluation.run",
    "run_eval": "evaluation.run",
    "eval_report": "evaluation.report",
    "eval_rows": "evaluation.report",
    "eval_table": "evaluation.report",
    "ChartsUnavailable": "evaluation.html",
    "eval_html": "evaluation.html",
    "warm_up": "completion.warmup",
    # code actions
    "ActionFailed": "actions.model",
    "ActionOffer": "actions.model",
    "ActionResult": "actions.model",
    "ActionTarget": "actions.model",
    "FileEdit": "actions.model",
    "EXPLAIN": "actions.model",
    "KINDS": "actions.model",
    "Problem": "actions.model",
    "SpendDeclined": "actions.model",
    "TextChange": "actions.model",
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
    "git_range_changes": "review.revisions",
    "git_staged_changes": "review.revisions",
    "revision_range": "review.revisions",
    "MalformedAnswer": "review.answers",
    "ChunkPreview": "review.run",
    "ModelEstimate": "review.run",
    "Progress": "review.run",
    "ReviewRun": "review.run",
    "estimate_costs": "review.run",
    "preview": "review.run",
    "run_review": "review.run",
    "why_not_reviewed": "review.run",
    "ReviewedFile": "review.editor",
    "review_open_file": "review.editor",
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
    "ChartsUnavailable",
    "Chunk",
    "ChunkPreview",
    "CompletionTarget",
    "DiffError",
    "EvalSpend",
    "FileEdit",
    "Hole",
    "MalformedAnswer",
    "ModelEstimate",
    "ModelRun",
    "ModelSpec",
    "Problem",
    "Progress",
    "Prompt",
    "PromptInspection",
    "PromptSources",
    "Question",
    "ReviewRun",
    "ReviewedFile",
    "Runtime",
    "SessionStatus",
    "SpendDeclined",
    "TestRunner",
    "TextChange",
    "Workspace",
    "build_indexes",
    "changed_chunks",
    "complete",
    "cut_holes",
    "document_changed",
    "document_closed",
    "document_edited",
    "document_gone",
    "document_opened",
    "estimate_costs",
    "estimate_eval",
    "eval_html",
    "eval_report",
    "eval_rows",
    "eval_table",
    "files_changed_on_disk",
    "files_saved",
    "get_answer",
    "git_changes",
    "git_range_changes",
    "git_staged_changes",
    "index_folders",
    "indexes_to_rescan",
    "inspect_prompt",
    "know_folders",
    "offer_actions",
    "on_status_change",
    "parse_unified_diff",
    "preview",
    "relative_path",
    "review_open_file",
    "revision_range",
    "run_action",
    "run_eval",
    "run_review",
    "session_status",
    "spend_stats",
    "start_index_workers",
    "start_listing",
    "status_changed",
    "suggestion_accepted",
    "suggestions_shown",
    "typing_paused",
    "warm_up",
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
    from qwen_lsp.engine.acceptance import (
        document_changed,
        document_gone,
        suggestion_accepted,
        suggestions_shown,
    )
    from qwen_lsp.engine.actions.model import (
        EXPLAIN,
        KINDS,
        ActionFailed,
        ActionOffer,
        ActionResult,
        ActionTarget,
        FileEdit,
        Problem,
        SpendDeclined,
        TextChange,
    )
    from qwen_lsp.engine.actions.offers import offer_actions
    from qwen_lsp.engine.actions.running import run_action
    from qwen_lsp.engine.actions.templates import PromptSources
    from qwen_lsp.engine.ask import Prompt, Question, get_answer
    from qwen_lsp.engine.completion.complete import CompletionTarget, complete
    from qwen_lsp.engine.completion.inspection import PromptInspection, inspect_prompt
    from qwen_lsp.engine.completion.warmup import warm_up
    from qwen_lsp.engine.evaluation.holes import Hole, cut_holes
    from qwen_lsp.engine.evaluation.html import ChartsUnavailable, eval_html
    from qwen_lsp.engine.evaluation.report import eval_report, eval_rows, eval_table
    from qwen_lsp.engine.evaluation.run import (
        EvalSpend,
        ModelRun,
        ModelSpec,
        estimate_eval,
        run_eval,
    )
    from qwen_lsp.engine.evaluation.scoring import TestRunner
    from qwen_lsp.engine.indexing import (
        build_indexes,
        document_closed,
        document_edited,
        document_opened,
        files_changed_on_disk,
        files_saved,
        index_folders,
        indexes_to_rescan,
        know_folders,
        typing_paused,
    )
    from qwen_lsp.engine.review.answers import MalformedAnswer
    from qwen_lsp.engine.review.chunks import Chunk, changed_chunks, whole_file_chunks
    from qwen_lsp.engine.review.diff import ChangedFile, DiffError, git_changes, parse_unified_diff
    from qwen_lsp.engine.review.editor import ReviewedFile, review_open_file
    from qwen_lsp.engine.review.revisions import (
        git_range_changes,
        git_staged_changes,
        revision_range,
    )
    from qwen_lsp.engine.review.run import (
        ChunkPreview,
        ModelEstimate,
        Progress,
        ReviewRun,
        estimate_costs,
        preview,
        run_review,
        why_not_reviewed,
    )
    from qwen_lsp.engine.runtime import KEY_HELP, Runtime
    from qwen_lsp.engine.status import (
        SessionStatus,
        on_status_change,
        session_status,
        spend_stats,
        status_changed,
    )
    from qwen_lsp.engine.workers import start_index_workers, start_listing
    from qwen_lsp.engine.workspace import Workspace, relative_path, workspace_folder
