"""The workspace symbol index as an editor drives it: which folders are indexed, what each
document or file event changes, and the build that reads the folders without stalling
completions.

A build runs in worker processes (`index_worker.py`: started with "spawn", one per core,
reading at lower priority, so the scheduler gives a request's thread a core first): a worker
lists the folder and compares it with the stored index, then the files to read go to the
workers in small batches; each worker commits the records it made to the folder's
database itself, so the server only counts outcomes and answers requests meanwhile.
Nothing of the folder's listing or content stays in the server's memory.

The server's `lsp/indexing.py` turns editor events into these calls and owns the timers and
the progress; what an event changes lives in the session's `Workspace`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from qwen_lsp.context.index import RefreshSummary, WorkspaceIndex
from qwen_lsp.context.index_worker import (
    StaleFile,
    read_and_store,
    scan_folder,
    stale_files,
)
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.engine.workers import start_index_workers, worker_count

log = logging.getLogger(__name__)

BATCH_FILES = 48  # files one worker task reads: small, so results cross in small pieces
PROGRESS_SECONDS = 0.2  # `$/progress` at most this often
MAX_FILE_EVENTS = 20  # more file events at once are a checkout or a build: a full refresh
_builds = itertools.count(1)


# -- folders and the build --------------------------------------------------------------------


def know_folders(runtime: Runtime, roots: Sequence[Path]) -> None:
    """The workspace folders, before their indexes are made: the files in them are judged by
    their folder's rules (ignore files, links that lead away) from the first request on."""
    runtime.workspace.know_folders(roots)


def index_folders(runtime: Runtime, roots: Sequence[Path]) -> list[WorkspaceIndex]:
    """Index these folders and no others (a stored index is usable at once); the new
    indexes, which `build_indexes` must bring up to date."""
    return runtime.workspace.set_folders(roots)


def indexes_to_rescan(runtime: Runtime) -> list[WorkspaceIndex]:
    """Every index, when the settings changed which files are read (`exclude`,
    `context.maxFiles`, ...) since the last call; else none."""
    workspace = runtime.workspace
    if not workspace.rescan_wanted:
        return []
    workspace.rescan_wanted = False
    return workspace.indexes


async def build_indexes(
    runtime: Runtime,
    indexes: Iterable[WorkspaceIndex],
    on_progress: Callable[[str, int], None],
    on_notice: Callable[[str], None] | None = None,
    pool: concurrent.futures.ProcessPoolExecutor | None = None,
    listed_ahead: Mapping[str, concurrent.futures.Future[int]] | None = None,
) -> list[str]:
    """Bring `indexes` up to date in worker processes (see the module docstring).
    `on_progress(message, percentage)` says "files done of files found" per folder;
    `on_notice(text)` is called once per folder and session when the limits left files out.
    `pool`: workers started ahead (`start_index_workers`, `start_listing`), and
    `listed_ahead` the listings of folders one of them began then. The result says what each
    folder's index holds, or why indexing stopped (a broken index costs only context: it is
    logged, never raised)."""
    summaries = []
    # The server's threads commit records while the event loop answers requests: the loop
    # gets the interpreter back within 1 ms, not the default 5.
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, 0.001))
    try:
        workers = worker_count()
        pool = pool or start_index_workers()
        for index in indexes:
            ahead = (listed_ahead or {}).get(str(index.root))
            summary = await _build(index, pool, workers, on_progress, ahead)
            summaries.append(f"{index.name}: {summary.describe()}")
            log.info("symbol index of %s: %s", index.root, summary.describe())
            notice = limits_notice(index, summary)
            if notice and on_notice is not None:
                on_notice(notice)
    except Exception as exc:  # a broken index must not take completions down with it
        log.exception("indexing failed")
        summaries.append(f"indexing stopped: {exc}")
    finally:
        sys.setswitchinterval(switch)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    return summaries


async def _build(
    index: WorkspaceIndex,
    pool: concurrent.futures.Executor,
    workers: int,
    on_progress: Callable[[str, int], None],
    listed_ahead: concurrent.futures.Future[int] | None = None,
) -> RefreshSummary:
    loop = asyncio.get_running_loop()
    job = index.job(next(_builds))
    if listed_ahead is not None:
        # The worker listing this folder since the server started holds the listing: once it
        # is done, it is the one idle worker, and the scan goes to it (`list_ahead`).
        with contextlib.suppress(Exception):  # a failed listing is only not reused
            listed = await asyncio.wrap_future(listed_ahead)
            log.info("listed %s (%d files) while the server started", index.root, listed)
    scan = await loop.run_in_executor(pool, scan_folder, job)
    summary = await asyncio.to_thread(index.begin, scan)
    found, done = scan.found, scan.reused
    on_progress(_progress(index, done, found), _percent(done, found))
    deadline = time.monotonic() + index.policy.time_limit
    batches = _batches(stale_files(scan.stale), BATCH_FILES)
    pending: set[asyncio.Future] = set()
    reported = time.monotonic()
    timed_out = False
    try:
        while True:
            while not timed_out and len(pending) < 2 * workers:
                batch = next(batches, None)
                if batch is None:
                    break
                pending.add(loop.run_in_executor(pool, read_and_store, job, batch))
            if not pending:
                break
            finished, pending = await asyncio.wait(
                pending,
                timeout=max(deadline - time.monotonic(), 0.01),
                return_when=asyncio.FIRST_COMPLETED,
            )
            for future in finished:
                outcomes = future.result()
                index.committed_by_worker(outcomes, summary)
                done += len(outcomes)
            if not timed_out and time.monotonic() >= deadline:
                timed_out = True  # what is under way is kept; nothing more is started
            if time.monotonic() - reported >= PROGRESS_SECONDS:
                on_progress(_progress(index, done, found), _percent(done, found))
                reported = time.monotonic()
    finally:
        index.settle()  # what the workers committed is seen, even if the build was stopped
    if timed_out:
        summary.timed_out = max(found - done, 0)
    del scan
    index.finish(summary)
    on_progress(_progress(index, done, found), _percent(done, found))
    return summary


def _progress(index: WorkspaceIndex, done: int, found: int) -> str:
    return f"{index.name}: {done} of {found} files"


def _percent(done: int, found: int) -> int:
    return done * 100 // found if found else 100


def _batches(files: Iterator[StaleFile], size: int) -> Iterator[list[StaleFile]]:
    while batch := list(itertools.islice(files, size)):
        yield batch


def limits_notice(index: WorkspaceIndex, summary: RefreshSummary) -> str | None:
    """What the limits left out of `index`, the first time they leave something out."""
    parts = []
    if summary.left_out:
        parts.append(f"{summary.left_out} files over context.maxFiles ({index.policy.max_files})")
    if summary.timed_out:
        limit = f"context.indexTimeLimit ({index.policy.time_limit:g} s)"
        parts.append(f"{summary.timed_out} files not read within {limit}")
    if not parts or index.limits_told:
        return None
    index.limits_told = True
    large = summary.skipped.get("large", 0)
    if large:
        limit = index.policy.max_file_bytes
        parts.append(f"{large} files over context.maxIndexFileSize ({limit} bytes)")
    return (
        f"qwen-lsp: the symbol index of {index.name} left out "
        + "; ".join(parts)
        + ". Completions see no definitions from them; raise the limits to include them."
    )


# -- documents and files ------------------------------------------------------------------------


def document_opened(runtime: Runtime, path: Path, source: SourceDocument) -> None:
    runtime.workspace.opened(path, source)


def document_edited(runtime: Runtime, path: Path, lines: Iterable[int]) -> None:
    """The user typed at these 0-based lines: recent-edit places for other files' prompts."""
    for line in lines:
        runtime.workspace.edited(path, line)


def typing_paused(runtime: Runtime, path: Path) -> None:
    """Index the editor's text of an open document, unsaved changes included."""
    runtime.workspace.reindex_open(path)


def document_closed(runtime: Runtime, path: Path) -> None:
    """Forget the editor's text: the file on disk counts again."""
    runtime.workspace.closed(path)


def files_saved(runtime: Runtime, *paths: Path) -> None:
    runtime.workspace.reindex_from_disk(*paths)


def files_changed_on_disk(
    runtime: Runtime, changed: Sequence[Path], deleted: Sequence[Path]
) -> list[WorkspaceIndex]:
    """Files changed outside the editor. A burst of more than `MAX_FILE_EVENTS` is a checkout
    or a build: then nothing is read here, and every index is returned, to be built again."""
    workspace = runtime.workspace
    if len(changed) + len(deleted) > MAX_FILE_EVENTS:
        return workspace.indexes
    for path in deleted:
        workspace.forget(path)
    workspace.reindex_from_disk(*changed)
    return []
