"""Review of a file open in an editor (on save, or asked for): the whole file with the
session's settings, failures told the way every feature tells them, and the findings kept with
the code each one flagged, so a finding can follow its code while the user edits above it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp import errors
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.review.chunks import whole_file_chunks
from qwen_lsp.engine.review.run import Progress, ReviewRun, run_review, why_not_reviewed
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import Finding

log = logging.getLogger(__name__)

EDITOR_JOBS = 2  # a file's chunks at a time: an editor should not flood the endpoint


@dataclass(frozen=True)
class ReviewedFile:
    """The findings of a file's last review, with the code each one flagged then."""

    findings: tuple[Finding, ...]
    flagged: dict[str, tuple[str, ...]]  # fingerprint -> its lines at review time

    def where_now(self, source: SourceDocument, f: Finding) -> int | None:
        """The 1-based line where the code `f` flagged starts in `source` now: where it was,
        else the nearest place it moved to; None when that code is gone."""
        flagged = self.flagged[f.fingerprint]
        if _lines(source, f.line, f.end_line) == flagged:
            return f.line
        size = len(flagged)
        places = [
            n
            for n in range(1, source.line_count - size + 2)
            if source.line(n - 1) == flagged[0] and _lines(source, n, n + size - 1) == flagged
        ]
        return min(places, key=lambda n: abs(n - f.line), default=None)


def _lines(source: SourceDocument, first: int, last: int) -> tuple[str, ...]:
    """1-based lines `first`..`last` of the document as it is now."""
    return tuple(source.line(n - 1) for n in range(first, last + 1))


async def review_open_file(
    runtime: Runtime,
    source: SourceDocument,
    path: str,
    *,
    file: Path | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> ReviewedFile | None:
    """Review the whole text of an open file (`path` relative to its workspace folder, `file`
    where it is on disk, when it is a file); None, sending nothing, when the file must not be
    reviewed (`why_not_reviewed`: call it first to tell the user why), or when a setting keeps
    the review from running. That, a stopped run and failed chunks are told through the
    runtime, like a completion's failures: once, in words a user can act on."""
    if why_not_reviewed(runtime, path, source.size, file) is not None:
        return None
    chunks = whole_file_chunks(source, path, runtime.settings.review.chunk_tokens)
    try:
        door = runtime.workspace.files_of(file) if file is not None else None
        root = door.root if door is not None else None
        run = await run_review(
            runtime, chunks, jobs=EDITOR_JOBS, on_progress=on_progress, root=root
        )
    except errors.ConfigError as exc:  # settings that keep the review from running
        runtime.tell(exc)
        return None
    _tell_failures(runtime, run)
    if run.stopped is not None:
        return None  # a partial review would replace the findings the user has
    findings = tuple(run.findings)
    flagged = {f.fingerprint: _lines(source, f.line, f.end_line) for f in findings}
    return ReviewedFile(findings, flagged)


def _tell_failures(runtime: Runtime, run: ReviewRun) -> None:
    # Each failure was recorded where it happened (engine/ask.py: the breaker saw it); here
    # the user is told, once.
    if run.stopped is not None:
        runtime.incidents.report("review-stopped", f"qwen-lsp: review stopped: {run.stopped}")
    elif run.failed:
        error = run.failed[0].error
        assert error is not None
        runtime.tell(error)
