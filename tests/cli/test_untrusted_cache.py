"""A cache folder someone else filled (committed in a repository, `QWEN_LSP_CACHE_DIR` or a
setting pointing at it) runs nothing: not in `qwen-lsp cache stats|clear`, not in `--check`.
The real CLI as a process; payloads are pickles whose loading creates a marker file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_lsp.cli import EXIT_PROBLEM
from tests.cli.helpers import APP, answer, check_env, finding, run_check
from tests.e2e.harness import clean_env
from tests.fakes.planted_cache import plant_new_format, plant_old_format

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

HINT = "`qwen-lsp cache clear` removes it"


def cache_command(home: Path, cache: Path, action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "cache", action],
        cwd=home,
        env=clean_env(home, QWEN_LSP_CACHE_DIR=str(cache)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cache_stats_on_a_planted_cache_runs_nothing_and_clear_removes_it(tmp_path: Path):
    marker = tmp_path / "ran"
    cache = tmp_path / "repo" / ".cache"
    plant_old_format(cache / "answers", marker)

    stats = cache_command(tmp_path, cache, "stats")
    assert not marker.exists()
    assert stats.returncode == EXIT_PROBLEM and stats.stderr.count(HINT) == 1, stats.stderr

    cleared = cache_command(tmp_path, cache, "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert "removed the answer cache an earlier version left" in cleared.stdout
    stats = cache_command(tmp_path, cache, "stats")
    assert stats.returncode == 0 and "entries:  0" in stats.stdout, stats.stderr
    assert not marker.exists()


def answer_keys(cache: Path) -> list[str]:
    db = sqlite3.connect(cache / "answers" / "cache.db")
    try:
        return [row[0] for row in db.execute("SELECT key FROM answers")]
    finally:
        db.close()


@pytest.mark.parametrize("plant", [plant_old_format, plant_new_format])
def test_check_on_a_planted_cache_runs_nothing_and_reviews_as_usual(
    tmp_path: Path, fake_llm, plant
):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "app.py").write_text(APP, encoding="utf-8")
    fake_llm.reply(answer(finding(5, 6)))
    # The attacker runs qwen-lsp on the repository first to learn the keys it will look up.
    honest = tmp_path / "honest-cache"
    first = run_check(
        project,
        fake_llm,
        "--format",
        "json",
        env=check_env(tmp_path, fake_llm, QWEN_LSP_CACHE_DIR=str(honest)),
    )
    keys = answer_keys(honest)
    assert keys and first.json()["findings"]

    marker = tmp_path / "ran"
    planted = project / ".cache"
    plant(planted / "answers", marker, keys=keys)
    calls = len(fake_llm.requests)
    result = run_check(
        project,
        fake_llm,
        "--format",
        "json",
        env=check_env(tmp_path, fake_llm, QWEN_LSP_CACHE_DIR=str(planted)),
    )
    assert not marker.exists()
    assert result.json()["findings"] == first.json()["findings"]
    assert len(fake_llm.requests) - calls == len(keys)  # every planted answer was a miss
    told = result.stderr.count(HINT)
    assert told == (1 if plant is plant_old_format else 0), result.stderr
