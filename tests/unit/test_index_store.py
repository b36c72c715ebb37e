"""The symbol index's SQLite store and its build in worker processes: what is stored comes
back, freshness is by stat, one changed file is one file read, the limits leave files out
and say so once, a build in spawned workers gives the same index as one in-process, and
what the server derives from the index is not remade for every batch a build commits."""

from __future__ import annotations

import asyncio
import os
import stat
from dataclasses import replace
from pathlib import Path

from qwen_lsp.context import index_store as index_store_module
from qwen_lsp.context import index_worker as index_worker_module
from qwen_lsp.context.files import ReadPolicy
from qwen_lsp.context.imports import ImportRef
from qwen_lsp.context.index import LOOKUP_LIMIT, IndexPolicy, RefreshSummary
from qwen_lsp.context.index_store import (
    SETTLE_SECONDS,
    IndexStore,
    Record,
    imports_json,
    write_records,
)
from qwen_lsp.context.index_worker import (
    FolderJob,
    encode_stale,
    list_ahead,
    parse,
    scan_folder,
    stale_files,
)
from qwen_lsp.engine.indexing import build_indexes
from qwen_lsp.engine.workers import start_index_workers
from tests.unit.test_context_index import build, git_repo, module, new_index


def test_records_come_back_from_the_store(tmp_path: Path):
    store = IndexStore(tmp_path / "index", tmp_path / "repo", "queries")
    imports = imports_json([ImportRef("..core", (("Thing", "Other"),), "", 3)])
    definition = ("area", "function", 4, 9, "", "def area(r) -> float:", "Area.", "", "", 12)
    store.put(
        [
            Record("parsed", "pkg/geo/shapes.py", 10, 20, "d1", "python", (definition,), imports),
            Record("parsed", "pkg/geo/__init__.py", 1, 2, "d2", "python"),
            Record("large", "pkg/data.py", 10**7, 3),
        ]
    )
    store.set_go_modules({"example.com/m": "go"})
    [(path, found)] = store.named("area", 10)
    assert path == "pkg/geo/shapes.py" and found.signature == "def area(r) -> float:"
    assert found.line == 4 and found.end_line == 9 and found.tokens == 12
    [imported] = store.imports("pkg/geo/shapes.py")
    assert imported == ImportRef("..core", (("Thing", "Other"),), "", 3)
    assert store.files_in("pkg/geo") == ["pkg/geo/shapes.py", "pkg/geo/__init__.py"]
    assert store.ending_with("geo/shapes.py") == ["pkg/geo/shapes.py"]
    assert store.ending_with("o/shapes.py") == []  # whole path parts only
    assert store.folders_ending_with("geo") == ["pkg/geo"]
    assert not store.has("pkg/data.py") and store.file("pkg/data.py").skipped == "large"
    assert store.go_modules() == {"example.com/m": "go"}
    store.close()

    again = IndexStore(tmp_path / "index", tmp_path / "repo", "queries")
    assert again.reused and again.count() == 2
    other = IndexStore(tmp_path / "index", tmp_path / "repo", "other queries")
    assert not other.reused and other.count() == 0  # built with other queries: started again


def test_the_stale_list_crosses_as_one_string():
    files = [("a b/ç.py", 10, 20, ""), ("x.py", 0, -1, "abc")]
    assert list(stale_files(encode_stale(files))) == files
    assert list(stale_files("")) == []


def test_a_restart_costs_a_stat_per_file_and_one_change_one_read(tmp_path: Path):
    root = git_repo(tmp_path / "repo", {f"m{i}.py": module(f"f{i}") for i in range(30)})
    store = tmp_path / "index"
    build(new_index(root, store)).close()
    restarted = new_index(root, store)
    scan = restarted.scan()
    assert (scan.found, scan.reused, scan.stale_count) == (30, 30, 0)  # nothing to read

    kept = {p: restarted.store.definitions_of(p) for p in ("m1.py", "m2.py")}
    before = restarted.store.reader.execute("SELECT max(rowid) FROM defs").fetchone()[0]
    (root / "m7.py").write_text(module("changed7"), encoding="utf-8")
    assert restarted.update_from_disk("m7.py") == 1
    query = "SELECT rowid, name FROM defs WHERE rowid > ?"
    after = restarted.store.reader.execute(query, (before,))
    assert [name for _, name in after] == ["changed7"]  # one file written again, no other
    assert {p: restarted.store.definitions_of(p) for p in kept} == kept
    build(restarted)
    assert (restarted.summary.parsed, restarted.summary.reused) == (0, 30)


def test_a_lookup_of_a_common_name_is_bounded_and_keeps_the_nearest(tmp_path: Path):
    count = LOOKUP_LIMIT + 20
    files = {f"pkg{i:03}/mod.py": module("get") for i in range(count)}
    index = build(new_index(git_repo(tmp_path / "repo", files), tmp_path / "index"))
    last = f"pkg{count - 1:03}/mod.py"
    first = index.lookup("get")
    assert len(first) == LOOKUP_LIMIT and last not in [p for p, _ in first]
    near = index.lookup("get", near=f"pkg{count - 1:03}/caller.py")
    assert len(near) == LOOKUP_LIMIT and last in [p for p, _ in near]


def test_the_time_limit_leaves_files_for_the_next_build(tmp_path: Path):
    root = git_repo(tmp_path / "repo", {f"m{i}.py": module(f"f{i}") for i in range(5)})
    index = new_index(root, tmp_path / "index")
    index.policy = IndexPolicy(time_limit=0)
    build(index)
    assert index.summary.timed_out == 5 and "5 not read within" in index.summary.describe()
    index.policy = IndexPolicy()
    build(index)
    assert index.summary.parsed == 5 and index.lookup("f4")


def test_large_files_stay_out_at_the_index_limit(tmp_path: Path):
    root = git_repo(tmp_path / "repo", {"small.py": module("small"), "big.py": module("big")})
    index = new_index(root, tmp_path / "index")
    index.policy = IndexPolicy(max_file_bytes=len(module("big")))
    build(index)
    assert index.summary.skipped == {"large": 1}
    assert index.lookup("big") and not index.lookup("small")


class Runtime:
    """What `build_indexes` uses of the engine's runtime: nothing but the indexes given."""


def test_a_build_in_worker_processes_reports_files_done_of_found_and_tells_once(
    tmp_path: Path,
):
    files = {f"pkg/m{i}.py": module(f"f{i}") for i in range(100)}
    files.update({f"pkg/deeper/n{i}.py": module(f"g{i}") for i in range(20)})
    files["go.mod"] = "module example.com/m\n"
    root = git_repo(tmp_path / "repo", files)
    index = new_index(root, tmp_path / "index")
    index.policy = IndexPolicy(max_files=100)
    progress: list[str] = []
    notices: list[str] = []

    def run() -> list[str]:
        return asyncio.run(
            build_indexes(Runtime(), [index], lambda m, p: progress.append(m), notices.append)
        )

    [summary] = run()
    assert "100 files, 100 read" in summary and "20 over context.maxFiles" in summary
    assert progress[-1] == "repo: 100 of 100 files" and progress[0].endswith("of 100 files")
    assert index.lookup("f99") and not index.lookup("g5")  # the root's nearest files first
    assert index.go_modules() == {"example.com/m": ""}
    assert len(notices) == 1 and "20 files over context.maxFiles (100)" in notices[0]

    assert index.definitions_in("pkg/m3.py", "renamed3") == []  # remembered until a change
    (root / "pkg/m3.py").write_text(module("renamed3"), encoding="utf-8")
    [summary] = run()
    assert "1 read, 99 unchanged" in summary
    assert index.lookup("renamed3") and not index.lookup("f3")
    # the workers committed the change: what the server remembered of the file is dropped
    assert index.definitions_in("pkg/m3.py", "renamed3")
    assert len(notices) == 1  # said once


def test_the_database_is_private_whatever_the_umask(tmp_path: Path):
    root = git_repo(tmp_path / "repo", {"a.py": module("a")})
    old = os.umask(0)
    try:
        index = build(new_index(root, tmp_path / "cache" / "index"))
        index.update_text("a.py", module("typed"))
    finally:
        os.umask(old)
    made = list((tmp_path / "cache").rglob("*"))
    assert any(p.name.endswith(".sqlite-wal") for p in made)
    for path in [tmp_path / "cache", *made]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_without_a_store_folder_the_database_is_temporary(tmp_path: Path):
    root = git_repo(tmp_path / "repo", {"a.py": module("a")})
    index = build(new_index(root, None))
    folder = index.store.path.parent
    assert index.lookup("a") and stat.S_IMODE(folder.stat().st_mode) == 0o700
    index.close()
    assert not folder.exists()


def test_scan_in_process_and_in_a_worker_agree(tmp_path: Path):
    root = git_repo(tmp_path / "repo", {f"m{i}.py": module(f"f{i}") for i in range(3)})
    index = build(new_index(root, tmp_path / "index"))
    (root / "m1.py").write_text(module("other"), encoding="utf-8")
    in_process = index.scan()
    worker_side = scan_folder(index.job(build=99))  # reads the database itself, read-only
    assert worker_side.stale == in_process.stale and "m1.py" in worker_side.stale
    assert (worker_side.found, worker_side.reused) == (3, 2)


def _priority_after(steps: list[str], root: str) -> int:
    """In a worker process: its priority after `steps` ("scan", "read")."""
    from qwen_lsp.context.files import ReadPolicy
    from qwen_lsp.context.index_worker import FolderJob, read_files

    job = FolderJob(root, ReadPolicy(), 100, None, 1)
    for step in steps:
        if step == "scan":
            scan_folder(job)
        else:
            read_files(job, [("m0.py", 1, 1, "")])
    return os.getpriority(os.PRIO_PROCESS, 0)


def test_the_first_build_scans_at_the_servers_priority_and_every_read_is_below_it(tmp_path: Path):
    import concurrent.futures
    import multiprocessing

    root = git_repo(tmp_path / "repo", {"m0.py": module("f0")})
    server = os.getpriority(os.PRIO_PROCESS, 0)
    with start_index_workers(at_start=True) as pool:  # the session's first build
        # a restart's scan is not left behind every other process of a busy machine
        assert pool.submit(_priority_after, ["scan"], str(root)).result() == server
    with start_index_workers() as pool:  # a checkout's build: the user is typing
        assert pool.submit(_priority_after, ["scan"], str(root)).result() == min(server + 10, 19)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        steps = ["scan", "read", "read"]
        lowered = pool.submit(_priority_after, steps, str(root)).result()
        assert lowered == min(server + 10, 19)  # lowered once, however many reads


def test_while_a_build_writes_what_a_prompt_derived_is_made_again_once_a_second(
    tmp_path: Path, monkeypatch
):
    # A build's workers commit a batch every few milliseconds; remaking import scopes and
    # lookups for each would make every completion during a build pay for it. What the
    # server derived stays at most `SETTLE_SECONDS` old while a build writes, and the
    # build's end (or the server's own write of an edited file) shows everything at once.
    root = git_repo(tmp_path / "repo", {"a.py": module("alpha"), "b.py": module("beta")})
    index = build(new_index(root, tmp_path / "index"))
    clock = [1000.0]
    monkeypatch.setattr(index_store_module.time, "monotonic", lambda: clock[0])
    summary = RefreshSummary()

    def worker_writes(name: str, *functions: str) -> None:
        text = "".join(module(f) for f in functions).encode()
        write_records(str(index.store.path), [parse(name, text, size=len(text), mtime_ns=1)])
        index.committed_by_worker(["parsed"], summary)

    assert index.definitions_in("a.py", "gamma") == []  # asked, and remembered
    worker_writes("a.py", "alpha", "gamma")
    assert index.definitions_in("a.py", "gamma")  # the build's first batch: seen at once
    assert index.definitions_in("a.py", "delta") == []
    clock[0] += 0.4
    worker_writes("a.py", "alpha", "gamma", "delta")
    assert index.definitions_in("a.py", "delta") == []  # within the second: not remade
    clock[0] += SETTLE_SECONDS
    worker_writes("b.py", "beta")
    assert index.definitions_in("a.py", "delta")  # a second on, the next batch remakes it
    assert index.definitions_in("a.py", "omega") == []
    clock[0] += 0.1
    worker_writes("a.py", "alpha", "omega")
    assert index.definitions_in("a.py", "omega") == []
    index.finish(summary)  # the build ended: all it wrote is seen
    assert index.definitions_in("a.py", "omega")
    assert index.definitions_in("b.py", "zeta") == []
    clock[0] += 0.1
    index.commit([parse("b.py", module("zeta").encode(), size=1, mtime_ns=2)])
    assert index.definitions_in("b.py", "zeta")  # the server's own write: seen at once


def test_a_listing_made_ahead_is_taken_by_the_first_scan_of_that_folder(
    tmp_path: Path, monkeypatch
):
    # `list_ahead` lists the folder while the server loads; the worker's first scan of the
    # same folder takes that listing (a file made since is not in it, as with any scan taken
    # a moment earlier), once, only with no `exclude`, and only while it is fresh.
    root = git_repo(tmp_path / "repo", {"a.py": module("alpha")})
    job = FolderJob(str(root.resolve()), ReadPolicy(max_file_size=10_000), 100, None, build=1)
    assert list_ahead(job.root) == 1
    (root / "b.py").write_text(module("beta"), encoding="utf-8")
    assert scan_folder(job).found == 1  # the listing made ahead
    assert scan_folder(replace(job, build=2)).found == 2  # taken once

    list_ahead(job.root)
    (root / "c.py").write_text(module("gamma"), encoding="utf-8")
    excluding = replace(job, policy=ReadPolicy(exclude=("vendor/*",)), build=3)
    assert scan_folder(excluding).found == 3  # another exclude: listed again

    list_ahead(job.root)
    (root / "d.py").write_text(module("delta"), encoding="utf-8")
    later = index_worker_module.time.monotonic() + index_worker_module.AHEAD_FRESH + 1
    monkeypatch.setattr(index_worker_module.time, "monotonic", lambda: later)
    assert scan_folder(replace(job, build=4)).found == 4  # too old: listed again
