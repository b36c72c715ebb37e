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
import contextlib
import logging
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from qwen_lsp.engine import (
    Progress,
    ReviewRun,
    relative_path,
    run_review,
    whole_file_chunks,
    why_not_reviewed,
)
from qwen_lsp.lsp.documents import OpenDocument
from qwen_lsp.lsp.server import QwenLanguageServer
from qwen_lsp.model import Finding

log = logging.getLogger(__name__)

SOURCE = "qwen-lsp"
SAVE_JOBS = 2  # a file's chunks at a time: an editor should not flood the endpoint
_SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


@dataclass(frozen=True)
class ReviewedFile:
    """The findings of a file's last review, with the code each one flagged then."""

    findings: tuple[Finding, ...]
    flagged: dict[str, tuple[str, ...]]  # fingerprint -> its lines at review time


@dataclass
class ReviewSession:
    """Per server: the last review of each file and the reviews running now."""

    files: dict[str, ReviewedFile] = field(default_factory=dict)
    running: dict[str, asyncio.Task[None]] = field(default_factory=dict)


_sessions: weakref.WeakKeyDictionary[QwenLanguageServer, ReviewSession] = (
    weakref.WeakKeyDictionary()
)


def session(ls: QwenLanguageServer) -> ReviewSession:
    return _sessions.setdefault(ls, ReviewSession())


def register(server: QwenLanguageServer) -> None:
    server.code_action_sources.append(quick_fixes)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: QwenLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        runtime = ls.runtime
        if runtime is None or not runtime.settings.review.on_save:
            return
        uri = params.text_document.uri
        reviews = session(ls)
        if (earlier := reviews.running.pop(uri, None)) is not None:
            earlier.cancel()  # the file changed again: its old text is not worth paying for
        task = asyncio.get_running_loop().create_task(review_document(ls, uri))
        reviews.running[uri] = task
        task.add_done_callback(lambda done: _forget(reviews, uri, done))

    server.command(REVIEW_FILE)(review_file_command)


REVIEW_FILE = "qwen-lsp.reviewFile"


async def review_file_command(ls: QwenLanguageServer, *arguments: Any) -> dict[str, Any] | None:
    """`qwen-lsp.reviewFile {uri}`: review an open file now, whatever `review.onSave` says;
    the findings arrive as diagnostics, and the answer counts them."""
    request = arguments[0] if arguments and isinstance(arguments[0], dict) else {}
    uri = str(request.get("uri", ""))
    if ls.documents.get(uri) is None or ls.runtime is None:
        ls.show(f"qwen-lsp: {REVIEW_FILE} needs the uri of an open document")
        return None
    reviews = session(ls)
    if (earlier := reviews.running.pop(uri, None)) is not None:
        earlier.cancel()
    await review_document(ls, uri)
    reviewed = reviews.files.get(uri)
    return {"findings": len(reviewed.findings) if reviewed else 0}


def _forget(reviews: ReviewSession, uri: str, task: asyncio.Task[None]) -> None:
    if reviews.running.get(uri) is task:
        del reviews.running[uri]
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("review on save of %s failed", uri, exc_info=exc)


async def review_document(ls: QwenLanguageServer, uri: str) -> None:
    """Review the open document `uri` and publish its findings."""
    doc, runtime = ls.documents.get(uri), ls.runtime
    if doc is None or runtime is None:
        log.debug("review asked for a document that is not open: %s", uri)
        return
    path = relative_path(doc.location, ls.roots)
    if (reason := why_not_reviewed(runtime, path, doc.source.size, doc.path)) is not None:
        log.info("no review: %s", reason)
        return
    version = doc.version
    chunks = whole_file_chunks(doc.source, path, runtime.settings.review.chunk_tokens)
    async with _progress(ls, f"Reviewing {path}") as report:
        run = await run_review(
            runtime,
            chunks,
            jobs=SAVE_JOBS,
            on_progress=report,
            root=ls.roots[0] if ls.roots else None,
        )
    _tell_failures(ls, run)
    findings = tuple(run.findings)
    flagged = {f.fingerprint: _lines(doc, f.line, f.end_line) for f in findings}
    session(ls).files[uri] = ReviewedFile(findings, flagged)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[_diagnostic(doc, f, f.line) for f in findings]
        )
    )


def _tell_failures(ls: QwenLanguageServer, run: ReviewRun) -> None:
    runtime = ls.runtime
    assert runtime is not None
    if run.stopped is not None:
        runtime.incidents.report("review-stopped", f"qwen-lsp: review stopped: {run.stopped}")
    elif run.failed:
        error = run.failed[0].error
        assert error is not None
        runtime.fail(error)
    elif run.calls:
        runtime.succeed()


@contextlib.asynccontextmanager
async def _progress(ls: QwenLanguageServer, title: str):  # type: ignore[no-untyped-def]
    """$/progress around a review, when the client takes server-initiated progress."""
    window = ls.client_capabilities.window
    if window is None or not window.work_done_progress:
        yield lambda p: None
        return
    token = f"qwen-lsp-review-{uuid.uuid4()}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception as exc:  # a client that refuses progress still gets its review
        log.debug("no progress for the review: %s", exc)
        yield lambda p: None
        return
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, percentage=0))

    def report(p: Progress) -> None:
        message = f"{p.done}/{p.total} chunks, {p.findings} findings"
        percentage = 100 * p.done // max(p.total, 1)
        ls.work_done_progress.report(
            token, types.WorkDoneProgressReport(message=message, percentage=percentage)
        )

    try:
        yield report
    finally:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd())


# -- findings in LSP terms ------------------------------------------------------------------


def _lines(doc: OpenDocument, first: int, last: int) -> tuple[str, ...]:
    """1-based lines `first`..`last` of the document as it is now."""
    return tuple(doc.source.line(n - 1) for n in range(first, last + 1))


def _diagnostic(doc: OpenDocument, f: Finding, line: int) -> types.Diagnostic:
    """`f` as a diagnostic over its lines, which now start at 1-based `line`."""
    source = doc.source
    end_line = line + f.end_line - f.line
    text = source.line(line - 1)
    start = source.position_at(source.line_start(line - 1) + len(text) - len(text.lstrip()))
    end = source.position_at(source.line_range(end_line - 1)[1])
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(start.line, start.character),
            end=types.Position(end.line, end.character),
        ),
        message=f.message,
        severity=_SEVERITIES[f.severity],
        code=f.rule,
        source=SOURCE,
        data={"fingerprint": f.fingerprint},
    )


def _where_now(doc: OpenDocument, f: Finding, flagged: tuple[str, ...]) -> int | None:
    """The 1-based line where the code `f` flagged starts now: where it was, else the nearest
    place it moved to; None when that code is gone."""
    if _lines(doc, f.line, f.end_line) == flagged:
        return f.line
    size = len(flagged)
    places = [
        n
        for n in range(1, doc.source.line_count - size + 2)
        if doc.source.line(n - 1) == flagged[0] and _lines(doc, n, n + size - 1) == flagged
    ]
    return min(places, key=lambda n: abs(n - f.line), default=None)


def _wants_quick_fixes(only: list[str] | None) -> bool:
    if not only:
        return True
    kind = types.CodeActionKind.QuickFix.value
    return any(k == kind or kind.startswith(f"{k}.") for k in only)


def quick_fixes(ls: QwenLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Quick fixes applying the suggestions of the findings that touch `params.range`."""
    uri = params.text_document.uri
    reviewed, doc = session(ls).files.get(uri), ls.documents.get(uri)
    if reviewed is None or doc is None or not _wants_quick_fixes(params.context.only):
        return []
    asked = params.range
    actions = []
    for f in reviewed.findings:
        if f.suggestion is None:
            continue
        line = _where_now(doc, f, reviewed.flagged[f.fingerprint])
        end_line = None if line is None else line + f.end_line - f.line
        if (
            line is None
            or end_line is None
            or not (line - 1 <= asked.end.line and asked.start.line <= end_line - 1)
        ):
            continue
        actions.append(
            types.CodeAction(
                title=f"Apply qwen-lsp suggestion ({f.rule})",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[_diagnostic(doc, f, line)],
                edit=types.WorkspaceEdit(changes={uri: [_edit(doc, f, line, end_line)]}),
                is_preferred=True,
            )
        )
    return actions


def _edit(doc: OpenDocument, f: Finding, line: int, end_line: int) -> types.TextEdit:
    """Replace lines `line`..`end_line` (1-based) by the suggestion; an empty suggestion
    deletes them with their line breaks."""
    source = doc.source
    start = source.position_at(source.line_start(line - 1))
    if f.suggestion == "":
        end = source.position_at(source.line_start(end_line))
    else:
        end = source.position_at(source.line_range(end_line - 1)[1])
    return types.TextEdit(
        range=types.Range(
            start=types.Position(start.line, start.character),
            end=types.Position(end.line, end.character),
        ),
        new_text=f.suggestion or "",
    )
