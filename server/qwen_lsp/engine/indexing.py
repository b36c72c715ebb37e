"""The workspace symbol index as an editor drives it: which folders are indexed, what each
document or file event changes, and the build that reads the folders without stalling
completions.

The server's `lsp/indexing.py` turns editor events into these calls and owns the timers and
the progress; what an event changes lives in the session's `Workspace`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from qwen_lsp.context.index import WorkspaceIndex
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.runtime import Runtime

log = logging.getLogger(__name__)

SLICE_SECONDS = 0.02  # the build yields to requests this often
MAX_FILE_EVENTS = 20  # more file events at once are a checkout or a build: a full refresh


# -- folders and the build --------------------------------------------------------------------


def know_folders(runtime: Runtime, roots: Sequence[Path]) -> None:
    """The workspace folders, before their indexes are made: the files in them are judged by
    their folder's rules (ignore files, links that lead away) from the first request on."""
    runtime.workspace.know_folders(roots)


def index_folders(runtime: Runtime, roots: Sequence[Path]) -> list[WorkspaceIndex]:
    """Index these folders and no others (a stored index is loaded); the new indexes, which
    `build_indexes` must bring up to date."""
    return runtime.workspace.set_folders(roots)


def indexes_to_rescan(runtime: Runtime) -> list[WorkspaceIndex]:
    """Every index, when the settings changed which files are read (`exclude`,
    `context.maxFiles`) since the last call; else none."""
    workspace = runtime.workspace
    if not workspace.rescan_wanted:
        return []
    workspace.rescan_wanted = False
    return workspace.indexes


async def build_indexes(
    runtime: Runtime,
    indexes: Iterable[WorkspaceIndex],
    on_progress: Callable[[str, int], None],
) -> list[str]:
    """Bring `indexes` up to date and store them: each folder's files are listed and looked at
    in a worker thread, the changed ones read on the event loop in slices of `SLICE_SECONDS`,
    so requests keep being answered. `on_progress(message, percentage)` follows each folder;
    the result says what each folder's index holds, or why indexing stopped (a broken index
    costs only context: it is logged, never raised)."""
    summaries = []
    try:
        for index in indexes:
            scan = await asyncio.to_thread(index.scan)
            deadline = time.monotonic() + SLICE_SECONDS
            for done, total in index.refresh(scan):
                if time.monotonic() >= deadline:
                    on_progress(f"{index.name}: {done}/{total} files", done * 100 // total)
                    await asyncio.sleep(0)
                    deadline = time.monotonic() + SLICE_SECONDS
            summaries.append(f"{index.name}: {index.summary.describe()}")
            log.info("symbol index of %s: %s", index.root, index.summary.describe())
        await save_indexes(runtime)
    except Exception as exc:  # a broken index must not take completions down with it
        log.exception("indexing failed")
        summaries.append(f"indexing stopped: {exc}")
    return summaries


async def save_indexes(runtime: Runtime) -> None:
    """Store the indexes that changed; the JSON is written in a worker thread, not between
    keystrokes."""
    for snapshot in runtime.workspace.snapshots():
        await asyncio.to_thread(snapshot.write)


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
