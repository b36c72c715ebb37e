"""The symbol index's worker processes: how many, and how they start.

Standard library only: the server starts them before it loads anything else (`cli/main.py`),
so their start overlaps its own.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import multiprocessing
import os
from pathlib import Path

WORKER_MODULE = "qwen_lsp.context.index_worker"


def worker_count() -> int:
    """Index workers: one per core. They read at a lower priority (`yield_cpu`), so a
    request the server answers takes a core from them at once; leaving a core idle instead
    would double a cold build on a 2-core machine for nothing."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores)


def start_index_workers(*, at_start: bool = False) -> concurrent.futures.ProcessPoolExecutor:
    """The worker processes of the next build, started now (the first build's as the server
    process starts); `build_indexes` stops them when it is done. Each imports the worker's
    module as it starts, not at its first task.
    `at_start`: the session's first build, whose scan keeps the server's priority (a
    restart waits for nothing else, and a busy machine would leave it behind); a later
    build (a checkout, changed settings) yields the CPU from its start, scan included,
    since the user is typing meanwhile."""
    pool = _pool(at_start)
    pool.submit(os.getpid)  # one process starts now, not at the scan (the rest as work comes)
    return pool


def start_listing(
    folder: Path,
) -> tuple[concurrent.futures.ProcessPoolExecutor, dict[str, concurrent.futures.Future[int]]]:
    """The first build's workers, when the editor named the workspace `folder` before the
    server has loaded: the first worker's first task lists the folder meanwhile
    (`index_worker.list_ahead`), and the first build gives that folder's scan to it once it
    is done (`build_indexes(listed_ahead=...)`), which maps the folder, resolved, to it."""
    pool = _pool(at_start=True)
    root = str(folder.resolve())
    return pool, {root: pool.submit(_call, WORKER_MODULE, "list_ahead", root)}


def _pool(at_start: bool) -> concurrent.futures.ProcessPoolExecutor:
    if at_start:
        initializer, args = importlib.import_module, (WORKER_MODULE,)
    else:
        from qwen_lsp.context.index_worker import yield_cpu

        initializer, args = yield_cpu, ()
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=worker_count(),
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded server
        initializer=initializer,
        initargs=args,
    )


def _call(module: str, name: str, *args: object) -> object:
    """`module.name(*args)`, named so: the server need not import the worker's module to
    send it a task."""
    return getattr(importlib.import_module(module), name)(*args)
