"""The workspace symbol index, driven by the editor: built in the background after
`initialized`, kept fresh on document and file events.

The engine owns the indexes and what each event changes in them (`engine/indexing.py`); this
module turns editor events into those calls and keeps the timers. The build uses the
folder's stored index at once, then lists, compares and reads the files in worker processes,
so completions keep answering while it runs, with `$/progress` ("files done of files found")
when the client takes it; when the limits (`context.maxFiles`, `context.indexTimeLimit`)
leave files out, a message says so once. didChange records the
edited place at once and re-indexes the document's text when typing pauses; didSave and
watched-file events re-read files from disk (a new file only if `.gitignore` and `exclude`
admit it: one changed file is one file read); workspace folder changes add or drop indexes.
Every change is committed to the index's database as it is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import to_fs_path

from qwen_lsp.context.index import WorkspaceIndex
from qwen_lsp.context.languages import known_extensions
from qwen_lsp.engine import (
    build_indexes,
    document_closed,
    document_edited,
    document_opened,
    files_changed_on_disk,
    files_saved,
    index_folders,
    indexes_to_rescan,
    know_folders,
    start_index_workers,
    typing_paused,
)
from qwen_lsp.lsp.progress import work_done
from qwen_lsp.lsp.server import QwenLanguageServer

log = logging.getLogger(__name__)

TITLE = "qwen-lsp: indexing the workspace"
REINDEX_DELAY = 1.0  # seconds after the last keystroke in a document
WATCHER_ID = "qwen-lsp-source-files"


@dataclass
class IndexingSession:
    """Per server: the running build, and the timers of pending work."""

    build: asyncio.Task[None] | None = None
    reindex: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    workers: Any = None  # the first build's worker processes, started with the server
    listed_ahead: dict[str, Any] = field(default_factory=dict)  # folder -> its listing's future


# -- the build ----------------------------------------------------------------------------


def adopt_workers(ls: QwenLanguageServer, workers: Any, listed_ahead: Mapping[str, Any]) -> None:
    """Worker processes started with the server process, for its first build (their start
    overlaps the server's: loading pygls takes most of a second), and the listing of the
    workspace folder one of them began then."""
    state = ls.state(IndexingSession)
    state.workers = workers
    state.listed_ahead = dict(listed_ahead)


def _know_folders(ls: QwenLanguageServer, params: types.InitializeParams) -> None:
    """At initialize: files are judged by their folder's rules before the index is built,
    and the first build's worker processes are started, unless they were (they start
    while the editor sends its settings), or stopped when there is nothing to index."""
    state = ls.state(IndexingSession)
    if ls.runtime is not None:
        know_folders(ls.runtime, ls.roots)
    if ls.runtime is None or not ls.roots:
        if state.workers is not None:
            state.workers.shutdown(wait=False)
            state.workers = None
    elif state.workers is None:
        state.workers = start_index_workers(at_start=True)


def start(ls: QwenLanguageServer) -> None:
    """Index the workspace folders in the background (once `initialized` is in and the
    editor's settings are read)."""
    if ls.runtime is None:
        return
    indexes = index_folders(ls.runtime, ls.roots)
    state = ls.state(IndexingSession)
    if not indexes and state.workers is not None:
        state.workers.shutdown(wait=False)  # nothing to build after all
        state.workers = None
    _build_in_background(ls, indexes)
    _watch_source_files(ls)


def _build_in_background(ls: QwenLanguageServer, indexes: list[WorkspaceIndex]) -> None:
    if not indexes:
        return
    state = ls.state(IndexingSession)
    previous = state.build

    async def run() -> None:
        if previous is not None and not previous.done():
            with contextlib.suppress(asyncio.CancelledError):
                await previous  # one build at a time: they share the indexes
        workers, state.workers = state.workers, None
        ahead, state.listed_ahead = state.listed_ahead, {}
        await build(ls, indexes, workers, ahead)

    state.build = asyncio.get_running_loop().create_task(run())


async def build(
    ls: QwenLanguageServer,
    indexes: list[WorkspaceIndex],
    workers: Any = None,
    listed_ahead: Mapping[str, Any] | None = None,
) -> None:
    """Refresh `indexes` under `$/progress`, which ends saying what each index holds."""
    if ls.runtime is None:
        return
    async with work_done(ls, TITLE, percentage=0) as progress:
        summaries = await build_indexes(
            ls.runtime,
            indexes,
            progress.report,
            lambda text: _tell(ls, text),
            workers,
            listed_ahead,
        )
        progress.end_message = "; ".join(summaries)


def _tell(ls: QwenLanguageServer, text: str) -> None:
    """What the limits left out of an index (once per folder and session)."""
    log.info("%s", text)
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=text))


# -- keeping it fresh ---------------------------------------------------------------------


def _path_of(ls: QwenLanguageServer, uri: str) -> Path | None:
    doc = ls.documents.get(uri)
    if doc is not None:
        return doc.path
    fs_path = to_fs_path(uri)
    return Path(fs_path) if fs_path else None


def _changed(ls: QwenLanguageServer) -> None:
    """The indexes changed: list the files again if the settings now read others."""
    if ls.runtime is not None:
        _build_in_background(ls, indexes_to_rescan(ls.runtime))


def _cancel_reindex(ls: QwenLanguageServer, uri: str) -> None:
    if (pending := ls.state(IndexingSession).reindex.pop(uri, None)) is not None:
        pending.cancel()


def did_open(ls: QwenLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = ls.documents.get(params.text_document.uri)
    if doc is not None and doc.path is not None and ls.runtime is not None:
        document_opened(ls.runtime, doc.path, doc.source)


def did_change(ls: QwenLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    doc, runtime = ls.documents.get(uri), ls.runtime
    if doc is None or doc.path is None or runtime is None:
        return
    path = doc.path
    lines = [
        change.range.start.line
        for change in params.content_changes
        if isinstance(change, types.TextDocumentContentChangePartial)
    ]
    document_edited(runtime, path, lines)
    _cancel_reindex(ls, uri)
    state = ls.state(IndexingSession)

    def reindex() -> None:
        state.reindex.pop(uri, None)
        typing_paused(runtime, path)
        _changed(ls)

    state.reindex[uri] = asyncio.get_running_loop().call_later(REINDEX_DELAY, reindex)


def did_save(ls: QwenLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    _cancel_reindex(ls, uri)
    path = _path_of(ls, uri)
    if path is not None and ls.runtime is not None:
        files_saved(ls.runtime, path)
        _changed(ls)


def did_close(ls: QwenLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    _cancel_reindex(ls, uri)
    fs_path = to_fs_path(uri)
    if fs_path and ls.runtime is not None:
        document_closed(ls.runtime, Path(fs_path))


def did_change_watched_files(
    ls: QwenLanguageServer, params: types.DidChangeWatchedFilesParams
) -> None:
    if ls.runtime is None:
        return
    changed, deleted = [], []
    for change in params.changes:
        if not (fs_path := to_fs_path(change.uri)):
            continue
        if change.type == types.FileChangeType.Deleted:
            deleted.append(Path(fs_path))
        else:
            changed.append(Path(fs_path))
    if rebuild := files_changed_on_disk(ls.runtime, changed, deleted):
        _build_in_background(ls, rebuild)  # a checkout, a build: list everything again
        return
    _changed(ls)


def did_change_workspace_folders(
    ls: QwenLanguageServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    removed = {Path(p) for f in params.event.removed if (p := to_fs_path(f.uri))}
    added = [Path(p) for f in params.event.added if (p := to_fs_path(f.uri))]
    ls.roots = [root for root in ls.roots if root not in removed] + added
    if ls.runtime is not None:
        _build_in_background(ls, index_folders(ls.runtime, ls.roots))


def _watch_source_files(ls: QwenLanguageServer) -> None:
    """Ask the client to report changes to source files made outside the editor."""
    workspace_caps = ls.client_capabilities.workspace
    watched = workspace_caps.did_change_watched_files if workspace_caps is not None else None
    if watched is None or not watched.dynamic_registration:
        return
    extensions = ",".join(sorted(e.lstrip(".") for e in known_extensions()))
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=f"**/*.{{{extensions}}}")]
    )
    registration = types.Registration(
        id=WATCHER_ID, method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options
    )

    async def register() -> None:
        try:
            await ls.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )
        except Exception as exc:  # without it, saves and restarts still catch changes
            log.info("the client would not watch files: %s", exc)

    asyncio.get_running_loop().create_task(register())


def register(server: QwenLanguageServer) -> None:
    server.add_state(IndexingSession())
    server.on_initialize.append(_know_folders)
    server.on_initialized.append(start)
    server.listen(types.TEXT_DOCUMENT_DID_OPEN, lambda params: did_open(server, params))
    server.listen(types.TEXT_DOCUMENT_DID_CHANGE, lambda params: did_change(server, params))
    server.listen(types.TEXT_DOCUMENT_DID_SAVE, lambda params: did_save(server, params))
    server.listen(types.TEXT_DOCUMENT_DID_CLOSE, lambda params: did_close(server, params))
    server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(did_change_watched_files)
    server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(did_change_workspace_folders)
