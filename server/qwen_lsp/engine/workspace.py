"""The workspace a session works in: one symbol index per folder, the open documents and the
places edited lately, and from them the cross-file context of a completion.

The server and the CLI share it through `Runtime.workspace`: the editor's folders, documents
and file events reach it through `engine/indexing.py`, `qwen-lsp prompt` opens one document
in it. Each folder's files are read through its door (`context/files.py`: git's ignore rules,
`exclude`, secrets, links that lead away); an open document outside what the door admits
contributes nothing to other files' prompts, and `why_not_sent` says when an open document's
own text must not be sent at all (the same rules, on the editor's text: completion, code
actions and review ask it).
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path, PurePath

from qwen_lsp.config import ContextSettings, Settings
from qwen_lsp.context.extract import CursorContext
from qwen_lsp.context.files import GIT, ReadPolicy, Refusal, WorkspaceFiles, git_command
from qwen_lsp.context.index import IndexPolicy, WorkspaceIndex
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.ranking import assemble
from qwen_lsp.context.similarity import WINDOW_LINES, WindowIndex
from qwen_lsp.context.snippets import (
    EditMark,
    Piece,
    definition_pieces,
    import_pieces,
    recent_edit_pieces,
    references_near,
    scope_pieces,
    similar_pieces,
)
from qwen_lsp.context.tags import has_tags
from qwen_lsp.model import Position
from qwen_lsp.privacy import is_excluded, is_sensitive_path

log = logging.getLogger(__name__)

MAX_RECENT_EDITS = 16
_SAME_EDIT_LINES = 8  # edits this close together are one place
MAX_SIMILAR_DOCUMENTS = 4  # other open documents searched for similar code
_WINDOW_CACHE = 8


# Files inside .git/ that a user writes in an editor (`git commit` opens them): their text is
# the user's own, not the repository's configuration.
_GIT_MESSAGES = frozenset({"COMMIT_EDITMSG", "MERGE_MSG", "TAG_EDITMSG", "EDIT_DESCRIPTION"})


_PROJECT_FILES = (
    ".qwen-lsp.toml",
    "pyproject.toml",
    "setup.py",
    "package.json",
    "tsconfig.json",
    "go.mod",
    "Cargo.toml",
    "pom.xml",
    "build.gradle",
    "CMakeLists.txt",
)


def workspace_folder(path: Path) -> Path:
    """The folder a file outside an editor belongs to (for the CLI): its git work tree, else
    the nearest folder upward with a project file, else its own folder."""
    start = path.parent if path.is_file() else path
    try:
        done = subprocess.run(
            git_command("rev-parse", "--show-toplevel"),
            cwd=start,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if done.returncode == 0 and done.stdout.strip():
            return Path(done.stdout.strip()).resolve()
    except (OSError, subprocess.TimeoutExpired):
        pass
    for folder in (start, *start.parents):
        if any((folder / name).is_file() for name in _PROJECT_FILES):
            return folder.resolve()
    return start.resolve()


class Workspace:
    """Symbol indexes, open documents and recent edits of one session."""

    def __init__(self, store_dir: Path | None) -> None:
        self._store_dir = store_dir
        self._indexes: dict[Path, WorkspaceIndex] = {}
        self._policy = IndexPolicy()
        self._read_policy = ReadPolicy()
        self._send_ignored = False  # privacy.sendIgnoredFiles
        self._doors: dict[Path, WorkspaceFiles] = {}  # folders without an index (yet)
        self._folders: list[Path] = []  # the workspace folders, indexed or not yet
        self._documents: dict[Path, SourceDocument] = {}
        self._paths: dict[int, Path] = {}  # id(document) -> its path, for documents open here
        self._located: dict[Path, tuple[WorkspaceIndex, str] | None] = {}  # open documents
        self._recent: list[tuple[Path, int]] = []  # most recent first
        self._windows: OrderedDict[Path, tuple[str, WindowIndex]] = OrderedDict()
        self.rescan_wanted = False  # settings now admit files no index has read yet

    # -- folders and settings ------------------------------------------------------------

    def configure(self, settings: Settings) -> None:
        """Apply the settings that decide which files are read: `exclude`, `maxFileSize`,
        `context.maxFiles`, `privacy.sendIgnoredFiles`. Files now excluded leave the indexes
        at once (links to them at the rescan the change asks for)."""
        read_policy = ReadPolicy(tuple(settings.exclude), settings.max_file_size)
        policy = IndexPolicy(
            max_files=settings.context.max_files,
            max_file_bytes=settings.context.max_index_file_size,
            time_limit=settings.context.index_time_limit,
        )
        changed = (read_policy, policy) != (self._read_policy, self._policy)
        self.rescan_wanted = self.rescan_wanted or (changed and bool(self._indexes))
        self._read_policy = read_policy
        self._policy = policy
        self._send_ignored = settings.privacy.send_ignored_files
        for door in self._doors.values():
            door.policy = read_policy
        for index in self._indexes.values():
            index.policy = policy
            index.files.policy = read_policy
            for path in index.paths():
                if is_excluded(path, read_policy.exclude):
                    index.remove(path)

    def set_folders(self, roots: Sequence[Path]) -> list[WorkspaceIndex]:
        """Keep an index per folder (a stored one is loaded); the new ones are returned, to be
        refreshed by the caller."""
        wanted = [root.resolve() for root in roots]
        self._folders = wanted
        for root in list(self._indexes):
            if root not in wanted:
                self._indexes.pop(root).close()
        created = []
        for root in wanted:
            if root in self._indexes:
                continue
            index = WorkspaceIndex(
                root,
                store_dir=self._store_dir,
                files=self._doors.pop(root, None) or WorkspaceFiles(root, self._read_policy),
                policy=self._policy,
            )
            index.load()
            self._indexes[root] = index
            created.append(index)
        self._located = {path: self.locate(path) for path in self._documents}
        return created

    @property
    def indexes(self) -> list[WorkspaceIndex]:
        return list(self._indexes.values())

    def locate(self, path: Path) -> tuple[WorkspaceIndex, str] | None:
        """The index of the folder holding `path` (the innermost), and the path within it."""
        best: tuple[WorkspaceIndex, str] | None = None
        for root, index in self._indexes.items():
            try:
                relative = path.relative_to(root).as_posix()
            except ValueError:
                continue
            if best is None or len(relative) < len(best[1]):
                best = (index, relative)
        return best

    def know_folders(self, roots: Sequence[Path]) -> None:
        """The workspace folders, before their indexes are made: files in them are judged by
        their rules (ignore files, links) from the first request on."""
        self._folders = [root.resolve() for root in roots]

    def files(self, root: Path) -> WorkspaceFiles:
        """The door of the folder `root` (its index's, when it has one)."""
        return self._door(root.resolve())

    def _door(self, root: Path) -> WorkspaceFiles:
        index = self._indexes.get(root)
        if index is not None:
            return index.files
        door = self._doors.get(root)
        if door is None:
            door = self._doors[root] = WorkspaceFiles(root, self._read_policy)
        return door

    def files_of(self, path: Path) -> WorkspaceFiles | None:
        """The door of the innermost workspace folder holding `path` (links not followed)."""
        best: tuple[int, WorkspaceFiles] | None = None
        for root in dict.fromkeys([*self._indexes, *self._folders]):
            door = self._door(root)  # both lists hold resolved folders
            relative = door.relative(path)
            if relative is not None and (best is None or len(relative) < best[0]):
                best = (len(relative), door)
        return best[1] if best is not None else None

    def read_file(self, path: Path, root: Path | None = None) -> str | Refusal:
        """A file's text through the door of the workspace folder holding it (else of
        `root`, else of its own folder), or why it may not be read."""
        door = self.files_of(path) or self.files(root or path.parent)
        return door.read(path, ignored_ok=self._send_ignored)

    def why_not_sent(self, file: Path | None, shown: str) -> str | None:
        """Why the text of a document must not go into any prompt, or None: its name (`shown`,
        as the model would see it) holds secrets or matches `exclude`; or, for a file on disk,
        what its folder's door refuses (links leading away, .git/, ignore rules unless
        `privacy.sendIgnoredFiles`), even when the text comes from the editor."""
        if is_sensitive_path(shown):
            return f"{shown} may hold secrets; its text is never sent"
        if is_excluded(shown, self._read_policy.exclude):
            return f"{shown} matches the exclude setting"
        if file is None or not file.is_absolute():
            return None
        door = self.files_of(file)
        if door is None:  # outside every workspace folder: where its links lead still counts
            real = PurePath(os.path.realpath(file))
            in_git = any(part.lower() == ".git" for part in real.parts[:-1])
            if is_sensitive_path(str(real)) or (in_git and real.name not in _GIT_MESSAGES):
                return f"{shown} is {real}, which is never sent"
            return None
        refusal = door.check(file, ignored_ok=self._send_ignored)
        if refusal is None:
            return None
        if refusal.kind == GIT and not refusal.through_link and file.name in _GIT_MESSAGES:
            return None
        return f"{shown}: {refusal.reason}"

    def save(self) -> None:
        """Store every index that changed (at shutdown, after a CLI run)."""
        for index in self._indexes.values():
            index.save()

    # -- documents and file events ---------------------------------------------------------

    def opened(self, path: Path, document: SourceDocument) -> None:
        path = path.resolve()
        self._documents[path] = document
        self._paths[id(document)] = path
        self._located[path] = self.locate(path)

    def closed(self, path: Path) -> None:
        path = path.resolve()
        document = self._documents.pop(path, None)
        if document is not None:
            self._paths.pop(id(document), None)
        self._located.pop(path, None)
        self._windows.pop(path, None)
        self.reindex_from_disk(path)  # drop what was typed and not saved

    def edited(self, path: Path, line: int) -> None:
        """The user changed `path` at `line`: a recent-edit place for other files' prompts."""
        path = path.resolve()
        for i, (other, other_line) in enumerate(self._recent):
            if other == path and abs(other_line - line) <= _SAME_EDIT_LINES:
                del self._recent[i]
                break
        self._recent.insert(0, (path, line))
        del self._recent[MAX_RECENT_EDITS:]

    def reindex_open(self, path: Path) -> None:
        """Index the editor's text of an open document (its unsaved state)."""
        path = path.resolve()
        document = self._documents.get(path)
        located = self.locate(path)
        if document is None or located is None:
            return
        index, relative = located
        index.update_text(relative, document.text)

    def reindex_from_disk(self, *paths: Path) -> None:
        """Files were saved, created or changed on disk."""
        by_index: dict[int, tuple[WorkspaceIndex, list[str]]] = {}
        if any(path.name == ".gitignore" for path in paths):
            for index in self._indexes.values():
                index.files.forget_ignore_decisions()
        for path in paths:
            located = self.locate(path.resolve())
            if located is not None:
                by_index.setdefault(id(located[0]), (located[0], []))[1].append(located[1])
        for index, relatives in by_index.values():
            index.update_from_disk(*relatives)

    def forget(self, path: Path) -> None:
        """A file was deleted."""
        located = self.locate(path.resolve())
        if located is not None:
            located[0].remove(located[1])

    # -- the completion context --------------------------------------------------------------

    def cursor_context(
        self,
        document: SourceDocument,
        position: Position,
        *,
        path: str,
        settings: ContextSettings,
    ) -> CursorContext:
        """The prefix, suffix and related code for a completion at `position`, within
        `settings.max_tokens`; the window alone outside the workspace or without queries."""
        located = self._locate_document(document)
        if located is None or not settings.cross_file or not has_tags(document.language):
            return assemble(
                document,
                position,
                path=path,
                max_tokens=settings.max_tokens,
                gather=None,
                repo_name=None,
            )
        index, relative = located

        def gather(cursor: int) -> list[Piece]:
            return self._gather(index, relative, document, cursor)

        return assemble(
            document,
            position,
            path=relative,
            max_tokens=settings.max_tokens,
            gather=gather,
            repo_name=index.name,
        )

    def _locate_document(self, document: SourceDocument) -> tuple[WorkspaceIndex, str] | None:
        path = self._paths.get(id(document))
        return self._located.get(path) if path is not None else None

    def _gather(
        self, index: WorkspaceIndex, path: str, document: SourceDocument, cursor: int
    ) -> list[Piece]:
        text = document.text
        pieces = definition_pieces(index, path, references_near(text, cursor), document, cursor)
        pieces += import_pieces(index, path)
        pieces += scope_pieces(document, cursor, path)
        documents = self._readable_documents(index)
        marks = [EditMark(rel, line) for p, line in self._recent if (rel := documents.get(p))]
        by_relative = {rel: self._documents[p] for p, rel in documents.items()}
        pieces += recent_edit_pieces(marks, by_relative)
        line = document.line_at(cursor)
        query = text[document.line_start(max(line - WINDOW_LINES + 1, 0)) : cursor]
        others = [
            (rel, self._windows_of(p))
            for p, rel in list(documents.items())[: MAX_SIMILAR_DOCUMENTS + 1]
            if rel != path
        ][:MAX_SIMILAR_DOCUMENTS]
        pieces += similar_pieces(query, others)
        return pieces

    def _readable_documents(self, index: WorkspaceIndex) -> dict[Path, str]:
        """Open documents of `index`'s folder that the index admits, most recently edited
        first: path -> path within the folder."""
        recent = [p for p, _ in self._recent]
        ordered = list(dict.fromkeys([*recent, *self._documents]))
        out: dict[Path, str] = {}
        for path in ordered:
            located = self._located.get(path)
            if located is not None and located[0] is index and index.entry(located[1]):
                out[path] = located[1]
        return out

    def _windows_of(self, path: Path) -> WindowIndex:
        text = self._documents[path].text
        cached = self._windows.get(path)
        if cached is not None and cached[0] is text:
            self._windows.move_to_end(path)
            return cached[1]
        windows = WindowIndex(text)
        self._windows[path] = (text, windows)
        while len(self._windows) > _WINDOW_CACHE:
            self._windows.popitem(last=False)
        return windows


def relative_path(path: Path | None, roots: list[Path]) -> str:
    """The path shown to the model: relative to its workspace folder, else the file name (for
    a document without a file, the path or name its URI gives it: `Untitled-1`)."""
    if path is None:
        return ""
    for root in roots:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.name
