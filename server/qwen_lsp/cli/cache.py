"""`qwen-lsp cache stats|clear`: the answer cache's size, entries and hit rate, or empty it."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

from qwen_lsp.cache import AnswerCache
from qwen_lsp.cli import EXIT_OK, EXIT_PROBLEM
from qwen_lsp.config import cache_dir, load_settings, project_root
from qwen_lsp.storage import ANSWERS, prepare_cache_root


def run_cache_command(action: str, overrides: dict[str, Any]) -> int:
    """`stats` prints size, entries and hit rate; `clear` empties the answer cache (and
    removes one an earlier version left, unread)."""
    loaded = load_settings(Path.cwd(), roots=(project_root(Path.cwd()),), cli=overrides)
    root = cache_dir(loaded.settings)
    directory = root / ANSWERS
    with contextlib.suppress(OSError):  # the cache below says what is wrong with the folder
        prepare_cache_root(root, default=not loaded.settings.cache.dir)
    cache = AnswerCache(directory, size_limit_mb=loaded.settings.cache.max_size_mb)
    try:
        if action == "clear" and cache.old_format:
            cache.clear()
            if cache.warning:
                print(f"qwen-lsp: {cache.warning}", file=sys.stderr)
                return EXIT_PROBLEM
            print(f"removed the answer cache an earlier version left in {directory}")
            return EXIT_OK
        if cache.warning:
            print(f"qwen-lsp: {cache.warning}", file=sys.stderr)
            return EXIT_PROBLEM
        if action == "clear":
            removed = cache.clear()
            print(f"cleared {removed} cached answers from {directory}")
            return EXIT_OK
        stats = cache.stats()
        print(f"cache:    {directory}")
        print(f"entries:  {stats.entries}")
        print(f"size:     {stats.size_bytes / 1024:.1f} KiB")
        total = stats.hits + stats.misses
        print(f"hits:     {stats.hits} of {total} lookups ({stats.hit_rate:.0%})")
        return EXIT_OK
    finally:
        cache.close()
