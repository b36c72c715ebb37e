"""The workspace symbol index, driven by the editor: built in the background after
`initialized`, kept fresh on document and file events.

The engine's `Workspace` (Runtime.workspace) owns the indexes; this module only tells it what
happened. The build loads each folder's stored index, lists and stats the files in a worker
thread, then reads the changed ones on the event loop in short slices, so completions keep
answering while it runs, with `$/progress` when the client takes it. didChange records the
edited place at once and re-indexes the document's text when typing pauses; didSave and
watched-file events re-read files from disk (a new file only if `.gitignore` and `exclude`
admit it); workspace folder changes add or drop indexes. The index is written to disk after
the build, at most every `SAVE_DELAY` seconds while it changes, and at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from qwen_lsp.context.index import WorkspaceIndex
from qwen_lsp.context.languages import known_extensions
from qwen_lsp.engine import Workspace
from qwen_lsp.lsp.server import QwenLanguageServer

log = logging.getLogger(__name__)

REINDEX_DELAY = 1.0  # seconds after the last keystroke in a document
SLICE_SECONDS = 0.02  # the build yields to requests this often
SAVE_DELAY = 30.0
MAX_FILE_EVENTS = 20  # more file events at once are a checkout or a build: a full refresh
WATCHER_ID = "qwen-lsp-source-files"


@dataclass
class IndexingSession:
    """Per server: the running build, and the timers of pending work."""

    build: asyncio.Task[None] | None = None
    reindex: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    save: asyncio.TimerHandle | None = None


_sessions: weakref.WeakKeyDictionary[QwenLanguageServer, IndexingSession] = (
    weakref.WeakKeyDictionary()
)


def session(ls: QwenLanguageServer) -> IndexingSession:
    return _sessions.setdefault(ls, IndexingSession())


def _workspace(ls: QwenLanguageServer) -> Workspace | None:
    return ls.runtime.workspace if ls.runtime is not None else None


# -- the build ----------------------------------------------------------------------------


def start(ls: QwenLanguageServer) -> None:
    """Index the workspace folders in the background (called once `initialized` is in)."""
    workspace = _workspace(ls)
    if workspace is None:
        return
    created = workspace.set_folders(ls.roots)
    _build_in_background(ls, created)
    _watch_source_files(ls)


def _build_in_background(ls: QwenLanguageServer, indexes: list[WorkspaceIndex]) -> None:
    if not indexes:
        return
    state = session(ls)
    previous = state.build

    async def run() -> None:
        if previous is not None and not previous.done():
            with contextlib.suppress(asyncio.CancelledError):
                await previous  # one build at a time: they share the indexes
        await build(ls, indexes)

    state.build = asyncio.get_running_loop().create_task(run())


async def build(ls: QwenLanguageServer, indexes: list[WorkspaceIndex]) -> None:
    """Refresh `indexes`, reporting progress; a failure is logged and costs only context."""
    progress = await _Progress.begin(ls, "qwen-lsp: indexing the workspace")
    summaries = []
    try:
        for index in indexes:
            scan = await asyncio.to_thread(index.scan)
            deadline = time.monotonic() + SLICE_SECONDS
            for done, total in index.refresh(scan):
                if time.monotonic() >= deadline:
                    progress.report(f"{index.name}: {done}/{total} files", done * 100 // total)
                    await asyncio.sleep(0)
                    deadline = time.monotonic() + SLICE_SECONDS
            summaries.append(f"{index.name}: {index.summary.describe()}")
            log.info("symbol index of %s: %s", index.root, index.summary.describe())
        await save(ls)
    except Exception as exc:  # a broken index must not take completions down with it
        log.exception("indexing failed")
        summaries.append(f"indexing stopped: {exc}")
    finally:
        progress.end("; ".join(summaries))


class _Progress:
    """$/progress for one piece of work, or nothing when the client does not take it."""

    def __init__(self, ls: QwenLanguageServer, token: str | None) -> None:
        self.ls = ls
        self.token = token

    @classmethod
    async def begin(cls, ls: QwenLanguageServer, title: str) -> _Progress:
        window = ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return cls(ls, None)
        token = f"qwen-lsp-index-{uuid.uuid4()}"
        try:
            await ls.work_done_progress.create_async(token)
        except Exception as exc:  # a client that refuses: index without telling it
            log.debug("window/workDoneProgress/create failed: %s", exc)
            return cls(ls, None)
        ls.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=title, percentage=0, cancellable=False)
        )
        return cls(ls, token)

    def report(self, message: str, percentage: int) -> None:
        if self.token is not None:
            self.ls.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    def end(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))


# -- keeping it fresh ---------------------------------------------------------------------


def _path_of(ls: QwenLanguageServer, uri: str) -> Path | None:
    doc = ls.documents.get(uri)
    if doc is not None:
        return doc.path
    fs_path = to_fs_path(uri)
    return Path(fs_path) if fs_path else None


async def save(ls: QwenLanguageServer) -> None:
    """Store the indexes that changed; JSON is written in a worker thread, not between
    keystrokes."""
    workspace = _workspace(ls)
    for snapshot in workspace.snapshots() if workspace is not None else []:
        await asyncio.to_thread(snapshot.write)


def _schedule_save(ls: QwenLanguageServer) -> None:
    state = session(ls)
    if state.save is None:

        def start_saving() -> None:
            state.save = None
            asyncio.get_running_loop().create_task(save(ls))

        state.save = asyncio.get_running_loop().call_later(SAVE_DELAY, start_saving)


def _rescan_if_wanted(ls: QwenLanguageServer) -> None:
    """Settings changed which files are read (`exclude`, `context.maxFiles`): list again."""
    workspace = _workspace(ls)
    if workspace is not None and workspace.rescan_wanted:
        workspace.rescan_wanted = False
        _build_in_background(ls, workspace.indexes)


def did_open(ls: QwenLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    doc = ls.documents.get(params.text_document.uri)
    workspace = _workspace(ls)
    if doc is not None and doc.path is not None and workspace is not None:
        workspace.opened(doc.path, doc.source)


def did_change(ls: QwenLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    doc = ls.documents.get(uri)
    workspace = _workspace(ls)
    if doc is None or doc.path is None or workspace is None:
        return
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            workspace.edited(doc.path, change.range.start.line)
    state = session(ls)
    if (pending := state.reindex.pop(uri, None)) is not None:
        pending.cancel()
    path = doc.path

    def reindex() -> None:
        state.reindex.pop(uri, None)
        workspace.reindex_open(path)
        _schedule_save(ls)
        _rescan_if_wanted(ls)

    state.reindex[uri] = asyncio.get_running_loop().call_later(REINDEX_DELAY, reindex)


def did_save(ls: QwenLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if (pending := session(ls).reindex.pop(uri, None)) is not None:
        pending.cancel()
    path = _path_of(ls, uri)
    workspace = _workspace(ls)
    if path is not None and workspace is not None:
        workspace.reindex_from_disk(path)
        _schedule_save(ls)
        _rescan_if_wanted(ls)


def did_close(ls: QwenLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    if (pending := session(ls).reindex.pop(uri, None)) is not None:
        pending.cancel()
    fs_path = to_fs_path(uri)
    workspace = _workspace(ls)
    if fs_path and workspace is not None:
        workspace.closed(Path(fs_path))


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
    server.listen(types.TEXT_DOCUMENT_DID_OPEN, lambda params: did_open(server, params))
    server.listen(types.TEXT_DOCUMENT_DID_CHANGE, lambda params: did_change(server, params))
    server.listen(types.TEXT_DOCUMENT_DID_SAVE, lambda params: did_save(server, params))
    server.listen(types.TEXT_DOCUMENT_DID_CLOSE, lambda params: did_close(server, params))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: QwenLanguageServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        workspace = _workspace(ls)
        if workspace is None:
            return
        if len(params.changes) > MAX_FILE_EVENTS:  # a checkout, a build: list everything again
            _build_in_background(ls, workspace.indexes)
            return
        changed = []
        for change in params.changes:
            if not (fs_path := to_fs_path(change.uri)):
                continue
            if change.type == types.FileChangeType.Deleted:
                workspace.forget(Path(fs_path))
            else:
                changed.append(Path(fs_path))
        workspace.reindex_from_disk(*changed)
        _schedule_save(ls)
        _rescan_if_wanted(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(
        ls: QwenLanguageServer, params: types.DidChangeWorkspaceFoldersParams
    ) -> None:
        removed = {Path(p) for f in params.event.removed if (p := to_fs_path(f.uri))}
        added = [Path(p) for f in params.event.added if (p := to_fs_path(f.uri))]
        ls.roots = [root for root in ls.roots if root not in removed] + added
        workspace = _workspace(ls)
        if workspace is not None:
            _build_in_background(ls, workspace.set_folders(ls.roots))
