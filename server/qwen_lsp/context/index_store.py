"""The symbol index's store on disk: one SQLite database per workspace folder, queried for
what a prompt needs rather than loaded whole, so the server's memory does not grow with the
repository.

Layout (`STORE_FORMAT`): `files` (one row per file: path, its folder, both reversed for
suffix lookups, language, size, mtime_ns, content digest, why it was skipped, its imports as
JSON), `defs` (each file's definitions, by name), `go_modules`, and `meta` (format, the
tree-sitter queries' version, the folder). A database of another format, other queries or
another folder is emptied and built again; a damaged one is replaced. Everything in it is
data: nothing stored is evaluated, and the database is opened with `open_database` (0600 in
a 0700 folder, schema not trusted). Definitions arrive with their secrets already elided
(`index_worker.definition_rows`), so the file holds none.

Two connections in WAL mode: `writer` commits the server's own changes (an editor's text, a
saved file, files gone) and `reader` answers queries on the event loop, reading the last
committed state without waiting for a writer. While the server builds, each worker process
commits the records it read through its own connection (`write_records`): records never
cross to the server, whose interpreter stays free for requests; SQLite's locks order the
writers. Without a folder to
store in (the answer cache turned off), the database lives in a private temporary folder
removed when the index is dropped or the process ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from qwen_lsp.context.imports import ImportRef
from qwen_lsp.context.tags import Definition
from qwen_lsp.storage import open_database, private_dir

log = logging.getLogger(__name__)

# 3: SQLite, queried (1 and 2 were JSON files loaded whole; 2 elided secrets); 4: C++
# namespace members scoped by their namespace, a `.h` holding C++ parsed as C++
STORE_FORMAT = 4
_CACHE_KIB = 4096  # SQLite's page cache per connection: bounded, whatever the repository
_TIMEOUT = 10.0
SETTLE_SECONDS = 1.0  # while a build writes, derived data is made again at most this often

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    folder TEXT NOT NULL,
    rpath TEXT NOT NULL,
    rfolder TEXT NOT NULL,
    language TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL,
    skipped TEXT NOT NULL,
    imports TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_folder ON files(folder);
CREATE INDEX IF NOT EXISTS files_rpath ON files(rpath);
CREATE INDEX IF NOT EXISTS files_rfolder ON files(rfolder);
CREATE TABLE IF NOT EXISTS defs (
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    indent TEXT NOT NULL,
    signature TEXT NOT NULL,
    doc TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_header TEXT NOT NULL,
    tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS defs_name ON defs(name);
CREATE INDEX IF NOT EXISTS defs_file ON defs(file_id);
CREATE TABLE IF NOT EXISTS go_modules (module TEXT PRIMARY KEY, folder TEXT NOT NULL);
"""
_TABLES = ("meta", "files", "defs", "go_modules")
_DEF_COLUMNS = "d.name, d.kind, d.line, d.end_line, d.indent, d.signature, d.doc, d.scope, "
_DEF_COLUMNS += "d.scope_header, d.tokens"


@dataclass(frozen=True, slots=True)
class Record:
    """One file as a worker read it: what the store keeps of it. `outcome` is "parsed",
    "unchanged" (same content, new stat), a skip reason ("large", "binary", "generated"),
    or "" (gone, or refused for its path: it leaves the index)."""

    outcome: str
    path: str
    size: int
    mtime_ns: int
    digest: str = ""
    language: str = ""
    definitions: tuple[tuple, ...] = ()  # rows of `Definition` fields, secrets elided
    imports: str = "[]"  # JSON rows of `ImportRef` fields


class StoredFile(NamedTuple):
    """A file's row: its stat and digest, for freshness checks (a tuple: a restart compares
    every row of a big repository)."""

    path: str
    language: str
    size: int
    mtime_ns: int
    digest: str
    skipped: str


def store_name(root: Path) -> str:
    """The database's file name for the folder `root`: its name and a hash of its path."""
    digest = hashlib.sha256(str(root).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in root.name)[:40]
    return f"{safe or 'root'}-{digest}"


def imports_json(imports: Iterable[ImportRef]) -> str:
    return json.dumps(
        [[r.module, [list(n) for n in r.names], r.alias, r.line] for r in imports],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def imports_from_json(text: str) -> tuple[ImportRef, ...]:
    return tuple(
        ImportRef(str(module), tuple((str(n[0]), str(n[1])) for n in names), str(alias), int(line))
        for module, names, alias, line in json.loads(text)
    )


class IndexStore:
    """One folder's index database; see the module docstring."""

    def __init__(self, directory: Path | None, root: Path, queries: str) -> None:
        self._temporary: str | None = None
        if directory is None:
            self._temporary = tempfile.mkdtemp(prefix="qwen-lsp-index-")  # 0700
            directory = Path(self._temporary)
            weakref.finalize(self, shutil.rmtree, self._temporary, True)
        else:
            private_dir(directory)  # index/: ours, so an older, looser one is tightened
            # formats 1 and 2 were JSON: 1 kept secrets as written; nothing of it is kept
            with contextlib.suppress(OSError):
                (directory / f"{store_name(root)}.json").unlink(missing_ok=True)
        self.path = directory / f"{store_name(root)}.sqlite"
        self._root, self._queries = str(root), queries
        self._write_lock = threading.Lock()  # one writer at a time, whichever thread
        self.reused = False  # the database held an index of this folder that fits
        self.writer = self._open()
        self.reader = open_database(self.path, timeout=_TIMEOUT)
        self._tune(self.reader)
        self.generation = 0  # bumped by every write: what was derived from reads goes stale
        self._stale_at = -SETTLE_SECONDS  # when a build's writes last made it stale
        self._unsettled = False  # a build wrote since

    # -- opening -------------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        for attempt in range(2):
            try:
                db = open_database(self.path, timeout=_TIMEOUT)
                try:
                    db.execute("PRAGMA journal_mode = WAL")
                    db.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses no index
                    db.execute("PRAGMA secure_delete = ON")  # what is deleted is zeroed
                    self._tune(db)
                    self._check(db)
                except BaseException:
                    db.close()
                    raise
                return db
            except sqlite3.DatabaseError as exc:
                if attempt:
                    raise
                log.warning("replacing the damaged symbol index %s: %s", self.path, exc)
                for suffix in ("", "-wal", "-shm", "-journal"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(f"{self.path}{suffix}")
        raise AssertionError("unreachable")

    @staticmethod
    def _tune(db: sqlite3.Connection) -> None:
        db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        db.execute("PRAGMA mmap_size = 0")  # mapped pages would count in the server's RSS
        db.execute("PRAGMA temp_store = FILE")

    def _check(self, db: sqlite3.Connection) -> None:
        """Keep the stored index if it is ours and fits; else start it again, empty."""
        wanted = {"format": str(STORE_FORMAT), "queries": self._queries, "root": self._root}
        try:
            stored = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.OperationalError:  # no such table: a new database
            stored = {}
        if stored and all(stored.get(k) == v for k, v in wanted.items()):
            db.executescript(_SCHEMA)  # an index a newer version added is made
            self.reused = True
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            for table in _TABLES:
                db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.executemany("INSERT INTO meta VALUES (?, ?)", wanted.items())
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("VACUUM")  # the dropped rows' pages still held their text: none is kept

    def close(self) -> None:
        for db in (self.reader, self.writer):
            with contextlib.suppress(sqlite3.Error):
                db.close()
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)

    # -- writing (any one thread at a time; never with `reader`) -------------------------------

    def put(self, records: Sequence[Record]) -> None:
        """Store what workers read, in one transaction."""
        with self._write_lock, self._transaction() as db:
            for record in records:
                self._put_one(db, record)
        self.generation += 1

    def _put_one(self, db: sqlite3.Connection, r: Record) -> None:
        put_record(db, r)

    def drop(self, paths: Iterable[str]) -> None:
        with self._write_lock, self._transaction() as db:
            for path in paths:
                self._put_one(db, Record("", path, 0, 0))
        self.generation += 1

    def set_go_modules(self, modules: dict[str, str]) -> None:
        with self._write_lock:  # read with the writer: this runs off the reader's thread
            query = "SELECT module, folder FROM go_modules"
            if modules == dict(self.writer.execute(query).fetchall()):
                return
            with self._transaction() as db:
                db.execute("DELETE FROM go_modules")
                db.executemany("INSERT INTO go_modules VALUES (?, ?)", modules.items())
        self.generation += 1

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with transaction(self.writer) as db:
            yield db

    def written_elsewhere(self) -> None:
        """A build's worker process committed records: what was derived from reads (import
        scopes, lookups) goes stale, at most every `SETTLE_SECONDS` while a build writes.
        A build commits a batch every few milliseconds: deriving everything again for each
        request would make every completion pay for the build, for definitions that are at
        most that old (the index is being filled anyway). `settled` ends it."""
        now = time.monotonic()
        if now - self._stale_at >= SETTLE_SECONDS:
            self.generation += 1
            self._stale_at = now
            self._unsettled = False
        else:
            self._unsettled = True

    def settled(self) -> None:
        """A build ended: what it wrote since the last `written_elsewhere` that counted is
        seen from now on."""
        if self._unsettled:
            self.generation += 1
            self._unsettled = False

    # -- reading (`reader`: the event loop's thread only) ----------------------------------------

    def count(self) -> int:
        return self.reader.execute("SELECT count(*) FROM files WHERE language != ''").fetchone()[0]

    def file(self, path: str) -> StoredFile | None:
        row = self.reader.execute(
            "SELECT path, language, size, mtime_ns, digest, skipped FROM files WHERE path = ?",
            (path,),
        ).fetchone()
        return StoredFile(*row) if row is not None else None

    def stored_files(self) -> Iterator[StoredFile]:
        """Every file's row, streamed (a folder's scan compares them with the disk)."""
        cursor = self.reader.execute(
            "SELECT path, language, size, mtime_ns, digest, skipped FROM files"
        )
        for row in cursor:
            yield StoredFile(*row)

    def imports(self, path: str) -> tuple[ImportRef, ...]:
        row = self.reader.execute(
            "SELECT imports FROM files WHERE path = ? AND language != ''", (path,)
        ).fetchone()
        return imports_from_json(row[0]) if row is not None else ()

    def paths(self) -> list[str]:
        return [
            row[0] for row in self.reader.execute("SELECT path FROM files WHERE language != ''")
        ]

    def definitions_of(self, path: str) -> list[Definition]:
        return [
            Definition(*row)
            for row in self.reader.execute(
                f"SELECT {_DEF_COLUMNS} FROM defs d JOIN files f ON f.id = d.file_id "
                "WHERE f.path = ? ORDER BY d.rowid",
                (path,),
            )
        ]

    def definitions_named(self, path: str, name: str) -> list[Definition]:
        return [
            Definition(*row)
            for row in self.reader.execute(
                f"SELECT {_DEF_COLUMNS} FROM defs d JOIN files f ON f.id = d.file_id "
                "WHERE f.path = ? AND d.name = ? ORDER BY d.rowid",
                (path, name),
            )
        ]

    def named(self, name: str, limit: int) -> list[tuple[str, Definition]]:
        return [
            (row[0], Definition(*row[1:]))
            for row in self.reader.execute(
                f"SELECT f.path, {_DEF_COLUMNS} FROM defs d JOIN files f ON f.id = d.file_id "
                "WHERE d.name = ? ORDER BY d.rowid LIMIT ?",
                (name, limit),
            )
        ]

    def files_named(self, name: str) -> list[tuple[int, str]]:
        """(definition row, file) of every definition named `name`: small tuples, for
        ranking many before the chosen ones are read whole."""
        return self.reader.execute(
            "SELECT d.rowid, f.path FROM defs d JOIN files f ON f.id = d.file_id "
            "WHERE d.name = ? ORDER BY d.rowid",
            (name,),
        ).fetchall()

    def definitions_at(self, rowids: Sequence[int]) -> list[tuple[str, Definition]]:
        marks = ",".join("?" * len(rowids))
        rows = self.reader.execute(
            f"SELECT d.rowid, f.path, {_DEF_COLUMNS} FROM defs d JOIN files f "
            f"ON f.id = d.file_id WHERE d.rowid IN ({marks})",
            tuple(rowids),
        ).fetchall()
        by_id = {row[0]: (row[1], Definition(*row[2:])) for row in rows}
        return [by_id[i] for i in rowids if i in by_id]

    def has(self, path: str) -> bool:
        row = self.reader.execute(
            "SELECT 1 FROM files WHERE path = ? AND language != ''", (path,)
        ).fetchone()
        return row is not None

    def files_in(self, folder: str) -> list[str]:
        return [
            row[0]
            for row in self.reader.execute(
                "SELECT path FROM files WHERE folder = ? AND language != '' ORDER BY id",
                (folder,),
            )
        ]

    def ending_with(self, suffix: str) -> list[str]:
        """Files whose path is `suffix` or ends with "/" + `suffix` (reversed: a prefix)."""
        reverse = suffix[::-1]
        return [
            row[0]
            for row in self.reader.execute(
                "SELECT path FROM files WHERE (rpath = ? OR (rpath >= ? AND rpath < ?)) "
                "AND language != '' ORDER BY id",
                (reverse, reverse + "/", reverse + "0"),  # "0" follows "/"
            )
        ]

    def folders_ending_with(self, suffix: str) -> list[str]:
        reverse = suffix[::-1]
        return [
            row[0]
            for row in self.reader.execute(
                "SELECT DISTINCT folder FROM files WHERE (rfolder = ? OR "
                "(rfolder >= ? AND rfolder < ?)) AND language != ''",
                (reverse, reverse + "/", reverse + "0"),
            )
        ]

    def go_modules(self) -> dict[str, str]:
        return dict(self.reader.execute("SELECT module, folder FROM go_modules").fetchall())


# -- writing from a worker process -------------------------------------------------------------


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def put_record(db: sqlite3.Connection, r: Record) -> None:
    """Store one record, inside a transaction of the writer connection `db`."""
    row = db.execute("SELECT id FROM files WHERE path = ?", (r.path,)).fetchone()
    if not r.outcome:
        if row is not None:
            db.execute("DELETE FROM defs WHERE file_id = ?", row)
            db.execute("DELETE FROM files WHERE id = ?", row)
        return
    if r.outcome == "unchanged":
        db.execute(
            "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
            (r.size, r.mtime_ns, r.path),
        )
        return
    indexed = r.outcome == "parsed"
    folder = r.path.rpartition("/")[0]
    values = (
        folder,
        r.path[::-1],
        folder[::-1],
        r.language if indexed else "",
        r.size,
        r.mtime_ns,
        r.digest,
        "" if indexed else r.outcome,
        r.imports if indexed else "[]",
    )
    if row is None:
        cursor = db.execute(
            "INSERT INTO files (path, folder, rpath, rfolder, language, size, mtime_ns, "
            "digest, skipped, imports) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r.path, *values),
        )
        file_id = cursor.lastrowid
    else:
        file_id = row[0]
        db.execute("DELETE FROM defs WHERE file_id = ?", row)
        db.execute(
            "UPDATE files SET folder = ?, rpath = ?, rfolder = ?, language = ?, size = ?, "
            "mtime_ns = ?, digest = ?, skipped = ?, imports = ? WHERE id = ?",
            (*values, file_id),
        )
    if indexed and r.definitions:
        db.executemany(
            "INSERT INTO defs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(file_id, *d) for d in r.definitions],
        )


_WORKER_WRITERS: dict[str, sqlite3.Connection] = {}  # one per database and worker process


def write_records(path: str, records: Sequence[Record]) -> None:
    """Commit `records` to the database at `path` from a build's worker process, in one
    transaction: the records never cross to the server, whose interpreter (and its lock)
    then stays free for requests. The server made the database (`IndexStore`); SQLite's
    locks order these writers with its own."""
    db = _WORKER_WRITERS.get(path)
    if db is None:
        db = open_database(Path(path), timeout=_TIMEOUT)
        db.execute("PRAGMA synchronous = NORMAL")  # WAL, as the server's writer
        db.execute("PRAGMA secure_delete = ON")
        IndexStore._tune(db)
        _WORKER_WRITERS.clear()  # a worker serves one build: one database at a time
        _WORKER_WRITERS[path] = db
    with transaction(db):
        for record in records:
            put_record(db, record)
