"""The answer cache: every model answer kept on disk so the same question is never paid twice.

Keys hash everything that shapes an answer (see `answer_key`). The store is diskcache
(SQLite), safe to share between several editor processes and `--check`. Eviction is
least-recently-*stored*, so a read never turns into a write. A cache that cannot be opened or
written degrades to an in-memory dict with one warning; it never fails a request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qwen_lsp.model import Generation, GenerationRequest, Usage

log = logging.getLogger(__name__)

# Bump when the stored value's shape changes; old entries then simply miss.
CACHE_FORMAT = 1
_STATS_HITS = "__qwen_lsp_stats_hits__"
_STATS_MISSES = "__qwen_lsp_stats_misses__"
_MEMORY_ENTRIES = 2048


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
        self._on_warning = on_warning
        self._disk: Any = None
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._hits = 0
        self._misses = 0
        self._writer: ThreadPoolExecutor | None = None
        if directory is not None:
            self._open(directory, size_limit_mb)

    def _open(self, directory: Path, size_limit_mb: int) -> None:
        import diskcache

        self._size_limit_mb = size_limit_mb
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._disk = diskcache.Cache(
                str(directory),
                size_limit=size_limit_mb * 1024 * 1024,
                eviction_policy="least-recently-stored",
                timeout=2,
            )
        except (OSError, sqlite3.Error) as exc:
            self._degrade(f"cannot open the cache in {directory}: {exc}")

    def _degrade(self, reason: str) -> None:
        if self.warning is None:
            self.warning = f"{reason}; answers are kept in memory only until restart"
            log.warning(self.warning)
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
        if value is None:
            self._misses += 1
            return None
        self._hits += 1
        return _decode(value)

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
            self._open(self.directory, self._size_limit_mb)
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
                stored_hits = int(self._disk.get(_STATS_HITS, 0))
                stored_misses = int(self._disk.get(_STATS_MISSES, 0))
                entries = (
                    len(self._disk) - (_STATS_HITS in self._disk) - (_STATS_MISSES in self._disk)
                )
                size = int(self._disk.volume())
                hits += stored_hits
                misses += stored_misses
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
        removed = len(self._memory)
        self._memory.clear()
        if self._disk is not None:
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
            self._disk.incr(_STATS_HITS, self._hits, default=0)
            self._disk.incr(_STATS_MISSES, self._misses, default=0)
            self._hits = self._misses = 0
        except (OSError, sqlite3.Error) as exc:
            self._degrade(f"cannot write the cache: {exc}")

    def close(self) -> None:
        self.drain()
        self.flush_stats()
        if self._disk is not None:
            self._disk.close()
            self._disk = None


def _encode(generation: Generation) -> dict[str, Any]:
    return {
        "texts": list(generation.texts),
        "usage": [generation.usage.input_tokens, generation.usage.output_tokens],
        "model": generation.model,
    }


def _decode(value: dict[str, Any]) -> Generation:
    input_tokens, output_tokens = value["usage"]
    return Generation(
        texts=tuple(value["texts"]),
        usage=Usage(input_tokens, output_tokens),
        model=value["model"],
    )
