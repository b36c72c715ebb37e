"""The pre-commit hooks: the lines being committed, the range pre-commit passes in CI, and
named files with nothing staged (`--all-files`), in a real git repository.

`pre-commit` itself runs the hooks of `.pre-commit-hooks.yaml`, taken into a local
configuration with the same entry and file filter (`language: unsupported`, so nothing is
installed and nothing is fetched: installing this repository as a `language: python` hook
would need the network). pre-commit then does what it does for any hook: it stashes unstaged
changes, passes the file names and exports PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cli.helpers import APP, answer, check_env, finding, run_check, user_messages
from tests.gitrepo import git

HOOKS = Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text(APP, encoding="utf-8")
    (root / "util.py").write_text("def one():\n    return 1\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def reviewed(fake, since: int = 0) -> list[str]:
    """(path, the lines under review) of each request from the `since`-th on, as the prompt
    names them."""
    found = []
    for message in user_messages(fake)[since:]:
        path = re.search(r"^File: (\S+)", message, re.M)
        lines = re.search(r"^Review (.+?);", message, re.M)
        assert path and lines, message
        found.append(f"{path.group(1)}: {lines.group(1)}")
    return sorted(found)


def test_staged_lines_only(repo: Path, fake_llm):
    fake_llm.reply(answer())
    (repo / "app.py").write_text(APP.replace("a / b", "a // b"), encoding="utf-8")
    git(repo, "add", "app.py")
    (repo / "util.py").write_text("def one():\n    return 2\n", encoding="utf-8")  # unstaged
    result = run_check(repo, fake_llm, "--staged")
    assert result.code == 0, result.stderr
    assert reviewed(fake_llm) == ["app.py: line 2"]  # the function's line 2, no more


def test_nothing_staged_says_so(repo: Path, fake_llm):
    result = run_check(repo, fake_llm, "--staged")
    assert result.code == 0, result.stderr
    assert "no lines changed in the staged changes" in result.stderr
    assert fake_llm.requests == []


def test_a_range_reviews_what_the_later_revision_changed(repo: Path, fake_llm):
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "util.py").write_text("def one():\n    return 2\n\n\ndef two():\n    return 2\n")
    git(repo, "commit", "-qam", "second")
    fake_llm.reply(answer())
    result = run_check(repo, fake_llm, "--diff", f"{first}...HEAD")
    assert result.code == 0, result.stderr
    assert reviewed(fake_llm) == ["util.py: lines 2-6"]
    result = run_check(repo, fake_llm, "--diff", f"{first}..HEAD", "--format", "json")
    assert result.code == 0, result.stderr
    assert result.json()["summary"]["cached"] == 1  # the same lines: the same review
    bad = run_check(repo, fake_llm, "--diff", "nosuchref...HEAD")
    assert bad.code == 2
    assert "'nosuchref' is not in this repository" in bad.stderr
    assert "fetch-depth: 0" in bad.stderr


def test_pre_commit_mode_uses_the_refs_pre_commit_passes(repo: Path, fake_llm):
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "util.py").write_text("def one():\n    return 2\n", encoding="utf-8")
    git(repo, "commit", "-qam", "second")
    fake_llm.reply(answer(finding(2, path="util.py", severity="error", rule="wrong-value")))
    env = check_env(repo.parent, fake_llm, PRE_COMMIT_FROM_REF=first, PRE_COMMIT_TO_REF="HEAD")
    result = run_check(repo, fake_llm, "--pre-commit", "util.py", "app.py", env=env)
    assert result.code == 1, result.stderr  # the committed change was reviewed, and failed
    assert reviewed(fake_llm) == ["util.py: line 2"]


def test_pre_commit_mode_reviews_named_files_with_nothing_staged_whole(repo: Path, fake_llm):
    fake_llm.reply(answer())
    result = run_check(repo, fake_llm, "--pre-commit", "app.py", "util.py")
    assert result.code == 0, result.stderr
    assert "2 named files have nothing staged: reviewed whole" in result.stderr
    assert reviewed(fake_llm) == ["app.py: every line", "util.py: every line"]


def test_diff_staged_and_pre_commit_exclude_each_other(repo: Path, fake_llm):
    result = run_check(repo, fake_llm, "--staged", "--diff", "HEAD")
    assert result.code == 2
    assert "one of --diff, --staged and --pre-commit" in result.stderr


# -- pre-commit itself ------------------------------------------------------------------------


def _local_config(repo: Path) -> None:
    """The shipped hooks as a local repository's hooks: same entry, files and options."""
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    for hook in hooks:
        hook["language"] = "unsupported"  # runs `entry` from PATH: nothing to install
    config = {"repos": [{"repo": "local", "hooks": hooks}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def _pre_commit(repo: Path, fake_llm, *args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("pre-commit", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[dev]')")
    env = check_env(repo.parent, fake_llm, PRE_COMMIT_HOME=str(repo.parent / "pre-commit-home"))
    # the hook's `qwen-lsp` is the one of this interpreter, running this checkout's code
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    server = str(Path(__file__).resolve().parents[2] / "server")
    env["PYTHONPATH"] = server + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [exe, "run", "qwen-lsp-review", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_real_pre_commit_runs_the_hook_on_a_commit_a_range_and_all_files(repo: Path, fake_llm):
    _local_config(repo)
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-qm", "hooks")
    start = git(repo, "rev-parse", "HEAD").strip()
    fake_llm.reply(answer())

    # a commit: the staged line only (pre-commit stashes the unstaged one away)
    (repo / "app.py").write_text(APP.replace("a / b", "a // b"), encoding="utf-8")
    git(repo, "add", "app.py")
    (repo / "app.py").write_text(APP.replace("a / b", "a // b") + "x = 1\n", encoding="utf-8")
    done = _pre_commit(repo, fake_llm)
    assert done.returncode == 0, done.stdout + done.stderr
    assert reviewed(fake_llm) == ["app.py: line 2"]
    git(repo, "commit", "-qm", "divide", "--no-verify")
    git(repo, "checkout", "--", "app.py")

    (repo / "util.py").write_text("def one():\n    return 2\n", encoding="utf-8")
    git(repo, "commit", "-qam", "two", "--no-verify")

    # CI: pre-commit run --from-ref --to-ref, the tree clean: both commits' lines (app.py's
    # answer is cached from the commit above); a finding fails the hook
    sent = len(fake_llm.requests)
    fake_llm.reply(answer(finding(2, path="util.py", severity="error", rule="wrong-value")))
    done = _pre_commit(repo, fake_llm, "--from-ref", start, "--to-ref", "HEAD")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "wrong-value" in done.stdout
    assert reviewed(fake_llm, sent) == ["util.py: line 2"]

    # --all-files with nothing staged: every file, whole
    sent = len(fake_llm.requests)
    fake_llm.reply(answer())
    done = _pre_commit(repo, fake_llm, "--all-files")
    assert done.returncode == 0, done.stdout + done.stderr
    assert reviewed(fake_llm, sent) == ["app.py: every line", "util.py: every line"]
