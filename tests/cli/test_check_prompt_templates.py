"""`qwen-lsp --check` with the user's own review prompt, and with templates that try to send
other files: the real CLI against the fake LLM.

The attack: a `review.promptDir` whose `user.md` is a link to a file of secrets (here a fake
environment file with a planted marker), or a relative `review.promptDir` that would be looked
up in the repository under review. The run must send nothing, exit 2, and say in one line
which template it refused and why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import APP, answer, check_env, run_check, user_messages
from tests.fakes.llm_server import FakeLLM

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

MARKER = "AWS_SECRET_ACCESS_KEY=planted-marker-d41c"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP, encoding="utf-8")
    return root


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    path = tmp_path / "stolen" / "environ"
    path.parent.mkdir()
    path.write_text(f"HOME=/home/dev\n{MARKER}\n", encoding="utf-8")
    return path


def with_user_config(project: Path, fake: FakeLLM, toml: str) -> dict[str, str]:
    env = check_env(project.parent, fake)
    Path(env["QWEN_LSP_CONFIG"]).write_text(toml, encoding="utf-8")
    return env


def nothing_sent_has_the_marker(fake: FakeLLM) -> bool:
    return all(MARKER not in json.dumps(r.body) for r in fake.requests)


def lines_naming(stderr: str, text: str) -> list[str]:
    return [line for line in stderr.splitlines() if text in line]


def test_the_users_own_review_prompt_is_used(project: Path, fake_llm, tmp_path: Path):
    mine = tmp_path / "my-prompts"
    mine.mkdir()
    (mine / "user.md").write_text("HOUSE REVIEW of {{path}}:\n{{code}}\n", encoding="utf-8")
    env = with_user_config(project, fake_llm, f'[review]\npromptDir = "{mine.as_posix()}"\n')
    fake_llm.reply(answer())
    result = run_check(project, fake_llm, env=env)
    assert result.code == 0, result.stderr
    [prompt] = user_messages(fake_llm)
    assert prompt.startswith("HOUSE REVIEW of app.py:") and "def load(path):" in prompt


@pytest.mark.parametrize("dry_run", [False, True], ids=["run", "dry-run"])
def test_a_review_template_linked_to_a_secrets_file_sends_nothing_and_exits_2(
    project: Path, fake_llm, tmp_path: Path, secrets: Path, dry_run: bool
):
    mine = tmp_path / "my-prompts"
    mine.mkdir()
    (mine / "system.md").write_text("You review code.\n", encoding="utf-8")
    (mine / "user.md").symlink_to(secrets)
    env = with_user_config(project, fake_llm, f'[review]\npromptDir = "{mine.as_posix()}"\n')
    fake_llm.reply(answer())
    result = run_check(project, fake_llm, *(["--dry-run"] if dry_run else []), env=env)
    assert result.code == 2, result.stderr
    assert fake_llm.requests == [] and nothing_sent_has_the_marker(fake_llm)
    assert MARKER not in result.stdout + result.stderr
    [told] = lines_naming(result.stderr, str(mine / "user.md"))
    assert "refused the prompt template" in told and "it is a symbolic link" in told


def test_a_review_template_linked_to_the_process_environment_sends_nothing(
    project: Path, fake_llm, tmp_path: Path
):
    mine = tmp_path / "my-prompts"
    mine.mkdir()
    (mine / "user.md").symlink_to("/proc/self/environ")
    env = with_user_config(project, fake_llm, f'[review]\npromptDir = "{mine.as_posix()}"\n')
    env["QWEN_LSP_API_KEY"] = "sk-endpoint-key-never-sent-5e2b"
    result = run_check(project, fake_llm, env=env)
    assert result.code == 2
    assert fake_llm.requests == []
    assert len(lines_naming(result.stderr, str(mine / "user.md"))) == 1


@pytest.mark.parametrize("where", ["user", "project"])
def test_a_relative_review_prompt_dir_is_not_looked_up_in_the_repository(
    project: Path, fake_llm, secrets: Path, where: str
):
    # The repository under review ships prompts/user.md -> the secrets; a relative promptDir
    # used to be joined to it.
    (project / "prompts").mkdir()
    (project / "prompts" / "user.md").symlink_to(secrets)
    setting = '[review]\npromptDir = "prompts"\n'
    if where == "user":
        env = with_user_config(project, fake_llm, setting)
    else:
        env = check_env(project.parent, fake_llm)
        (project / ".qwen-lsp.toml").write_text(setting, encoding="utf-8")
    fake_llm.reply(answer())
    result = run_check(project, fake_llm, "app.py", env=env)
    assert nothing_sent_has_the_marker(fake_llm)
    if where == "project" and result.code == 0:
        return  # settings that keep a project file from naming template folders at all
    assert result.code == 2, result.stderr
    [told] = lines_naming(result.stderr, "review.promptDir")
    assert "must be an absolute folder or start with ~, not 'prompts'" in told
