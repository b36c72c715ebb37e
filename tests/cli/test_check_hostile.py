"""`qwen-lsp --check` in a hostile repository: committed links to the user's cloud credentials,
to the CI token in .git/config and to a gitignored .env are named once and never sent; a
path outside the repository is a usage error, said in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import APP, answer, check_env, run_check
from tests.gitrepo import git

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

# Markers the redactor leaves alone, so only never reading the files keeps them home.
AWS = "aws_secret_access_key = PLANTED-AWS-7f3a"
TOKEN = "PLANTED-CI-TOKEN-91c2"
GIT_CONFIG = "PLANTED-GITCONFIG-3b1f"
ENV = "PLANTED-ENV-5d8e"
MARKERS = ("PLANTED-AWS-7f3a", TOKEN, GIT_CONFIG, ENV)


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(f"[default]\n{AWS}\n", encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "remote.origin.url", f"https://x-access-token:{TOKEN}@git.invalid/o/r")
    git(repo, "config", "ci.owner", GIT_CONFIG)
    (repo / ".gitignore").write_text(".env\n", encoding="utf-8")
    (repo / ".env").write_text(f"# owner: {ENV}\nAPI_TOKEN=abc123\n", encoding="utf-8")
    (repo / "app.py").write_text(APP, encoding="utf-8")
    (repo / "notes.py").symlink_to(home / ".aws" / "credentials")
    (repo / "cfg.py").symlink_to(Path(".git") / "config")
    (repo / "env.py").symlink_to(".env")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "innocent")
    return repo


def sent(fake_llm) -> str:
    return "".join(str(request.body) for request in fake_llm.requests)


@pytest.mark.parametrize("named", [False, True], ids=["whole-repo", "named"])
def test_committed_links_to_secrets_are_named_once_and_never_sent(
    hostile: Path, fake_llm, named: bool
):
    fake_llm.reply(answer())
    paths = ("notes.py", "cfg.py", "env.py", "app.py") if named else ()
    result = run_check(hostile, fake_llm, *paths, env=check_env(hostile.parent, fake_llm))
    assert result.code == 0, result.stderr
    body = sent(fake_llm)
    assert "def divide" in body  # app.py was reviewed
    assert [m for m in MARKERS if m in body] == []
    assert [m for m in MARKERS if m in result.stderr + result.stdout] == []
    skipped = [line for line in result.stderr.splitlines() if "skipped" in line]
    for name in ("notes.py", "cfg.py", "env.py"):
        assert sum(f"skipped {name}:" in line for line in skipped) == 1, result.stderr
    assert "leading outside the workspace" in result.stderr  # notes.py
    assert "into .git" in result.stderr  # cfg.py
    assert "in 1 files" in result.stderr


def test_the_dry_run_shows_none_of_them_either(hostile: Path, fake_llm):
    result = run_check(hostile, fake_llm, "--dry-run", env=check_env(hostile.parent, fake_llm))
    assert result.code == 0, result.stderr
    assert "app.py" in result.stdout
    assert not any(name in result.stdout for name in ("notes.py", "cfg.py", "env.py"))
    assert fake_llm.requests == []


@pytest.mark.parametrize("outside", ["/etc/hostname", "../home/.aws/credentials", ".."])
def test_a_path_outside_the_repository_is_a_usage_error_in_one_line(
    hostile: Path, fake_llm, outside: str
):
    result = run_check(hostile, fake_llm, outside, env=check_env(hostile.parent, fake_llm))
    assert result.code == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert outside in line and "outside" in line
    assert fake_llm.requests == []


def test_a_committed_link_is_never_written_through(tmp_path: Path, fake_llm):
    # The repository commits its baseline and report names as links to the user's files:
    # --write-baseline and --output refuse them and leave those files as they were.
    home = tmp_path / "home"
    home.mkdir()
    bashrc, profile = home / ".bashrc", home / ".profile"
    bashrc.write_text("# mine\n", encoding="utf-8")
    profile.write_text("# mine too\n", encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "app.py").write_text(APP, encoding="utf-8")
    (repo / ".qwen-lsp-baseline.json").symlink_to(bashrc)
    (repo / "report.json").symlink_to(profile)
    fake_llm.reply(answer())
    assert run_check(repo, fake_llm, "--write-baseline").code == 2
    assert run_check(repo, fake_llm, "--format", "json", "--output", "report.json").code == 2
    assert bashrc.read_text(encoding="utf-8") == "# mine\n"
    assert profile.read_text(encoding="utf-8") == "# mine too\n"
