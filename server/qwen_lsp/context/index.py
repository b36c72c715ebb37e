"""The workspace symbol index: every definition of a workspace folder's source files, by name,
with each file's imports, kept on disk in SQLite and queried for what a prompt needs.

`WorkspaceIndex` owns one folder's index: the files it holds (path, size, mtime, content
hash, definitions, imports), their resolution against each other (`scope`), and keeping them
current. The data lives in the folder's database (`index_store.py`), never in memory whole,
so the server's memory does not grow with the repository. Files are listed and read only
through the folder's door (`context/files.py`: `.gitignore`, `exclude`, secrets, links that
lead away, size, binary), by the functions of `index_worker.py`, which the server runs in
worker processes while it builds (`engine/indexing.py`) and this class runs in-process for
the CLI and one-file updates. Freshness is by stat: a refresh lists the files, re-reads only
those whose size or mtime changed and re-parses only those whose content hash changed, so a
restart costs a listing and a stat per file. Stored texts hold no secret (elided by the
worker). Entries can also be refreshed from an editor's unsaved text; those carry no stat,
so the next refresh checks them against the disk again.

The query API, what the context engine (`snippets.py`, import resolution) calls; each answer
is read from the database at the time of the call:

- `lookup(name)` -> [(file, Definition)]: every definition named `name` (at most
  `LOOKUP_LIMIT`; with `near`, the ones in the folders nearest that file are kept).
- `definitions_in(path, name)`, `definitions_of(path)` -> [Definition] of one file.
- `entry(path)` -> FileEntry (language, stat, definitions, imports) or None; `paths()`.
- `scope(path)` -> ImportScope: what the file's imports bring in (names -> (file, name),
  modules -> files, files seen unqualified), resolved against the folder's files (cached
  until the index changes).
- `exported(path, name)`: what importing `name` from `path` gives, following re-exports.
- `FileLookup` for import resolution: `has`, `files_in`, `ending_with`,
  `folders_ending_with`, `go_modules`.
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qwen_lsp.context.files import ReadPolicy, WorkspaceFiles, is_indexable_name
from qwen_lsp.context.imports import WILDCARD, ImportRef, TsPaths, implicit_files, resolve
from qwen_lsp.context.index_store import STORE_FORMAT, IndexStore, Record, StoredFile
from qwen_lsp.context.index_worker import (
    FolderJob,
    ScanResult,
    parse,
    read_file,
    scan_folder,
    stale_files,
)
from qwen_lsp.context.tags import Definition, queries_version

log = logging.getLogger(__name__)

__all__ = [
    "LOOKUP_LIMIT",
    "STORE_FORMAT",
    "FileEntry",
    "ImportScope",
    "IndexPolicy",
    "RefreshSummary",
    "WorkspaceIndex",
]

LOOKUP_LIMIT = 200  # definitions of one name a lookup returns (`get` in a monorepo: 10,000s)
_REEXPORT_DEPTH = 3  # `from .core import X` in __init__.py, `export * from "./x"`: followed
_SCOPES = 64  # import scopes kept resolved
_BATCH = 64  # files read in-process between two commits
_MEMO = 4096  # definitions looked up by file and name, kept while the index is unchanged


class FileEntry:
    """What the index knows of one file; its definitions and imports are read from the
    store when first asked for (most callers want its language only)."""

    __slots__ = ("_definitions", "_imports", "_store", "digest", "language", "mtime_ns", "path")
    __slots__ += ("size", "skipped")

    def __init__(self, store: IndexStore, stored: StoredFile) -> None:
        self._store = store
        self.path = stored.path  # relative to the folder, forward slashes
        self.language = stored.language  # "" for a file skipped (large, binary, generated)
        self.size = stored.size
        self.mtime_ns = stored.mtime_ns  # -1: taken from an editor's text
        self.digest = stored.digest
        self.skipped = stored.skipped  # why the file is not indexed
        self._definitions: tuple[Definition, ...] | None = None
        self._imports: tuple[ImportRef, ...] | None = None

    @property
    def definitions(self) -> tuple[Definition, ...]:
        if self._definitions is None:
            self._definitions = tuple(self._store.definitions_of(self.path))
        return self._definitions

    @property
    def imports(self) -> tuple[ImportRef, ...]:
        if self._imports is None:
            self._imports = self._store.imports(self.path)
        return self._imports


@dataclass(frozen=True)
class IndexPolicy:
    """How much of a folder the index takes (which files, the folder's door decides)."""

    max_files: int = 20_000
    max_file_bytes: int = 512_000  # larger files are skipped as "large"
    time_limit: float = 600.0  # seconds one build may read files; the rest waits


@dataclass
class RefreshSummary:
    files: int = 0
    parsed: int = 0
    reused: int = 0  # unchanged since the stored index
    removed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    left_out: int = 0  # over `max_files`
    timed_out: int = 0  # not read within `time_limit`

    def describe(self) -> str:
        parts = [f"{self.files} files", f"{self.parsed} read", f"{self.reused} unchanged"]
        parts.extend(f"{count} {reason} skipped" for reason, count in sorted(self.skipped.items()))
        if self.left_out:
            parts.append(f"{self.left_out} over context.maxFiles left out")
        if self.timed_out:
            parts.append(f"{self.timed_out} not read within context.indexTimeLimit")
        return ", ".join(parts)

    def count(self, record: Record) -> None:
        self.count_outcome(record.outcome)

    def count_outcome(self, outcome: str) -> None:
        if outcome == "parsed":
            self.parsed += 1
        elif outcome == "unchanged":
            self.reused += 1
        elif outcome:
            self.skipped[outcome] = self.skipped.get(outcome, 0) + 1


@dataclass
class ImportScope:
    """What one file's imports bring into it."""

    names: dict[str, list[tuple[str, str]]]  # local name -> [(file, name there)]
    modules: dict[str, list[str]]  # local module name -> its files
    open_files: tuple[str, ...]  # files whose names are visible unqualified (wildcards, ...)
    files: frozenset[str]  # every file reached


class WorkspaceIndex:
    """The symbol index of one workspace folder."""

    def __init__(
        self,
        root: Path,
        *,
        store_dir: Path | None,
        files: WorkspaceFiles | None = None,
        policy: IndexPolicy | None = None,
    ) -> None:
        self.root = root
        self.name = root.name or "workspace"
        self.policy = policy or IndexPolicy()
        self.files = files or WorkspaceFiles(root)  # the one way in to the folder's files
        self.store = IndexStore(store_dir, root, queries_version())
        self._scopes: OrderedDict[str, tuple[int, ImportScope]] = OrderedDict()
        self._memo: dict[tuple[str, str], list[Definition]] = {}
        self._memo_generation = -1
        # what tsconfig.json/jsconfig.json files say of import paths, by folder (from each scan)
        self._ts_paths: dict[str, TsPaths] = {}
        self.ready = False  # a refresh has completed (or a stored index was found)
        self.summary = RefreshSummary()
        self.limits_told = False  # what the limits left out was said to the user

    # -- reading the index ----------------------------------------------------------------

    def __len__(self) -> int:
        return self.store.count()

    def entry(self, path: str) -> FileEntry | None:
        stored = self.store.file(path)
        if stored is None or not stored.language:
            return None
        return FileEntry(self.store, stored)

    def paths(self) -> list[str]:
        return self.store.paths()

    def lookup(self, name: str, near: str = "") -> list[tuple[str, Definition]]:
        """Every (file, definition) named `name`, at most `LOOKUP_LIMIT`: the first ones
        indexed, or with `near` (a file), those in the folders nearest it."""
        found = self.store.named(name, LOOKUP_LIMIT + 1)
        if len(found) <= LOOKUP_LIMIT:
            return found
        if not near:
            return found[:LOOKUP_LIMIT]
        here = near.split("/")

        def shared(item: tuple[int, str]) -> int:
            count = 0
            for a, b in zip(here, item[1].split("/"), strict=False):
                if a != b:
                    break
                count += 1
            return -count

        ranked = sorted(self.store.files_named(name), key=shared)[:LOOKUP_LIMIT]
        return self.store.definitions_at(sorted(rowid for rowid, _ in ranked))

    def definitions_in(self, path: str, name: str) -> list[Definition]:
        # asked again and again while one prompt is built (re-exports, members): kept until
        # the index changes
        if self._memo_generation != self.store.generation or len(self._memo) > _MEMO:
            self._memo.clear()
            self._memo_generation = self.store.generation
        key = (path, name)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self.store.definitions_named(path, name)
        return list(found)

    def definitions_of(self, path: str) -> list[Definition]:
        return self.store.definitions_of(path)

    def exported(self, path: str, name: str, depth: int = 0) -> list[tuple[str, Definition]]:
        """Definitions of `name` that importing it from `path` gives, following re-exports
        (`from .core import X` in a package's __init__.py, `export * from "./x"`). Top-level
        ones first; else members (Java's `import static a.B.MEMBER`)."""
        defined = self.definitions_in(path, name)
        found = [(path, d) for d in defined if not d.scope] or [(path, d) for d in defined]
        if found or depth >= _REEXPORT_DEPTH:
            return found
        scope = self.scope(path)
        if scope is None:
            return []
        for origin, original in scope.names.get(name, []):
            found.extend(self.exported(origin, original, depth + 1))
        if not found:
            for other in scope.open_files:
                found.extend(self.exported(other, name, depth + 1))
                if found:
                    break
        return found

    def scope(self, path: str) -> ImportScope | None:
        """What `path`'s imports bring in, resolved against the folder's files (cached until
        the index changes)."""
        generation = self.store.generation
        cached = self._scopes.get(path)
        if cached is not None and cached[0] == generation:
            self._scopes.move_to_end(path)
            return cached[1]
        stored = self.store.file(path)
        if stored is None or not stored.language:
            return None
        scope = self._resolve_scope(path, stored.language, self.store.imports(path))
        self._scopes[path] = (generation, scope)
        while len(self._scopes) > _SCOPES:
            self._scopes.popitem(last=False)
        return scope

    def _resolve_scope(self, path: str, language: str, imports: Sequence[ImportRef]) -> ImportScope:
        names: dict[str, list[tuple[str, str]]] = defaultdict(list)
        modules: dict[str, list[str]] = defaultdict(list)
        open_files: list[str] = []
        reached: set[str] = set()
        for ref in imports:
            for target in resolve(ref, path, language, self):
                if target.path == path:
                    continue
                reached.add(target.path)
                if target.alias:
                    modules[target.alias].append(target.path)
                for name, local in target.names:
                    if name == WILDCARD:
                        open_files.append(target.path)
                    else:
                        names[local].append((target.path, name))
        for other in implicit_files(path, language, self):
            open_files.append(other)
            reached.add(other)
        return ImportScope(
            dict(names), dict(modules), tuple(dict.fromkeys(open_files)), frozenset(reached)
        )

    # -- FileLookup, for import resolution --------------------------------------------------

    def has(self, path: str) -> bool:
        return self.store.has(path)

    def files_in(self, directory: str) -> Sequence[str]:
        return self.store.files_in(directory)

    def ending_with(self, suffix: str) -> Sequence[str]:
        return self.store.ending_with(suffix)

    def folders_ending_with(self, suffix: str) -> Sequence[str]:
        return self.store.folders_ending_with(suffix.strip("/"))

    def go_modules(self) -> dict[str, str]:
        return self.store.go_modules()

    def ts_paths(self, from_path: str) -> TsPaths | None:
        folder = posixpath.dirname(from_path)
        while True:
            found = self._ts_paths.get(folder)
            if found is not None or not folder:
                return found
            folder = posixpath.dirname(folder)

    # -- keeping it current ------------------------------------------------------------------

    def job(self, build: int = 0) -> FolderJob:
        """This folder as a worker process sees it: plain data."""
        policy = self.files.policy
        limit = min(policy.max_file_size, self.policy.max_file_bytes)
        return FolderJob(
            str(self.root),
            ReadPolicy(policy.exclude, limit),
            self.policy.max_files,
            str(self.store.path),
            build,
        )

    def scan(self) -> ScanResult:
        """The folder compared with the stored index, in-process (the server runs
        `index_worker.scan_folder` in a worker instead)."""
        return scan_folder(self.job(), self.store.stored_files(), self.files)

    def begin(self, scan: ScanResult) -> RefreshSummary:
        """Apply what a scan found before any file is read: files gone leave, the go.mod
        modules are kept; the summary the reads add to."""
        summary = RefreshSummary(
            files=scan.found,
            reused=scan.reused,
            removed=len(scan.removed),
            skipped=dict(scan.skipped),
            left_out=scan.left_out,
        )
        if scan.removed:
            self.store.drop(scan.removed)
        self.store.set_go_modules(scan.go_modules)
        if scan.ts_paths != self._ts_paths:
            self._ts_paths = dict(scan.ts_paths)
            self._scopes.clear()  # imports resolve differently now
        return summary

    def commit(self, records: Sequence[Record], summary: RefreshSummary | None = None) -> None:
        """Store what workers read (safe from a worker thread: the store has its own writer)."""
        self.store.put(records)
        if summary is not None:
            for record in records:
                summary.count(record)

    def committed_by_worker(self, outcomes: Sequence[str], summary: RefreshSummary) -> None:
        """A worker committed the records of a batch itself (`read_and_store`)."""
        self.store.written_elsewhere()
        for outcome in outcomes:
            summary.count_outcome(outcome)

    def finish(self, summary: RefreshSummary) -> None:
        self.settle()
        self.summary = summary
        self.ready = True

    def settle(self) -> None:
        """A build ended or stopped: everything its workers committed is seen from now on."""
        self.store.settled()

    def refresh(self, scan: ScanResult | None = None) -> Iterator[tuple[int, int]]:
        """Bring the index up to date with the disk in-process, yielding (done, to do) after
        each file read; each batch is stored as it is read."""
        scan = scan if scan is not None else self.scan()
        summary = self.begin(scan)
        limit = self.policy.max_file_bytes
        deadline = time.monotonic() + self.policy.time_limit
        batch: list[Record] = []
        for done, file in enumerate(stale_files(scan.stale), start=1):
            if time.monotonic() > deadline:
                summary.timed_out = scan.stale_count - done + 1
                break
            batch.append(read_file(self.files, *file, max_bytes=limit))
            if len(batch) >= _BATCH:
                self.commit(batch, summary)
                batch = []
            yield done, scan.stale_count
        if batch:
            self.commit(batch, summary)
        self.finish(summary)

    def update_from_disk(self, *paths: str) -> int:
        """Re-read files saved, created or changed on disk (only these: one file changed is
        one file read); a file that is gone or not indexable is dropped. New files are
        admitted only if the door lists them (.gitignore, `exclude`, links): one listing for
        all of them. Returns how many are indexed."""
        wanted = [
            p
            for p in paths
            if is_indexable_name(p) and self.files.check(p) is None and (self.root / p).is_file()
        ]
        gone = set(paths) - set(wanted)
        if gone:
            self.store.drop(gone)
        known = {p: self.store.file(p) for p in wanted}
        new = [p for p, stored in known.items() if stored is None]
        admitted = set(self.files.list(new)) if new else set()
        records = []
        for path in wanted:
            if path in new and path not in admitted:
                continue  # a new file that .gitignore keeps out
            try:
                stat = (self.root / path).stat()
            except OSError:
                records.append(Record("", path, 0, 0))
                continue
            stored = known[path]
            digest = stored.digest if stored is not None and stored.language else ""
            limit = self.policy.max_file_bytes
            records.append(
                read_file(self.files, path, stat.st_size, stat.st_mtime_ns, digest, max_bytes=limit)
            )
        self.store.put(records)
        return sum(r.outcome in ("parsed", "unchanged") for r in records)

    def update_text(self, path: str, text: str) -> None:
        """Index an editor's current text of a file that belongs to the folder."""
        stored = self.store.file(path)
        if stored is None or not stored.language:
            return  # not one of the folder's indexable files (ignored, excluded, skipped)
        data = text.encode("utf-8", "surrogatepass")
        self.store.put([parse(path, data, size=-1, mtime_ns=-1)])

    def remove(self, path: str) -> None:
        self.store.drop([path])

    # -- the stored copy ---------------------------------------------------------------------

    def load(self) -> bool:
        """Whether the folder's database held an index that fits (this format, these
        queries, this folder); it is usable at once, before any refresh."""
        if self.store.reused:
            self.ready = True
        return self.store.reused

    def save(self) -> None:
        """Nothing to do: every change is committed as it is made (kept for the callers that
        store the index at the end of a run)."""

    def close(self) -> None:
        self.store.close()
