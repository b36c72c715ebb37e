"""The answer cache: survives restarts, keys on what shapes answers, degrades, never fails."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from qwen_lsp.cache import AnswerCache, answer_key
from qwen_lsp.model import Generation, GenerationRequest, Usage

ANSWER = Generation(texts=("a + b",), usage=Usage(12, 3), model="m")


def key_for(**changes) -> str:
    fields = {
        "provider": "dashscope",
        "base_url": "http://x/api/v1",
        "mode": "fim",
        "template_version": "t1",
        "request": GenerationRequest(model="m", prompt="p", max_tokens=64, temperature=0.2),
    }
    fields.update(changes)
    return answer_key(**fields)


def test_key_changes_with_everything_that_shapes_the_answer():
    base = key_for()
    assert key_for() == base
    variants = [
        key_for(provider="openai"),
        key_for(base_url="http://y/api/v1"),
        key_for(mode="chat"),
        key_for(template_version="t2"),
        key_for(request=GenerationRequest(model="m2", prompt="p", max_tokens=64)),
        key_for(request=GenerationRequest(model="m", prompt="q", max_tokens=64)),
        key_for(request=GenerationRequest(model="m", prompt="p", max_tokens=65)),
        key_for(request=GenerationRequest(model="m", prompt="p", max_tokens=64, temperature=0.9)),
    ]
    assert base not in variants and len(set(variants)) == len(variants)


def test_an_answer_survives_a_restart(tmp_path: Path):
    cache = AnswerCache(tmp_path / "answers")
    cache.set("k", ANSWER, background=True)
    cache.close()
    again = AnswerCache(tmp_path / "answers")
    assert again.get("k") == ANSWER
    assert again.get("other") is None
    stats = again.stats()
    assert (stats.entries, stats.hits, stats.misses) == (1, 1, 1)
    again.close()
    assert AnswerCache(tmp_path / "answers").stats().hits == 1  # counts are kept on disk


def test_clear_empties_it(tmp_path: Path):
    cache = AnswerCache(tmp_path / "answers")
    cache.set("k", ANSWER)
    assert cache.clear() >= 1
    assert cache.get("k") is None
    assert cache.stats().entries == 0


def test_a_damaged_database_degrades_to_memory_with_one_warning(tmp_path: Path):
    directory = tmp_path / "answers"
    directory.mkdir()
    (directory / "cache.db").write_bytes(b"this is not a sqlite database" * 100)
    cache = AnswerCache(directory)
    assert cache.degraded
    assert "memory" in (cache.warning or "")
    cache.set("k", ANSWER)
    assert cache.get("k") == ANSWER


def test_a_folder_that_is_a_file_degrades_to_memory(tmp_path: Path):
    blocker = tmp_path / "answers"
    blocker.write_text("a file where the cache folder should be")
    cache = AnswerCache(blocker)
    assert cache.degraded and cache.warning
    cache.set("k", ANSWER)
    assert cache.get("k") == ANSWER


_WRITER = """
import sys
from pathlib import Path
from qwen_lsp.cache import AnswerCache
from qwen_lsp.model import Generation, Usage
cache = AnswerCache(Path(sys.argv[1]))
for i in range(200):
    cache.set(f"{sys.argv[2]}-{i}", Generation((f"answer {i}",), Usage(i, i), "m"), background=True)
cache.close()
"""


def test_several_processes_share_one_cache_and_lose_nothing(tmp_path: Path):
    directory = tmp_path / "answers"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(directory), name])
        for name in ("editor-a", "editor-b", "check")
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0]
    cache = AnswerCache(directory)
    for name in ("editor-a", "editor-b", "check"):
        for i in range(200):
            assert cache.get(f"{name}-{i}") == Generation((f"answer {i}",), Usage(i, i), "m")
    assert cache.stats().entries == 600


def test_a_folder_deleted_while_running_is_made_again_and_nothing_is_lost_after(tmp_path):
    import shutil

    directory = tmp_path / "answers"
    cache = AnswerCache(directory)
    cache.set("before", ANSWER)
    shutil.rmtree(directory)
    cache.set("after", ANSWER)
    assert cache.get("before") == ANSWER  # still in memory
    cache.close()
    assert AnswerCache(directory).get("after") == ANSWER


class _FullDisk:
    """A diskcache stand-in whose writes fail as SQLite does on a full disk."""

    def set(self, key, value):
        raise sqlite3.OperationalError("database or disk is full")

    def get(self, key, default=None):
        return default

    def close(self):
        pass


def test_a_full_disk_degrades_to_memory_with_one_warning(tmp_path: Path):
    cache = AnswerCache(tmp_path / "answers")
    cache._disk = _FullDisk()  # the disk fills up while the server runs
    cache.set("k", ANSWER)
    cache.set("k2", ANSWER)
    assert cache.degraded and "disk is full" in cache.warning
    assert cache.get("k") == ANSWER and cache.get("k2") == ANSWER


def test_clear_waits_for_answers_still_being_written(tmp_path):
    cache = AnswerCache(tmp_path / "answers", size_limit_mb=8)
    for n in range(200):  # enough queued writes that some are still pending at the clear
        cache.set(f"key-{n}", Generation(texts=(f"answer {n}",)), background=True)
    cache.clear()
    cache.drain()
    assert all(cache.get(f"key-{n}") is None for n in range(200))
    cache.close()
