"""The answer cache: every model answer kept on disk so the same question is never paid twice.

Keys hash everything that shapes an answer (see `answer_key`). Answers are stored as JSON text
in a small SQLite database (`answers/cache.db`), safe to share between several editor
processes and `--check`: reading it can only ever give back text, never run code, even when
the database was written by someone else (a cache folder a setting points into a repository).
The answer caches of earlier versions were pickles (diskcache), which run code when read:
such a database is left unread, and the user is told once how to remove it. Eviction is
least-recently-*stored*, so a read never turns into a write. A cache that cannot be opened or
written degrades to an in-memory dict with one warning; it never fails a request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qwen_lsp.model import Generation, GenerationRequest, Usage
from qwen_lsp.storage import open_database, private_dir

log = logging.getLogger(__name__)

# Bump when the stored value's shape changes; old entries then simply miss.
CACHE_FORMAT = 1
DATABASE = "cache.db"
_HITS, _MISSES, _BYTES = "hits", "misses", "bytes"
_MEMORY_ENTRIES = 2048
_EVICT_BATCH = 10  # rows removed per write at most, so one write never stalls on a big cull
_TIMEOUT = 2.0
_OLD_FORMAT_HINT = (
    "the answer cache in {directory} was written by an earlier qwen-lsp in a format that can "
    "run code when read, so it is left unread; `qwen-lsp cache clear` removes it"
)


def answer_key(
    *,
    provider: str,
    base_url: str | None,
    mode: str,
    template_version: str,
    request: GenerationRequest,
) -> str:
    """A stable hash of everything that shapes the answer to `request`."""
    material = {
        "format": CACHE_FORMAT,
        "provider": provider,
        "base_url": base_url,
        "mode": mode,
        "template": template_version,
        "request": asdict(request),
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, default=list)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    directory: str | None
    entries: int
    size_bytes: int
    hits: int
    misses: int
    degraded: bool

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class OldFormatCache(Exception):
    """The database is an answer cache of an earlier version (pickles): never to be read."""


class AnswerStore:
    """The answers on disk: one SQLite table of JSON text, keyed by answer key.

    Nothing read from it is ever executed or unpickled: a value is JSON text, or a miss. Each
    thread has its own connection, so a lookup on the completion path never waits behind the
    background writer (WAL readers do not block on a writer); other processes share the file
    through SQLite's WAL and busy timeout.
    """

    _SCHEMA = """
    CREATE TABLE IF NOT EXISTS answers (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,   -- JSON: {"texts": [...], "usage": [in, out], "model": "..."}
        size INTEGER NOT NULL, -- bytes of key and value, for the size limit
        stored REAL NOT NULL   -- when written: the oldest go first
    );
    CREATE INDEX IF NOT EXISTS answers_stored ON answers(stored);
    CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    """

    def __init__(self, path: Path, *, size_limit: int, timeout: float = _TIMEOUT) -> None:
        self.path = path
        self.size_limit = size_limit
        self._timeout = timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        db = self._db()
        try:
            listed = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {row[0] for row in listed}
            if "answers" not in tables and _is_old_format(tables):
                raise OldFormatCache(str(path))
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps it consistent
            db.executescript(self._SCHEMA)
        except BaseException:
            self.close()
            raise

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = open_database(self.path, timeout=self._timeout)
            db.execute("PRAGMA synchronous=NORMAL")  # per connection
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    def get(self, key: str, default: Any = None) -> Any:
        """The stored JSON value of `key`, or `default` (also for a value that is not JSON)."""
        row = self._db().execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except (TypeError, ValueError):  # not JSON text: someone else's row; a miss
            return default

    def set(self, key: str, value: Any) -> None:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        size = len(key) + len(text.encode("utf-8"))
        with self._transaction() as db:
            old = db.execute("SELECT size FROM answers WHERE key = ?", (key,)).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO answers (key, value, size, stored) VALUES (?, ?, ?, ?)",
                (key, text, size, time.time()),
            )
            total = self._add(db, _BYTES, size - (_number(old[0]) if old else 0))
            if total > self.size_limit:
                self._evict(db, total)

    def _evict(self, db: sqlite3.Connection, total: int) -> None:
        rows = db.execute(
            "SELECT key, size FROM answers ORDER BY stored LIMIT ?", (_EVICT_BATCH,)
        ).fetchall()
        freed = 0
        for key, size in rows:
            if total - freed <= self.size_limit:
                break
            db.execute("DELETE FROM answers WHERE key = ?", (key,))
            freed += _number(size)
        self._add(db, _BYTES, -freed)

    def incr(self, name: str, delta: int) -> None:
        with self._transaction() as db:
            self._add(db, name, delta)

    def counter(self, name: str) -> int:
        row = self._db().execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return _number(row[0]) if row else 0

    def __len__(self) -> int:
        return _number(self._db().execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def volume(self) -> int:
        """Bytes the database takes on disk."""
        db = self._db()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        return _number(pages) * _number(page_size)

    def clear(self) -> int:
        with self._transaction() as db:
            removed = _number(db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])
            db.execute("DELETE FROM answers")
            db.execute("DELETE FROM counters")
        # Give the space back; another process reading at this moment only defers it.
        with contextlib.suppress(sqlite3.Error):
            self._db().execute("VACUUM")
        return removed

    def close(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for db in connections:
            db.close()

    @staticmethod
    def _add(db: sqlite3.Connection, name: str, delta: int) -> int:
        db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?)"
            " ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (name, delta),
        )
        row = db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return _number(row[0]) if row else 0

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")  # the write lock now, not halfway through
        try:
            yield db
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


class AnswerCache:
    """Disk-backed map from answer key to `Generation`; falls back to memory on any fault."""

    def __init__(
        self,
        directory: Path | None,
        *,
        size_limit_mb: int = 256,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.directory = directory
        self.warning: str | None = None
        self.old_format = False  # an earlier version's cache is there, left unread
        self._on_warning = on_warning
        self._disk: Any = None
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._hits = 0
        self._misses = 0
        self._writer: ThreadPoolExecutor | None = None
        self._size_limit_mb = size_limit_mb
        if directory is not None:
            self._open(directory)

    def _open(self, directory: Path) -> None:
        try:
            private_dir(directory)
            self._disk = AnswerStore(
                directory / DATABASE, size_limit=self._size_limit_mb * 1024 * 1024
            )
        except OldFormatCache:
            self.old_format = True
            self._degrade(_OLD_FORMAT_HINT.format(directory=directory))
        except (OSError, sqlite3.Error) as exc:
            self._degrade(f"cannot open the cache in {directory}: {exc}")

    def _degrade(self, reason: str) -> None:
        if self.warning is None:
            self.warning = f"{reason}; answers are kept in memory only until restart"
            # Info, not warning: the user hears it once, through `on_warning` (or the command
            # that prints `warning`); a warning would say it a second time on stderr.
            log.info(self.warning)
            if self._on_warning is not None:
                self._on_warning(f"qwen-lsp: {self.warning}")
        disk, self._disk = self._disk, None
        if disk is not None:
            # Closing a broken cache may fail again; there is nothing left to save.
            with contextlib.suppress(Exception):
                disk.close()

    @property
    def degraded(self) -> bool:
        return self.directory is not None and self._disk is None

    def get(self, key: str) -> Generation | None:
        value = self._memory.get(key)
        if value is None and self._disk is not None:
            try:
                value = self._disk.get(key)
            except (OSError, sqlite3.Error) as exc:
                self._degrade(f"cannot read the cache: {exc}")
        generation = _decode(value) if value is not None else None
        if generation is None:
            self._misses += 1
            return None
        self._hits += 1
        return generation

    def set(self, key: str, generation: Generation, *, background: bool = False) -> None:
        """Store an answer; with `background`, the disk write happens off the caller's path."""
        value = _encode(generation)
        self._memory[key] = value
        self._memory.move_to_end(key)
        while len(self._memory) > _MEMORY_ENTRIES:
            self._memory.popitem(last=False)
        if self._disk is None:
            return
        if background:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-writer")
            self._writer.submit(self._write, key, value)
        else:
            self._write(key, value)

    def _write(self, key: str, value: dict[str, Any]) -> None:
        disk = self._disk
        if disk is None:
            return
        if self.directory is not None and not self.directory.is_dir():
            # Someone deleted the folder (a cache cleaner, `rm -rf ~/.cache`): SQLite would
            # go on writing into the deleted file, silently losing every answer. Start over.
            log.info("the cache folder %s vanished; making it again", self.directory)
            disk.close()
            self._disk = None
            self._open(self.directory)
            disk = self._disk
            if disk is None:
                return
        try:
            disk.set(key, value)
        except (OSError, sqlite3.Error) as exc:
            self._degrade(f"cannot write the cache: {exc}")

    def drain(self) -> None:
        """Wait for background writes (shutdown, tests)."""
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def stats(self) -> CacheStats:
        entries, size, hits, misses = len(self._memory), 0, self._hits, self._misses
        if self._disk is not None:
            try:
                entries = len(self._disk)
                size = self._disk.volume()
                hits += self._disk.counter(_HITS)
                misses += self._disk.counter(_MISSES)
            except (OSError, sqlite3.Error) as exc:
                self._degrade(f"cannot read the cache: {exc}")
        return CacheStats(
            directory=str(self.directory) if self.directory else None,
            entries=entries,
            size_bytes=size,
            hits=hits,
            misses=misses,
            degraded=self.degraded,
        )

    def clear(self) -> int:
        """Empty the cache; an earlier version's cache, never read, is removed whole."""
        self.drain()  # a write still queued would put an answer back after the clear
        removed = len(self._memory)
        self._memory.clear()
        if self.old_format and self.directory is not None:
            try:
                remove_old_format(self.directory)
            except OSError as exc:
                self.warning = f"cannot remove the old answer cache in {self.directory}: {exc}"
                return 0
            self.old_format = False
            self.warning = None
            self._open(self.directory)
        elif self._disk is not None:
            try:
                removed = self._disk.clear()
            except (OSError, sqlite3.Error) as exc:
                self._degrade(f"cannot clear the cache: {exc}")
        self._hits = self._misses = 0
        return removed

    def flush_stats(self) -> None:
        """Add this process's hit/miss counts to the shared totals (atomic increments)."""
        if self._disk is None or not (self._hits or self._misses):
            return
        try:
            self._disk.incr(_HITS, self._hits)
            self._disk.incr(_MISSES, self._misses)
            self._hits = self._misses = 0
        except (OSError, sqlite3.Error) as exc:
            self._degrade(f"cannot write the cache: {exc}")

    def close(self) -> None:
        self.drain()
        self.flush_stats()
        if self._disk is not None:
            self._disk.close()
            self._disk = None


def _is_old_format(tables: set[str]) -> bool:
    """diskcache's tables: what earlier versions wrote, pickles in its rows."""
    return {"Cache", "Settings"} <= tables


# diskcache kept large values in files named like ab/cd/0123...ef.val beside the database.
_OLD_VALUE_FILE = re.compile(r"^[0-9a-f]{28}\.val$")
_OLD_VALUE_FOLDER = re.compile(r"^[0-9a-f]{2}$")


def remove_old_format(directory: Path) -> None:
    """Delete an earlier version's answer cache (the database and its value files) without
    reading any of it; files that are not its own are left alone."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            (directory / (DATABASE + suffix)).unlink()
    for first in directory.iterdir():
        if not (_OLD_VALUE_FOLDER.match(first.name) and first.is_dir() and not first.is_symlink()):
            continue
        for second in first.iterdir():
            if _OLD_VALUE_FOLDER.match(second.name) and second.is_dir() and not second.is_symlink():
                for value in second.iterdir():
                    if _OLD_VALUE_FILE.match(value.name) and not value.is_dir():
                        value.unlink()
                with contextlib.suppress(OSError):
                    second.rmdir()  # only when empty
        with contextlib.suppress(OSError):
            first.rmdir()


def _number(value: Any) -> int:
    """An integer read back from the database; anything else (a damaged row) counts as 0."""
    return value if isinstance(value, int) else 0


def _encode(generation: Generation) -> dict[str, Any]:
    return {
        "texts": list(generation.texts),
        "usage": [generation.usage.input_tokens, generation.usage.output_tokens],
        "model": generation.model,
    }


def _decode(value: Any) -> Generation | None:
    """The answer a stored value holds, or None when it is not the shape `_encode` writes."""
    if not isinstance(value, dict):
        return None
    texts, usage, model = value.get("texts"), value.get("usage"), value.get("model")
    if not (
        isinstance(texts, list)
        and all(isinstance(text, str) for text in texts)
        and isinstance(usage, list)
        and len(usage) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in usage)
        and isinstance(model, str)
    ):
        return None
    return Generation(texts=tuple(texts), usage=Usage(usage[0], usage[1]), model=model)
