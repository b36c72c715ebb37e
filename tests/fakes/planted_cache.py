"""Answer-cache databases as an attacker would commit them to a repository, for a setting or
`QWEN_LSP_CACHE_DIR` to point at: every value a pickle whose loading creates a marker file.

`plant_old_format` writes the schema earlier versions used (diskcache's `Settings` and
`Cache` tables, values in pickle mode), with plain SQLite: an attacker needs no library.
`plant_new_format` writes today's schema with the same pickles where JSON is expected, and
diskcache's tables beside it.
"""

from __future__ import annotations

import pickle
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

MODE_PICKLE = 4  # diskcache's mode for a value to be unpickled when read
# The keys under which earlier versions kept their hit and miss counts, read by `cache stats`.
OLD_STATS_KEYS = ("__qwen_lsp_stats_hits__", "__qwen_lsp_stats_misses__")


class Payload:
    """Unpickling it creates `marker`: what a real payload would do is up to its author."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "a"))


def _pickled(marker: Path) -> bytes:
    return pickle.dumps(Payload(marker), protocol=pickle.HIGHEST_PROTOCOL)


def _diskcache_tables(db: sqlite3.Connection, marker: Path, keys: Iterable[str]) -> None:
    db.execute("CREATE TABLE Settings (key TEXT NOT NULL UNIQUE, value)")
    db.execute(
        "CREATE TABLE Cache (rowid INTEGER PRIMARY KEY, key BLOB, raw INTEGER,"
        " store_time REAL, expire_time REAL, access_time REAL, access_count INTEGER DEFAULT 0,"
        " tag BLOB, size INTEGER DEFAULT 0, mode INTEGER DEFAULT 0, filename TEXT, value BLOB)"
    )
    db.execute("CREATE UNIQUE INDEX Cache_key_raw ON Cache(key, raw)")
    now = time.time()
    rows = [(key, 1) for key in [*keys, *OLD_STATS_KEYS]]
    rows.append((_pickled(marker), 0))  # a pickled key, loaded when keys are listed
    for key, raw in rows:
        db.execute(
            "INSERT INTO Cache (key, raw, store_time, access_time, mode, value)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key, raw, now, now, MODE_PICKLE, _pickled(marker)),
        )
    db.execute("INSERT INTO Settings VALUES ('count', ?)", (len(rows),))
    db.execute("INSERT INTO Settings VALUES ('size', 0)")


def plant_old_format(answers: Path, marker: Path, keys: Iterable[str] = ()) -> Path:
    """`answers/cache.db` as earlier versions wrote it, every value (and one key) a payload."""
    answers.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(answers / "cache.db", isolation_level=None)
    _diskcache_tables(db, marker, keys)
    db.close()
    return answers / "cache.db"


def plant_new_format(answers: Path, marker: Path, keys: Iterable[str] = ()) -> Path:
    """`answers/cache.db` in today's schema with a payload where each answer's JSON belongs,
    counters that are not numbers, and diskcache's tables full of payloads beside them."""
    keys = list(keys)
    answers.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(answers / "cache.db", isolation_level=None)
    db.execute(
        "CREATE TABLE answers (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
        " size INTEGER NOT NULL, stored REAL NOT NULL)"
    )
    db.execute("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    for key in keys:
        db.execute("INSERT INTO answers VALUES (?, ?, 10, ?)", (key, _pickled(marker), time.time()))
    db.executemany(
        "INSERT INTO counters VALUES (?, ?)",
        [("hits", _pickled(marker)), ("misses", "many"), ("bytes", 1.5)],
    )
    _diskcache_tables(db, marker, keys)
    db.close()
    return answers / "cache.db"
