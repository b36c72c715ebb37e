"""A cache database someone else wrote (committed in a repository, a setting pointing at it)
runs nothing when read: answers are JSON text, and an earlier version's pickles are left
unread, with one message saying how to remove them."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from qwen_lsp.cache import AnswerCache
from qwen_lsp.model import Generation, Usage
from tests.fakes.planted_cache import plant_new_format, plant_old_format

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

ANSWER = Generation(texts=("a + b",), usage=Usage(12, 3), model="m")
KEY = "0" * 64


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()


def test_the_planted_database_is_a_real_attack_on_what_earlier_versions_ran(tmp_path: Path):
    import diskcache  # a dev dependency: the proof that the planted payload really runs

    marker = tmp_path / "ran"
    directory = tmp_path / "answers"
    plant_old_format(directory, marker, keys=[KEY])
    with diskcache.Cache(str(directory)) as cache:
        cache.get("__qwen_lsp_stats_hits__", 0)  # what `qwen-lsp cache stats` did
    assert marker.exists()


def test_an_old_format_cache_is_never_read_and_the_user_is_told_once(tmp_path: Path):
    marker = tmp_path / "ran"
    directory = tmp_path / "answers"
    database = plant_old_format(directory, marker, keys=[KEY])
    before = digest(database)
    told: list[str] = []
    cache = AnswerCache(directory, on_warning=told.append)
    assert cache.get(KEY) is None
    cache.stats()
    cache.set("other", ANSWER)
    assert cache.get("other") == ANSWER  # kept in memory meanwhile
    cache.flush_stats()
    cache.close()
    assert not marker.exists()
    assert len(told) == 1
    assert "earlier qwen-lsp" in told[0] and "`qwen-lsp cache clear` removes it" in told[0]
    assert digest(database) == before  # left as it was: nothing written into it


def test_clearing_removes_an_old_format_cache_unread_and_starts_a_new_one(tmp_path: Path):
    marker = tmp_path / "ran"
    directory = tmp_path / "answers"
    database = plant_old_format(directory, marker, keys=[KEY])
    value_file = directory / "ab" / "cd" / ("0" * 28 + ".val")  # a large value, kept aside
    value_file.parent.mkdir(parents=True)
    value_file.write_bytes(b"pickle")
    cache = AnswerCache(directory)
    assert cache.clear() == 0
    assert not cache.degraded and cache.warning is None
    cache.set(KEY, ANSWER)
    cache.close()
    assert not marker.exists() and not (directory / "ab").exists()
    assert tables(database) == {"answers", "counters"}
    again = AnswerCache(directory, on_warning=pytest.fail)
    assert again.get(KEY) == ANSWER


def test_a_planted_database_in_todays_format_gives_only_misses(tmp_path: Path):
    marker = tmp_path / "ran"
    directory = tmp_path / "answers"
    plant_new_format(directory, marker, keys=[KEY])
    cache = AnswerCache(directory, on_warning=pytest.fail)
    assert cache.get(KEY) is None  # a pickle where JSON belongs: a miss, never loaded
    stats = cache.stats()
    assert (stats.entries, stats.hits, stats.misses) == (1, 0, 1)
    cache.set(KEY, ANSWER)  # the next answer replaces it
    assert AnswerCache(directory).get(KEY) == ANSWER
    assert cache.clear() == 1
    cache.close()
    assert not marker.exists()


@pytest.mark.parametrize(
    "value",
    [
        '"just a string"',
        '{"texts": "not a list", "usage": [1, 2], "model": "m"}',
        '{"texts": ["x"], "usage": [1], "model": "m"}',
        '{"texts": ["x"], "usage": [1, -2], "model": "m"}',
        '{"texts": [1], "usage": [1, 2], "model": "m"}',
        "not json at all",
    ],
)
def test_a_stored_value_of_the_wrong_shape_is_a_miss(tmp_path: Path, value: str):
    directory = tmp_path / "answers"
    AnswerCache(directory).close()
    db = sqlite3.connect(directory / "cache.db")
    db.execute("INSERT INTO answers VALUES (?, ?, 1, 0)", (KEY, value))
    db.commit()
    db.close()
    assert AnswerCache(directory).get(KEY) is None


def test_the_cache_keeps_to_its_size_limit_dropping_the_oldest(tmp_path: Path):
    cache = AnswerCache(tmp_path / "answers", size_limit_mb=1)
    big = Generation(texts=("x" * 100_000,), usage=Usage(1, 1), model="m")
    for n in range(30):  # about 3 MB written into a 1 MB cache
        cache.set(f"{n:064d}", big)
    cache.close()
    again = AnswerCache(tmp_path / "answers", size_limit_mb=1)
    kept = [n for n in range(30) if again.get(f"{n:064d}") is not None]
    assert 5 <= len(kept) <= 10
    assert kept == list(range(30 - len(kept), 30))  # the newest survive
