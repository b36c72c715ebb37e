"""Review on save: findings as diagnostics, and quick fixes that apply a finding's suggestion.

With `review.onSave` on, saving a file reviews it with the engine `qwen-lsp --check` uses
(answers are cached, so saving unchanged code costs nothing), shows `$/progress` while it
runs, and publishes the findings as diagnostics with source "qwen-lsp". A new save of the same
file cancels the review still running for it. `quick_fixes` offers each suggestion that
touches the asked range as a quick fix; the textDocument/codeAction handler calls it. A fix
applies to the code the finding flagged: when lines were added above it since the review, the
fix follows that code, and when the code itself changed, the fix is no longer offered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from qwen_lsp.engine import (
    Progress,
    ReviewedFile,
    relative_path,
    review_open_file,
    why_not_reviewed,
)
from qwen_lsp.lsp import convert
from qwen_lsp.lsp.progress import work_done
from qwen_lsp.lsp.server import QwenLanguageServer

log = logging.getLogger(__name__)

REVIEW_FILE = "qwen-lsp.reviewFile"


@dataclass
class ReviewSession:
    """Per server: the last review of each file and the reviews running now."""

    files: dict[str, ReviewedFile] = field(default_factory=dict)
    running: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def cancel(self, uri: str) -> None:
        """Stop the review of `uri` still running: its text is not worth paying for."""
        if (earlier := self.running.pop(uri, None)) is not None:
            earlier.cancel()

    def forget(self, uri: str, task: asyncio.Task[None]) -> None:
        if self.running.get(uri) is task:
            del self.running[uri]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("review on save of %s failed", uri, exc_info=exc)


def did_save(ls: QwenLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    if ls.runtime is None or not ls.runtime.settings.review.on_save:
        return
    uri = params.text_document.uri
    reviews = ls.state(ReviewSession)
    reviews.cancel(uri)  # the file changed again
    task = asyncio.get_running_loop().create_task(review_document(ls, uri))
    reviews.running[uri] = task
    task.add_done_callback(lambda done: reviews.forget(uri, done))


async def review_file_command(ls: QwenLanguageServer, *arguments: Any) -> dict[str, Any] | None:
    """`qwen-lsp.reviewFile {uri}`: review an open file now, whatever `review.onSave` says;
    the findings arrive as diagnostics, and the answer counts them."""
    request = arguments[0] if arguments and isinstance(arguments[0], dict) else {}
    uri = str(request.get("uri", ""))
    if ls.documents.get(uri) is None or ls.runtime is None:
        ls.show(f"qwen-lsp: {REVIEW_FILE} needs the uri of an open document")
        return None
    reviews = ls.state(ReviewSession)
    reviews.cancel(uri)
    await review_document(ls, uri)
    reviewed = reviews.files.get(uri)
    return {"findings": len(reviewed.findings) if reviewed else 0}


async def review_document(ls: QwenLanguageServer, uri: str) -> None:
    """Review the open document `uri` under `$/progress` and publish its findings."""
    doc, runtime = ls.documents.get(uri), ls.runtime
    if doc is None or runtime is None:
        log.debug("review asked for a document that is not open: %s", uri)
        return
    path = relative_path(doc.location, ls.roots)
    if (reason := why_not_reviewed(runtime, path, doc.source.size, doc.path)) is not None:
        log.info("no review: %s", reason)
        return
    version = doc.version
    async with work_done(ls, f"Reviewing {path}", percentage=0) as progress:

        def report(p: Progress) -> None:
            message = f"{p.done}/{p.total} chunks, {p.findings} findings"
            progress.report(message, 100 * p.done // max(p.total, 1))

        reviewed = await review_open_file(
            runtime, doc.source, path, file=doc.path, on_progress=report
        )
    if reviewed is None:
        return
    ls.state(ReviewSession).files[uri] = reviewed
    diagnostics = [convert.diagnostic(doc.source, f, f.line) for f in reviewed.findings]
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics)
    )


def _wants_quick_fixes(only: list[str] | None) -> bool:
    if not only:
        return True
    kind = types.CodeActionKind.QuickFix.value
    return any(k == kind or kind.startswith(f"{k}.") for k in only)


def quick_fixes(ls: QwenLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Quick fixes applying the suggestions of the findings that touch `params.range`."""
    uri = params.text_document.uri
    reviewed, doc = ls.state(ReviewSession).files.get(uri), ls.documents.get(uri)
    if reviewed is None or doc is None or not _wants_quick_fixes(params.context.only):
        return []
    asked_start, asked_end = convert.span(params.range)
    actions = []
    for f in reviewed.findings:
        if f.suggestion is None or (line := reviewed.where_now(doc.source, f)) is None:
            continue
        end_line = line + f.end_line - f.line
        if not (line - 1 <= asked_end.line and asked_start.line <= end_line - 1):
            continue  # 1-based lines against the 0-based range asked
        actions.append(
            types.CodeAction(
                title=f"Apply qwen-lsp suggestion ({f.rule})",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[convert.diagnostic(doc.source, f, line)],
                edit=types.WorkspaceEdit(
                    changes={uri: [convert.suggestion_edit(doc.source, f, line)]}
                ),
                is_preferred=True,
            )
        )
    return actions


def register(server: QwenLanguageServer) -> None:
    server.add_state(ReviewSession())
    server.code_action_sources.append(quick_fixes)
    server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))(did_save)
    server.command(REVIEW_FILE)(review_file_command)
