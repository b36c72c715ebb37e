"""The workspace symbol index: every definition of a workspace folder's source files, by name,
with each file's imports, kept on disk between sessions.

`WorkspaceIndex` owns one folder's entries (path, size, mtime, content hash, definitions,
imports), the name table built from them, the resolution of each file's imports to other
files (`scope`), and the on-disk copy. Files are listed and read only through the folder's
door (`context/files.py`: `.gitignore`, `exclude`, secrets, links that lead away, size,
binary). A refresh lists the files, re-reads only those whose size or mtime changed, and
re-parses only those whose content hash changed, so a restart costs a directory listing, a
stat per file and one JSON read. The stored copy is JSON (data only: nothing in it is
evaluated), private to the user (0600 in a 0700 folder), and holds no secret: signatures,
doc lines and container headers are stored with each secret `redaction.find_secrets` finds
elided, since a constant's signature is its value. Refreshing is a
generator that yields after each file it reads, so a server can do it in slices between
requests and report progress. Entries can also be refreshed from an editor's unsaved text;
those carry no stat, so the next refresh checks them against the disk again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import posixpath
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qwen_lsp.context.files import (
    BINARY,
    HEAD_BYTES,
    LARGE,
    NOT_TEXT,
    Refusal,
    WorkspaceFiles,
    is_generated,
    is_indexable_name,
)
from qwen_lsp.context.imports import (
    WILDCARD,
    ImportRef,
    TsPaths,
    implicit_files,
    is_ts_config,
    read_go_module,
    read_imports,
    read_ts_config,
    resolve,
)
from qwen_lsp.context.languages import get_parser, header_language, language_for
from qwen_lsp.context.tags import Definition, definitions, queries_version
from qwen_lsp.redaction import find_secrets
from qwen_lsp.storage import PRIVATE_FILE, private_dir, tighten_file

log = logging.getLogger(__name__)

# 2: secrets redacted; 3: C++ namespace members scoped by their namespace (an older file is
# dropped and written again)
STORE_FORMAT = 3
# Files the door refuses for their content are remembered as skipped, so they are not read
# again until they change; files refused for their path leave the index.
_SKIPPED = {LARGE: "large", BINARY: "binary", NOT_TEXT: "binary"}
_REEXPORT_DEPTH = 3  # `from .core import X` in __init__.py, `export * from "./x"`: followed


@dataclass(slots=True)
class FileEntry:
    """What the index knows of one file."""

    path: str  # relative to the folder, forward slashes
    language: str  # "" for a file skipped (large, binary, generated): kept to skip it again
    size: int
    mtime_ns: int  # -1: taken from an editor's text, to be checked against the disk
    digest: str
    definitions: tuple[Definition, ...] = ()
    imports: tuple[ImportRef, ...] = ()
    skipped: str = ""  # why the file is not indexed


@dataclass(frozen=True)
class IndexPolicy:
    """How many files a folder's index takes (which ones, the folder's door decides)."""

    max_files: int = 20_000


@dataclass
class Scan:
    """A folder's indexable files with their (size, mtime_ns), its go.mod modules and what
    its tsconfig.json/jsconfig.json files say of import paths (by their folder)."""

    files: dict[str, tuple[int, int]]
    go_modules: dict[str, str]
    left_out: int = 0  # files over `max_files`
    ts_paths: dict[str, TsPaths] = field(default_factory=dict)


@dataclass
class RefreshSummary:
    files: int = 0
    parsed: int = 0
    reused: int = 0  # unchanged since the stored index
    removed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    left_out: int = 0

    def describe(self) -> str:
        parts = [f"{self.files} files", f"{self.parsed} read", f"{self.reused} unchanged"]
        parts.extend(f"{count} {reason} skipped" for reason, count in sorted(self.skipped.items()))
        if self.left_out:
            parts.append(f"{self.left_out} over context.maxFiles left out")
        return ", ".join(parts)


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
        self._store = store_dir / _store_name(root) if store_dir is not None else None
        self._entries: dict[str, FileEntry] = {}
        self._by_name: dict[str, list[tuple[str, Definition]]] = defaultdict(list)
        self._by_basename: dict[str, list[str]] = defaultdict(list)
        self._by_folder: dict[str, list[str]] = defaultdict(list)
        self._go_modules: dict[str, str] = {}
        self._ts_paths: dict[str, TsPaths] = {}
        self._scopes: dict[str, tuple[int, FileEntry, ImportScope]] = {}
        self._files_generation = 0  # bumped when files come or go: import scopes go stale
        self._dirty = False
        self._stored_rows = StoredRows()
        self.ready = False  # a refresh has completed (or a stored index was loaded)
        self.summary = RefreshSummary()

    # -- reading the index ----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, path: str) -> FileEntry | None:
        entry = self._entries.get(path)
        return entry if entry is not None and entry.language else None

    def paths(self) -> list[str]:
        return [path for path, entry in self._entries.items() if entry.language]

    def lookup(self, name: str) -> list[tuple[str, Definition]]:
        """Every (file, definition) named `name`."""
        return self._by_name.get(name, [])

    def definitions_in(self, path: str, name: str) -> list[Definition]:
        entry = self.entry(path)
        if entry is None:
            return []
        return [d for d in entry.definitions if d.name == name]

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
        """What `path`'s imports bring in, resolved against the folder's files (cached)."""
        entry = self.entry(path)
        if entry is None:
            return None
        cached = self._scopes.get(path)
        if cached is not None and cached[0] == self._files_generation and cached[1] is entry:
            return cached[2]
        scope = self._resolve_scope(entry)
        self._scopes[path] = (self._files_generation, entry, scope)
        return scope

    def _resolve_scope(self, entry: FileEntry) -> ImportScope:
        names: dict[str, list[tuple[str, str]]] = defaultdict(list)
        modules: dict[str, list[str]] = defaultdict(list)
        open_files: list[str] = []
        reached: set[str] = set()
        for ref in entry.imports:
            for target in resolve(ref, entry.path, entry.language, self):
                if target.path == entry.path:
                    continue
                reached.add(target.path)
                if target.alias:
                    modules[target.alias].append(target.path)
                for name, local in target.names:
                    if name == WILDCARD:
                        open_files.append(target.path)
                    else:
                        names[local].append((target.path, name))
        for path in implicit_files(entry.path, entry.language, self):
            open_files.append(path)
            reached.add(path)
        return ImportScope(
            dict(names), dict(modules), tuple(dict.fromkeys(open_files)), frozenset(reached)
        )

    # -- FileLookup, for import resolution --------------------------------------------------

    def has(self, path: str) -> bool:
        return self.entry(path) is not None

    def files_in(self, directory: str) -> Sequence[str]:
        return self._by_folder.get(directory, [])

    def ending_with(self, suffix: str) -> Sequence[str]:
        candidates = self._by_basename.get(posixpath.basename(suffix), [])
        return [p for p in candidates if p == suffix or p.endswith("/" + suffix)]

    def folders_ending_with(self, suffix: str) -> Sequence[str]:
        suffix = suffix.strip("/")
        return [
            folder
            for folder in self._by_folder
            if folder == suffix or folder.endswith("/" + suffix)
        ]

    def go_modules(self) -> dict[str, str]:
        return self._go_modules

    def ts_paths(self, from_path: str) -> TsPaths | None:
        folder = posixpath.dirname(from_path)
        while True:
            found = self._ts_paths.get(folder)
            if found is not None or not folder:
                return found
            folder = posixpath.dirname(folder)

    # -- keeping it current ------------------------------------------------------------------

    def scan(self) -> Scan:
        """The folder's indexable files and their stats: I/O only, safe in a worker thread."""
        files: dict[str, tuple[int, int]] = {}
        go_modules: dict[str, str] = {}
        ts_paths: dict[str, TsPaths] = {}
        listed = self.files.list(["."])
        wanted = []
        for path in listed:
            if path == "go.mod" or path.endswith("/go.mod"):
                module = self.files.read(path)
                name = read_go_module(module) if isinstance(module, str) else None
                if name:
                    go_modules[name] = posixpath.dirname(path)
            elif is_ts_config(path):
                config = read_ts_config(path, self._text_of)
                if config is not None:
                    ts_paths[posixpath.dirname(path)] = config
            elif is_indexable_name(path):
                wanted.append(path)
        # over the limit, files nearer the root are kept: they are the project's own code
        wanted.sort(key=lambda p: (p.count("/"), p))
        left_out = max(len(wanted) - self.policy.max_files, 0)
        for path in wanted[: self.policy.max_files]:
            try:
                stat = os.stat(self.root / path)
            except OSError:
                continue
            files[path] = (stat.st_size, stat.st_mtime_ns)
        return Scan(files, go_modules, left_out, ts_paths)

    def _text_of(self, path: str) -> str | None:
        """A workspace file's text through the door (no link out, capped), or None."""
        text = self.files.read(path)
        return text if isinstance(text, str) else None

    def refresh(self, scan: Scan | None = None) -> Iterator[tuple[int, int]]:
        """Bring the index up to date with the disk, yielding (done, to do) after each file
        read; `save` (or `snapshot`) stores the result."""
        scan = scan if scan is not None else self.scan()
        summary = RefreshSummary(files=len(scan.files), left_out=scan.left_out)
        if scan.go_modules != self._go_modules or scan.ts_paths != self._ts_paths:
            self._go_modules = scan.go_modules
            self._ts_paths = scan.ts_paths
            self._files_generation += 1
        for path in [p for p in self._entries if p not in scan.files]:
            self._drop(path)
            summary.removed += 1
        stale = []
        for path, (size, mtime) in scan.files.items():
            entry = self._entries.get(path)
            if entry is not None and entry.size == size and entry.mtime_ns == mtime:
                summary.reused += 1
                if entry.skipped:
                    summary.skipped[entry.skipped] = summary.skipped.get(entry.skipped, 0) + 1
            else:
                stale.append(path)
        for done, path in enumerate(stale, start=1):
            outcome = self._read(path, scan.files[path])
            if outcome == "unchanged":
                summary.reused += 1
            elif outcome in ("parsed",):
                summary.parsed += 1
            elif outcome:
                summary.skipped[outcome] = summary.skipped.get(outcome, 0) + 1
            yield done, len(stale)
        self.summary = summary
        self.ready = True

    def update_from_disk(self, *paths: str) -> int:
        """Re-read files saved, created or changed on disk; a file that is gone or not
        indexable is dropped. New files are admitted only if the door lists them (.gitignore,
        `exclude`, links): one listing for all of them. Returns how many are indexed."""
        wanted = [
            p
            for p in paths
            if is_indexable_name(p) and self.files.check(p) is None and (self.root / p).is_file()
        ]
        for path in set(paths) - set(wanted):
            self._drop(path)
        new = [p for p in wanted if p not in self._entries]
        admitted = set(self.files.list(new)) if new else set()
        indexed = 0
        for path in wanted:
            if path in new and path not in admitted:
                continue  # a new file that .gitignore keeps out
            try:
                stat = (self.root / path).stat()
            except OSError:
                self._drop(path)
                continue
            indexed += self._read(path, (stat.st_size, stat.st_mtime_ns)) in ("parsed", "unchanged")
        return indexed

    def update_text(self, path: str, text: str) -> None:
        """Index an editor's current text of a file that belongs to the folder."""
        if path not in self._entries or not self._entries[path].language:
            return  # not one of the folder's indexable files (ignored, excluded, skipped)
        data = text.encode("utf-8", "surrogatepass")
        self._store_entry(path, data, size=-1, mtime_ns=-1)

    def remove(self, path: str) -> None:
        self._drop(path)

    def _read(self, path: str, stat: tuple[int, int]) -> str:
        """Read and index one file: "parsed", "unchanged", a skip reason, or "" if gone."""
        size, mtime = stat
        got = self.files.read_bytes(path)
        if isinstance(got, Refusal):
            reason = _SKIPPED.get(got.kind)
            if reason is None:
                self._drop(path)  # gone, or refused for its path: nothing of it stays
                return ""
        else:
            reason = "generated" if is_generated(got.data[:HEAD_BYTES]) else None
        if reason is not None:
            self._put(FileEntry(path, "", size, mtime, "", skipped=reason))
            return reason
        assert not isinstance(got, Refusal)  # every refusal above has a reason or returned
        data = got.data
        digest = _digest(data)
        entry = self._entries.get(path)
        if entry is not None and entry.digest == digest and entry.language:
            entry.size, entry.mtime_ns = size, mtime  # touched, not changed
            self._dirty = True
            return "unchanged"
        self._store_entry(path, data, size=size, mtime_ns=mtime, digest=digest)
        return "parsed"

    def _store_entry(
        self, path: str, data: bytes, *, size: int, mtime_ns: int, digest: str | None = None
    ) -> None:
        language = header_language(path, data) or language_for(None, path) or ""
        parser = get_parser(language)
        defs: list[Definition] = []
        imports: list[ImportRef] = []
        if parser is not None:
            tree = parser.parse(data)
            defs = definitions(tree, data, language)
            imports = read_imports(tree, data, language)
        entry = FileEntry(
            path, language, size, mtime_ns, digest or _digest(data), tuple(defs), tuple(imports)
        )
        self._put(entry)

    def _put(self, entry: FileEntry) -> None:
        old = self._entries.get(entry.path)
        if old is not None:
            self._unlink(old)
        self._entries[entry.path] = entry
        if entry.language:
            folder, base = posixpath.split(entry.path)
            self._by_folder[folder].append(entry.path)
            self._by_basename[base].append(entry.path)
            for d in entry.definitions:
                self._by_name[d.name].append((entry.path, d))
        if old is None or bool(old.language) != bool(entry.language):
            self._files_generation += 1
        self._dirty = True

    def _drop(self, path: str) -> None:
        old = self._entries.pop(path, None)
        if old is None:
            return
        self._unlink(old)
        self._scopes.pop(path, None)
        self._files_generation += 1
        self._dirty = True

    def _unlink(self, entry: FileEntry) -> None:
        if not entry.language:
            return
        folder, base = posixpath.split(entry.path)
        for table, key in ((self._by_folder, folder), (self._by_basename, base)):
            table[key].remove(entry.path)
            if not table[key]:
                del table[key]
        self._unlink_names(entry)

    def _unlink_names(self, entry: FileEntry) -> None:
        for name in {d.name for d in entry.definitions}:
            kept = [item for item in self._by_name[name] if item[0] != entry.path]
            if kept:
                self._by_name[name] = kept
            else:
                del self._by_name[name]

    # -- the stored copy ---------------------------------------------------------------------

    def load(self) -> bool:
        """Read the stored index of this folder; False when there is none that fits."""
        if self._store is None:
            return False
        try:
            tighten_file(self._store)  # written by an earlier version with the umask's mode
            with self._store.open("rb") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return False
        except (OSError, ValueError) as exc:
            log.warning("ignoring the stored symbol index %s: %s", self._store, exc)
            return False
        if (
            not isinstance(data, dict)
            or data.get("format") != STORE_FORMAT
            or data.get("queries") != queries_version()
            or data.get("root") != str(self.root)
        ):
            return False
        try:
            for path, row in data["files"].items():
                entry = _entry_from_row(path, row)
                self._put(entry)
                self._stored_rows.remember(entry, row[4])  # stored redacted already
            self._go_modules = dict(data.get("goModules", {}))
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("ignoring the damaged symbol index %s: %s", self._store, exc)
            self._entries.clear()
            self._by_name.clear()
            self._by_folder.clear()
            self._by_basename.clear()
            return False
        self._dirty = False
        self.ready = True
        return True

    def save(self) -> None:
        """Write the index to disk if it changed; a failure costs only the next start-up."""
        snapshot = self.snapshot()
        if snapshot is not None:
            snapshot.write()

    def snapshot(self) -> Snapshot | None:
        """What to store, if anything changed since the last snapshot: cheap to take, and
        safe to write from another thread while the index keeps changing (entries are
        replaced, never edited)."""
        if self._store is None or not self._dirty:
            return None
        self._dirty = False
        return Snapshot(
            self._store,
            str(self.root),
            dict(self._go_modules),
            list(self._entries.values()),
            self._stored_rows,
        )


@dataclass
class Snapshot:
    """An index's entries at one moment, and where they are stored."""

    store: Path
    root: str
    go_modules: dict[str, str]
    entries: list[FileEntry]
    rows: StoredRows  # each file's stored definitions, redacted once

    def write(self) -> None:
        data = {
            "format": STORE_FORMAT,
            "queries": queries_version(),
            "root": self.root,
            "goModules": self.go_modules,
            "files": {entry.path: _row(entry, self.rows) for entry in self.entries},
        }
        self.rows.keep_only(data["files"])
        try:
            private_dir(self.store.parent)  # index/: ours, so an older, looser one is tightened
            fd, temporary = tempfile.mkstemp(dir=self.store.parent, suffix=".tmp")
            try:
                os.fchmod(fd, PRIVATE_FILE)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle, separators=(",", ":"), ensure_ascii=False)
                os.replace(temporary, self.store)  # whole or not at all, for other processes too
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            log.warning("could not store the symbol index in %s: %s", self.store, exc)


class StoredRows:
    """Each file's definitions as stored, secrets redacted, kept while the file's definitions
    stay the same: redacting costs about 10 µs a text and every snapshot stores every file,
    so only the files read since the last snapshot are redacted again."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[tuple[Definition, ...], list]] = {}

    def definitions(self, entry: FileEntry) -> list:
        known = self._rows.get(entry.path)
        if known is not None and known[0] is entry.definitions:
            return known[1]
        rows = [_definition_row(d) for d in entry.definitions]
        self._rows[entry.path] = (entry.definitions, rows)
        return rows

    def remember(self, entry: FileEntry, rows: list) -> None:
        self._rows[entry.path] = (entry.definitions, rows)

    def keep_only(self, paths: Iterable[str]) -> None:
        kept = set(paths)
        self._rows = {path: known for path, known in self._rows.items() if path in kept}


def _store_name(root: Path) -> str:
    digest = hashlib.sha256(str(root).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in root.name)[:40]
    return f"{safe or 'root'}-{digest}.json"


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _row(entry: FileEntry, rows: StoredRows) -> list:
    return [
        entry.language,
        entry.size,
        entry.mtime_ns,
        entry.digest,
        rows.definitions(entry),
        [[r.module, [list(n) for n in r.names], r.alias, r.line] for r in entry.imports],
        entry.skipped,
    ]


def _definition_row(d: Definition) -> list:
    """A definition as stored: the texts that can hold a value (`API_KEY = "sk-..."` is a
    constant's signature) with their secrets replaced."""
    return [
        d.name,
        d.kind,
        d.line,
        d.end_line,
        d.indent,
        _redacted(d.signature),
        _redacted(d.doc),
        d.scope,
        _redacted(d.scope_header),
        d.tokens,
    ]


# What stands for a secret in the stored index. Not a request placeholder: stored text comes
# back in later prompts, and an answer must never copy a placeholder into the user's code; an
# elision, as in a stub file, reads as "the value is left out".
_ELIDED = "..."


def _redacted(text: str) -> str:
    if not text:
        return text
    out, last = [], 0
    for secret in find_secrets(text):
        out.append(text[last : secret.start])
        out.append(_ELIDED)
        last = secret.end
    return "".join(out) + text[last:] if out else text


def _entry_from_row(path: str, row: list) -> FileEntry:
    language, size, mtime, digest, defs, imports, skipped = row
    return FileEntry(
        path,
        language,
        int(size),
        int(mtime),
        digest,
        tuple(Definition(*d) for d in defs),
        tuple(
            ImportRef(module, tuple((n[0], n[1]) for n in names), alias, line)
            for module, names, alias, line in imports
        ),
        skipped,
    )
