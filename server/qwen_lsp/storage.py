"""What qwen-lsp keeps on disk is the user's alone: folders 0700, files 0600, whatever the umask.

Every store (answer cache, spend ledger, prompt-mode memory, symbol index, log) makes its
folders with `private_dir` and its files with `private_file` (or `tempfile.mkstemp`, which
makes them 0600), and opens SQLite through `open_database`, which also keeps SQLite's
side files (-wal, -shm) private and reads a database it did not write without trusting its
schema. The layout of the cache folder is named here, so the stores and the commands that
show or clear them agree on it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

# The cache folder: answers/cache.db (answers), index/<folder>-<hash>.sqlite (symbol indexes),
# spend.db (the spend ledger), prompt-modes.json (which prompt mode each endpoint takes).
ANSWERS = "answers"
INDEX = "index"
LEDGER = "spend.db"
MODES = "prompt-modes.json"
_OURS = {ANSWERS, INDEX, LEDGER, f"{LEDGER}-wal", f"{LEDGER}-shm", MODES}
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path, *, tighten: bool = True) -> Path:
    """Make folder `path`, and every missing folder above it, 0700.

    A `path` that already exists is tightened to 0700 when `tighten` (a folder qwen-lsp names
    itself: answers/, index/, the default cache root); folders above it that already exist
    are never changed, since they may be the user's own (a home folder, a shared disk).
    """
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        if probe.exists() or probe.is_symlink():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(probe))
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # another process made it a moment ago: it is tightened below if asked
        os.chmod(folder, PRIVATE_DIR)  # the umask may have taken bits away; set exactly 0700
    if tighten and path not in missing:
        _tighten(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Make sure file `path` exists and is 0600; never follows a symbolic link planted there."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)
    finally:
        os.close(descriptor)
    return path


def write_text_no_follow(path: Path, text: str) -> None:
    """Write `text` to `path` (a report, a baseline: readable like any file the user makes),
    refusing a symbolic link there: a repository may commit one that points at `~/.bashrc`."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def tighten_file(path: Path) -> None:
    """Make an existing file of ours 0600 (written by an earlier version); gone is fine."""
    _tighten(path, PRIVATE_FILE)


def is_ours(folder: Path) -> bool:
    """True when everything in `folder` is what qwen-lsp keeps in a cache folder, so the
    folder may be tightened even though a setting named it."""
    try:
        return all(entry.name in _OURS for entry in os.scandir(folder))
    except OSError:
        return False


def prepare_cache_root(root: Path, *, default: bool) -> Path:
    """The cache folder, made 0700 if missing. An existing one is tightened when it is the
    default location or holds nothing but our stores; a folder a setting points at that
    holds other things is left as it is (what qwen-lsp puts inside is private anyway)."""
    exists = root.is_dir()
    private_dir(root, tighten=default or (exists and is_ours(root)))
    return root


def open_database(path: Path, *, timeout: float) -> sqlite3.Connection:
    """A SQLite connection to `path`, whose files are private (-wal and -shm take the mode of
    the database file), and which trusts nothing stored in the database's schema.

    A database qwen-lsp did not write (one committed in a repository a setting points at)
    can hold triggers and views: with `trusted_schema` off they can call no function that
    has side effects, and `cell_size_check` makes a damaged page an error, not a crash.
    """
    _database_file(path)
    for suffix in _SQLITE_SIDE_FILES:
        tighten_file(path.with_name(path.name + suffix))
    db = sqlite3.connect(str(path), timeout=timeout, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA trusted_schema = OFF")
        db.execute("PRAGMA cell_size_check = ON")
        db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    except sqlite3.Error:
        db.close()
        raise
    return db


def _database_file(path: Path) -> None:
    """Create database `path` 0600, or make the existing one 0600, WITHOUT opening it when it
    exists: closing any descriptor of a SQLite file drops every lock this process holds on it
    (POSIX record locks), so a connection opened in a second thread would silently lose the
    first one's writes. A symbolic link in its place is refused."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        os.close(os.open(path, flags | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE))
        os.chmod(path, PRIVATE_FILE)  # whatever the umask took away or left
    except FileExistsError:
        if path.is_symlink():
            raise OSError(
                errno.ELOOP, "a symbolic link stands where the database should", str(path)
            ) from None
        _tighten(path, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
            return  # not ours to change: a link someone planted, a file of another user
        if info.st_mode & 0o777 != mode:
            os.chmod(path, mode)
