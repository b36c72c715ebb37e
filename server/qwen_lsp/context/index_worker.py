"""The symbol index's work that needs no server: listing a folder and comparing it with the
stored index (`scan_folder`), and reading and parsing files into records (`read_files`),
committed to the folder's database by the worker itself during a build (`read_and_store`).

Both run in worker processes while the server builds (`engine/indexing.py` starts them with
the "spawn" method: a fork of the threaded server could copy a held lock), and in-process for
the CLI and one-file updates. They take and return plain data (paths, stats, rows), so what
crosses between processes is small and nothing of the server is shared. Files are listed and
read only through the folder's door (`context/files.py`), one door per folder and process,
listed once per build so its ignore decisions are taken in one git call; definitions leave
here with the secrets in their texts elided, so the store never holds one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import posixpath
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import pathname2url

from qwen_lsp.context.files import (
    BINARY,
    HEAD_BYTES,
    LARGE,
    NOT_TEXT,
    ReadPolicy,
    Refusal,
    WorkspaceFiles,
    is_generated,
    is_indexable_name,
)
from qwen_lsp.context.imports import (
    TsPaths,
    is_ts_config,
    read_go_module,
    read_imports,
    read_ts_config,
)
from qwen_lsp.context.index_store import Record, StoredFile, imports_json, write_records
from qwen_lsp.context.languages import get_parser, header_language, language_for
from qwen_lsp.context.tags import Definition, definitions
from qwen_lsp.redaction import find_secrets

# Files the door refuses for their content are remembered as skipped, so they are not read
# again until they change; files refused for their path leave the index.
SKIPPED = {LARGE: "large", BINARY: "binary", NOT_TEXT: "binary"}


@dataclass(frozen=True)
class FolderJob:
    """What a worker needs to know of a folder: plain data, sent to another process."""

    root: str
    policy: ReadPolicy  # the door's: `exclude`, and the index's size limit
    max_files: int
    store: str | None  # the database: compared with, and written by `read_and_store`
    build: int = 0  # a new build lists the folder again


@dataclass
class ScanResult:
    """A folder compared with its stored index."""

    found: int = 0  # indexable files kept (at most `max_files`)
    stale: str = ""  # "path\0size\0mtime\0stored digest\0..." of files to read: one string
    stale_count: int = 0
    removed: list[str] = field(default_factory=list)  # stored, no longer found
    reused: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # unchanged files skipped before
    left_out: int = 0  # over `max_files`
    go_modules: dict[str, str] = field(default_factory=dict)
    ts_paths: dict[str, TsPaths] = field(default_factory=dict)  # tsconfig/jsconfig, by folder


StaleFile = tuple[str, int, int, str]  # path, size, mtime_ns, stored digest ("" if none)


def stale_files(encoded: str) -> Iterator[StaleFile]:
    """The files of `ScanResult.stale`, one at a time."""
    # found one by one, not split: a list of every field would be what the string avoids
    start, end = 0, len(encoded)
    while start < end:
        a = encoded.index("\0", start)
        b = encoded.index("\0", a + 1)
        c = encoded.index("\0", b + 1)
        d = encoded.find("\0", c + 1)
        d = end if d < 0 else d
        yield encoded[start:a], int(encoded[a + 1 : b]), int(encoded[b + 1 : c]), encoded[c + 1 : d]
        start = d + 1


def encode_stale(files: Iterable[StaleFile]) -> str:
    return "\0".join(f"{p}\0{s}\0{m}\0{d}" for p, s, m, d in files)


# -- one door per folder and process ----------------------------------------------------------

_DOORS: dict[tuple[str, ReadPolicy], tuple[int, WorkspaceFiles]] = {}


Listed = list[tuple[str, os.stat_result]]


def _door(job: FolderJob, *, listing: bool = False) -> tuple[WorkspaceFiles, Listed]:
    """The folder's door, listed once for this build (the listing takes the ignore decisions
    of every file at once); with `listing`, the files it lists with their stats (a scan),
    taken from `list_ahead` when that listed this folder for this build."""
    key = (job.root, job.policy)
    known = _DOORS.get(key)
    if known is not None and known[0] == job.build and not listing:
        return known[1], []
    ahead = _listed_ahead(job) if listing else None
    if ahead is not None:
        door, listed = ahead
        door.policy = job.policy  # the same exclude: what else it holds is not the listing's
    else:
        door = WorkspaceFiles(Path(job.root), job.policy)
        listed = door.list_stats(["."])
    _DOORS.clear()  # one folder's door at a time: a worker serves one build
    _DOORS[key] = (job.build, door)
    return door, listed


# -- listing ahead -----------------------------------------------------------------------------

# Seconds a listing made ahead stays usable: a file created after it is found only by a later
# event, as one created during any scan would be; the server takes about one to start.
AHEAD_FRESH = 10.0
_AHEAD: dict[str, tuple[float, WorkspaceFiles, Listed]] = {}


def list_ahead(root: str) -> int:
    """List the folder `root` while the server loads, before its settings are read
    (`engine/workers.start_index_workers`); the first scan of that folder in this process
    takes the listing, if its `exclude` is none (the only setting a listing depends on) and
    it comes within `AHEAD_FRESH` seconds. The number of files listed."""
    door = WorkspaceFiles(Path(root), ReadPolicy())
    listed = door.list_stats(["."])
    _AHEAD.clear()
    _AHEAD[root] = (time.monotonic(), door, listed)
    return len(listed)


def _listed_ahead(job: FolderJob) -> tuple[WorkspaceFiles, Listed] | None:
    found = _AHEAD.pop(job.root, None)
    if found is None:
        return None
    at, door, listed = found
    if job.policy.exclude != door.policy.exclude or time.monotonic() - at > AHEAD_FRESH:
        return None
    return door, listed


# -- scanning ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16_384)
def _indexable_name(name: str) -> bool:
    """`is_indexable_name` by file name (what it depends on): a monorepo repeats names."""
    return is_indexable_name(name)


def scan_folder(
    job: FolderJob,
    stored: Iterable[StoredFile] | None = None,
    door: WorkspaceFiles | None = None,
) -> ScanResult:
    """List the folder's indexable files, stat them, and compare them with the stored index
    (`stored`, else read from `job.store`): the files to read, the files gone."""
    if door is None:
        door, listed = _door(job, listing=True)
    else:
        listed = door.list_stats(["."])
    result = ScanResult()
    wanted = []
    for path, info in listed:
        if path == "go.mod" or path.endswith("/go.mod"):
            module = door.read(path)
            name = read_go_module(module) if isinstance(module, str) else None
            if name:
                result.go_modules[name] = posixpath.dirname(path)
        elif is_ts_config(path):
            config = read_ts_config(path, lambda p: _text_through(door, p))
            if config is not None:
                result.ts_paths[posixpath.dirname(path)] = config
        elif _indexable_name(path.rpartition("/")[2]):
            wanted.append((path, info.st_size, info.st_mtime_ns))  # the listing's stat
    del listed
    if len(wanted) > job.max_files:
        # over the limit, files nearer the root are kept: they are the project's own code
        wanted.sort(key=lambda f: (f[0].count("/"), f[0]))
        result.left_out = len(wanted) - job.max_files
        del wanted[job.max_files :]
    on_disk = {path: (size, mtime) for path, size, mtime in wanted}
    del wanted
    result.found = len(on_disk)
    known: dict[str, str] = {}  # stored digest of files whose stat changed
    skipped = result.skipped
    with _stored(job, stored) as rows:
        for path, language, size, mtime, digest, skip in rows:
            stat = on_disk.get(path)
            if stat is None:
                result.removed.append(path)
            elif stat == (size, mtime) and mtime != -1:
                del on_disk[path]
                result.reused += 1
                if skip:
                    skipped[skip] = skipped.get(skip, 0) + 1
            elif language:
                known[path] = digest
    ordered = sorted(on_disk, key=lambda p: (p.count("/"), p))
    result.stale_count = len(ordered)
    result.stale = encode_stale((p, *on_disk[p], known.get(p, "")) for p in ordered)
    return result


@contextlib.contextmanager
def _stored(job: FolderJob, stored: Iterable[StoredFile] | None) -> Iterator[Iterable[StoredFile]]:
    if stored is not None:
        yield stored
        return
    if job.store is None or not os.path.exists(job.store):
        yield ()
        return
    db = sqlite3.connect(f"file:{pathname2url(job.store)}?mode=ro", uri=True)
    try:
        db.execute("PRAGMA trusted_schema = OFF")
        cursor = db.execute("SELECT path, language, size, mtime_ns, digest, skipped FROM files")
        yield cursor  # rows in `StoredFile`'s order
    finally:
        db.close()


# -- reading -------------------------------------------------------------------------------


def read_files(job: FolderJob, files: Sequence[StaleFile]) -> list[Record]:
    """Read and parse `files` through the folder's door (a worker's task)."""
    yield_cpu()
    door, _ = _door(job)
    return [read_file(door, *file) for file in files]


def read_and_store(job: FolderJob, files: Sequence[StaleFile]) -> list[str]:
    """Read and parse `files`, and commit their records to the folder's database from this
    worker (a build's task); what crosses back is each file's outcome, for the summary."""
    records = read_files(job, files)
    if job.store is None:
        raise ValueError("a build's job names its database")
    write_records(job.store, records)
    return [record.outcome for record in records]


def read_file(
    door: WorkspaceFiles,
    path: str,
    size: int,
    mtime: int,
    digest: str,
    *,
    max_bytes: int | None = None,
) -> Record:
    """One file as the index keeps it; `digest` is the stored one, to tell a file only
    touched from one changed. `max_bytes`: the index's own limit, when the door's is
    another (a larger file is not read)."""
    if max_bytes is not None and size > max_bytes:
        return Record("large", path, size, mtime)
    got = door.read_bytes(path)
    if isinstance(got, Refusal):
        reason = SKIPPED.get(got.kind)
        if reason is None:
            return Record("", path, size, mtime)  # gone, or refused for its path
        return Record(reason, path, size, mtime)
    if is_generated(got.data[:HEAD_BYTES]):
        return Record("generated", path, size, mtime)
    new_digest = content_digest(got.data)
    if digest and new_digest == digest:
        return Record("unchanged", path, size, mtime)
    return parse(path, got.data, size=size, mtime_ns=mtime, digest=new_digest)


def _text_through(door: WorkspaceFiles, path: str) -> str | None:
    """A workspace file's text through the door (no link out, capped), or None."""
    text = door.read(path)
    return text if isinstance(text, str) else None


def parse(path: str, data: bytes, *, size: int, mtime_ns: int, digest: str = "") -> Record:
    """The record of a file's content (from the disk, or an editor's text)."""
    language = header_language(path, data) or language_for(None, path) or ""
    parser = get_parser(language)
    defs: list[Definition] = []
    imports = []
    if parser is not None:
        tree = parser.parse(data)
        defs = definitions(tree, data, language)
        imports = read_imports(tree, data, language)
    return Record(
        "parsed",
        path,
        size,
        mtime_ns,
        digest or content_digest(data),
        language,
        definition_rows(defs),
        imports_json(imports),
    )


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def definition_rows(defs: Sequence[Definition]) -> tuple[tuple, ...]:
    """Definitions as stored: the texts that can hold a value (`API_KEY = "sk-..."` is a
    constant's signature) with their secrets elided. The texts of a file are searched
    together, one line each (a third of the cost of one search per text); a secret found
    across two of them elides its part of each."""
    texts = [text for d in defs for text in (d.signature, d.doc, d.scope_header)]
    redacted = elide_secrets(texts)
    rows = []
    for i, d in enumerate(defs):
        signature, doc, header = redacted[3 * i : 3 * i + 3]
        rows.append((d.name, d.kind, d.line, d.end_line, d.indent, signature, doc, d.scope))
        rows[-1] += (header, d.tokens)
    return tuple(rows)


# What stands for a secret in the stored index. Not a request placeholder: stored text comes
# back in later prompts, and an answer must never copy a placeholder into the user's code; an
# elision, as in a stub file, reads as "the value is left out".
ELIDED = "..."


def elide_secrets(texts: Sequence[str]) -> list[str]:
    """`texts` with each secret `redaction.find_secrets` finds in them replaced by `ELIDED`."""
    joined = "\n".join(texts)
    secrets = [(s.start, s.end) for s in find_secrets(joined)] if joined.strip() else []
    if not secrets:
        return list(texts)
    out = []
    offset = 0
    for text in texts:
        end = offset + len(text)
        spans = [(max(a, offset), min(b, end)) for a, b in secrets if a < end and b > offset]
        if spans:
            parts, last = [], offset
            for a, b in sorted(spans):
                if a >= last:
                    parts.append(joined[last:a])
                    parts.append(ELIDED)
                last = max(last, b)
            parts.append(joined[last:end])
            text = "".join(parts)
        out.append(text)
        offset = end + 1
    return out


_NICE = 10
_yielding: list[bool] = []  # set once this process has lowered its priority


def yield_cpu() -> None:
    """From now on this process yields the CPU to the server (and the editor), so reading
    files never slows a request: at a worker's first read, or at its start for a build that
    is not the session's first (`engine/workers.start_index_workers`). A process cannot
    take it back."""
    if _yielding:
        return
    _yielding.append(True)
    with contextlib.suppress(OSError, AttributeError):
        os.nice(_NICE)
