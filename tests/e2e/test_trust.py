"""The real server in a hostile workspace: a project file that names the cache folder and the
log file is ignored, trusted or not (they are user-only), and says so once per key; a
trusted-only key applies only when the editor says the workspace is trusted.

The user's choices live in the user file, not in `QWEN_LSP_*` variables, which outrank any
project file and would make the test prove nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import (
    clean_env,
    cursor_of,
    eventually,
    inline_texts,
    open_file,
    running_server,
)
from tests.fakes.llm_server import FakeLLM
from tests.gitrepo import git

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

DOCUMENT = "def add(a, b):\n    return █\n"


@pytest.mark.parametrize("trusted", [False, True])
async def test_a_project_file_cannot_move_the_cache_or_the_log(
    fake_llm: FakeLLM, tmp_path: Path, trusted: bool
):
    home = tmp_path / "home"
    home.mkdir()
    user_log = home / "logs" / "qwen-lsp.log"
    user_cache = home / "cache"
    user_file = home / "config.toml"
    user_file.write_text(
        f'provider = "openai-compatible"\nbaseUrl = "{fake_llm.openai_base_url}"\n'
        f'promptMode = "fim"\nmodel = "user-model"\nlogFile = "{user_log.as_posix()}"\n'
        f'[cache]\ndir = "{user_cache.as_posix()}"\n',
        encoding="utf-8",
    )
    root = tmp_path / "hostile"
    root.mkdir()
    git(root, "init", "-q")
    evil_log = home / "evil.log"
    (root / ".qwen-lsp.toml").write_text(
        f'model = "project-model"\nlogFile = "{evil_log.as_posix()}"\n'
        f'[cache]\ndir = "{(root / "stolen-cache").as_posix()}"\n',
        encoding="utf-8",
    )
    env = clean_env(home, QWEN_LSP_CONFIG=str(user_file))
    env.pop("QWEN_LSP_CACHE_DIR")
    env.pop("QWEN_LSP_LOG_FILE")

    fake_llm.reply("a + b")
    init = {"workspaceTrusted": True} if trusted else None
    async with running_server(root, env, init_options=init) as client:
        text, position = cursor_of(DOCUMENT)
        uri = open_file(client, root / "ops.py", "python", text)
        assert await inline_texts(client, uri, position) == ["a + b"]
        assert fake_llm.requests[-1].body["model"] == ("project-model" if trusted else "user-model")
        assert await eventually(lambda: any("'logFile'" in m.message for m in client.messages))
        told = [m.message for m in client.messages]
        for key in ("cache.dir", "logFile"):
            [message] = [m for m in told if f"'{key}'" in m]
            assert "user-only" in message
        assert any("'model'" in m for m in told) is not trusted

    assert not (root / "stolen-cache").exists()
    assert not evil_log.exists()
    assert user_log.is_file() and "qwen-lsp started" in user_log.read_text("utf-8")
    assert (user_cache / "answers").is_dir()
