"""The door to workspace files (`context/files.py`): a hostile repository's links, `..` paths,
FIFOs, .git/ and ignored or secret files are refused, whether listed, checked or read; what a
listing offers can be read; and judging a listing costs a few git calls, not one per file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from qwen_lsp.context import files as files_module
from qwen_lsp.context.files import (
    BINARY,
    EXCLUDED,
    GIT,
    IGNORED,
    LARGE,
    OUTSIDE,
    SENSITIVE,
    SPECIAL,
    ReadPolicy,
    Refusal,
    WorkspaceFiles,
)
from tests.gitrepo import git

CODE = "def handler(request):\n    return request.user\n"
AWS_MARKER = "aws_secret_access_key = PLANTED-AWS-MARKER"
TOKEN_MARKER = "https://x-access-token:PLANTED-CI-TOKEN@git.invalid/o/r"
ENV_MARKER = "API_TOKEN=PLANTED-ENV-MARKER"
LOCAL_MARKER = "PLANTED-LOCAL-NOTES"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A user's home outside the repository, with cloud credentials in it."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(f"[default]\n{AWS_MARKER}\n", encoding="utf-8")
    (home / "lib").mkdir()
    (home / "lib" / "helpers.py").write_text(f"# {AWS_MARKER}\n", encoding="utf-8")
    return home


def hostile_repo(root: Path, home: Path, *, use_git: bool = True) -> Path:
    """A repository whose committed links lead to the user's secrets and its own."""
    root.mkdir()
    if use_git:
        git(root, "init", "-q")
        git(root, "config", "remote.origin.url", TOKEN_MARKER)
    (root / ".gitignore").write_text(".env\nlocal_notes.py\n", encoding="utf-8")
    (root / ".env").write_text(ENV_MARKER + "\n", encoding="utf-8")
    (root / "local_notes.py").write_text(f"# {LOCAL_MARKER}\n", encoding="utf-8")
    (root / "app.py").write_text(CODE, encoding="utf-8")
    (root / "src").mkdir()
    (root / "src" / "real.py").write_text(CODE, encoding="utf-8")
    (root / "notes.py").symlink_to(home / ".aws" / "credentials")
    (root / "vendor").symlink_to(home / "lib")  # a linked folder leading out
    (root / "alias.py").symlink_to(Path("src") / "real.py")  # a link that stays inside: fine
    (root / "env.py").symlink_to(".env")
    (root / "notes_link.py").symlink_to("local_notes.py")
    if use_git:
        (root / "cfg.py").symlink_to(Path(".git") / "config")
        (root / "hooks").symlink_to(Path(".git") / "hooks")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "hostile")
    return root


@pytest.fixture(params=["git", "no-git"])
def repo(request, tmp_path: Path, home: Path) -> Path:
    return hostile_repo(tmp_path / "repo", home, use_git=request.param == "git")


def test_links_leaving_the_root_or_entering_git_are_refused(repo: Path):
    door = WorkspaceFiles(repo)
    cases = {
        "notes.py": OUTSIDE,
        "vendor/helpers.py": OUTSIDE,
        "env.py": SENSITIVE,
        "notes_link.py": IGNORED,
    }
    if (repo / ".git").exists():
        cases.update({"cfg.py": GIT, "hooks/pre-commit.sample": GIT, ".git/config": GIT})
    for path, kind in cases.items():
        refusal = door.read(path)
        assert isinstance(refusal, Refusal), path
        assert refusal.kind == kind, (path, refusal)
        assert door.check(path) == refusal
    assert door.read("alias.py") == CODE
    assert door.read("src/real.py") == CODE


def test_the_given_path_and_the_link_target_are_both_judged(repo: Path):
    door = WorkspaceFiles(repo, ReadPolicy(exclude=("src/*",)))
    assert door.check("src/real.py").kind == EXCLUDED
    refusal = door.check("alias.py")  # its own name is fine; where it leads is excluded
    assert refusal.kind == EXCLUDED and refusal.through_link
    assert "src/real.py" in refusal.reason
    assert door.check(".env").kind == SENSITIVE
    assert door.check("local_notes.py").kind == IGNORED
    assert door.check("local_notes.py", ignored_ok=True) is None  # the user opted in
    assert door.check("notes_link.py", ignored_ok=True) is None


def test_a_listing_offers_only_what_reading_gives(repo: Path):
    door = WorkspaceFiles(repo)
    listed = door.list()
    assert sorted(listed) == [".gitignore", "alias.py", "app.py", "src/real.py"]
    for path in listed:
        assert isinstance(door.read(path), str), path


def test_a_committed_folder_now_a_link_out_is_not_listed_through(tmp_path: Path, home: Path):
    # git's index (which a hostile repository controls) lists `lib/helpers.py` while the
    # working tree's `lib` is a link to the user's folder: the listing, which stats every
    # file, must see the link in the folder's path, not only a link at the file itself.
    root = tmp_path / "repo"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "helpers.py").write_text(CODE, encoding="utf-8")
    (root / "app.py").write_text(CODE, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "lib")
    (root / "lib" / "helpers.py").unlink()
    (root / "lib").rmdir()
    (root / "lib").symlink_to(home / "lib")
    door = WorkspaceFiles(root)
    assert door.list() == ["app.py"]
    assert [path for path, _ in door.list_stats()] == ["app.py"]
    assert door.check("lib/helpers.py").kind == OUTSIDE


def test_a_tracked_file_deleted_from_the_work_tree_is_not_listed(tmp_path: Path):
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("kept.py", "deleted.py"):
        (root / name).write_text(CODE, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "two")
    (root / "deleted.py").unlink()
    door = WorkspaceFiles(root)
    assert door.list() == ["kept.py"]
    assert [path for path, _ in door.list_stats()] == ["kept.py"]
    assert door.select(["."]).files == ["kept.py"]


def test_select_names_each_link_it_refuses_once(repo: Path):
    selection = WorkspaceFiles(repo).select(["."])
    assert selection.files == ["alias.py", "app.py", "src/real.py"]
    named = [line.split(":", 1)[0] for line in selection.skipped]
    expected = {"notes.py", "env.py", "notes_link.py"}
    if (repo / ".git").exists():
        expected.add("cfg.py")
    assert sorted(named) == sorted(expected)  # once each; .env and local_notes.py: silently


def test_dot_dot_and_outside_paths(repo: Path, home: Path):
    door = WorkspaceFiles(repo)
    assert door.relative("src/../app.py") == "app.py"
    assert door.read("src/../app.py") == CODE
    assert door.relative("../home/.aws/credentials") is None
    assert door.read("src/../../home/.aws/credentials").kind == OUTSIDE
    assert door.read(home / ".aws" / "credentials").kind == OUTSIDE
    assert door.read(repo / "app.py") == CODE  # absolute inside the root is fine
    selection = door.select(["../home"])
    assert selection.files == [] and "outside" in selection.skipped[0]


def test_a_root_reached_through_a_link_is_the_same_root(repo: Path, tmp_path: Path):
    linked = tmp_path / "linked-repo"
    linked.symlink_to(repo)
    door = WorkspaceFiles(linked)
    assert door.read("app.py") == CODE
    assert door.read(repo / "app.py") == CODE
    assert door.read("notes.py").kind == OUTSIDE


def test_a_fifo_is_refused_without_blocking(repo: Path):
    os.mkfifo(repo / "pipe.py")
    door = WorkspaceFiles(repo)
    assert door.read("pipe.py").kind == SPECIAL  # opening it for reading would block
    assert "pipe.py" not in door.list()
    assert door.select(["pipe.py"]).skipped == ["pipe.py: not a regular file"]
    (repo / "pipe_link.py").symlink_to("pipe.py")
    assert door.read("pipe_link.py").kind == SPECIAL


def test_large_and_binary_files(tmp_path: Path):
    root = tmp_path / "r"
    root.mkdir()
    (root / "big.py").write_text("x = 1\n" * 100, encoding="utf-8")
    (root / "blob.py").write_bytes(b"def f(): pass\n\x00\x01")
    door = WorkspaceFiles(root, ReadPolicy(max_file_size=100))
    assert door.read("big.py").kind == LARGE
    assert door.read("blob.py").kind == BINARY


def test_gitignored_files_outside_git_follow_the_gitignore_files(tmp_path: Path):
    root = tmp_path / "plain"
    (root / "pkg" / "out").mkdir(parents=True)
    (root / ".gitignore").write_text("build/\n*.log\n", encoding="utf-8")
    (root / "pkg" / ".gitignore").write_text("out/\n!keep.log\n", encoding="utf-8")
    for name in ("pkg/a.py", "pkg/out/b.py", "pkg/x.log", "pkg/keep.log", "top.log"):
        (root / name).write_text("x\n", encoding="utf-8")
    door = WorkspaceFiles(root)
    assert door.is_ignored("pkg/out/b.py") and door.is_ignored("top.log")
    assert door.is_ignored("pkg/x.log") and not door.is_ignored("pkg/keep.log")
    assert door.is_ignored("build/new.py")  # a file not there yet
    assert sorted(door.list()) == [".gitignore", "pkg/.gitignore", "pkg/a.py", "pkg/keep.log"]


def test_a_new_file_is_judged_by_git_and_a_changed_gitignore_is_seen(tmp_path: Path):
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q")
    (root / ".gitignore").write_text("out/\n", encoding="utf-8")
    door = WorkspaceFiles(root)
    door.list()
    (root / "new.py").write_text("x = 1\n", encoding="utf-8")
    assert door.check("new.py") is None
    assert door.check("out/unsaved.py").kind == IGNORED  # not on disk: git's rules still apply
    (root / ".gitignore").write_text("out/\nnew.py\n", encoding="utf-8")
    door.forget_ignore_decisions()
    assert door.check("new.py").kind == IGNORED


def test_judging_a_listing_spawns_git_a_few_times_not_per_file(
    tmp_path: Path, home: Path, monkeypatch
):
    root = hostile_repo(tmp_path / "big", home)
    for n in range(300):
        (root / "pkg").mkdir(exist_ok=True)
        (root / "pkg" / f"m{n}.py").write_text(CODE, encoding="utf-8")
        if n % 10 == 0:
            (root / "pkg" / f"link{n}.py").symlink_to(f"m{n}.py")
    with (root / ".gitignore").open("a", encoding="utf-8") as gitignore:
        gitignore.write("generated/\n")
    (root / "generated").mkdir()
    for n in range(20):  # links to 20 different ignored files: still one question to git
        (root / "generated" / f"g{n}.py").write_text(CODE, encoding="utf-8")
        (root / "pkg" / f"ignored_link{n}.py").symlink_to(Path("..") / "generated" / f"g{n}.py")
    calls = []
    real_run = subprocess.run

    def counting_run(args, **kwargs):
        calls.append(args)
        return real_run(args, **kwargs)

    monkeypatch.setattr(files_module.subprocess, "run", counting_run)
    door = WorkspaceFiles(root)
    listed = door.list()
    assert len(listed) > 300
    for path in listed:
        assert door.check(path) is None
    assert not [p for p in listed if "ignored_link" in p or p.startswith("generated/")]
    assert len(calls) <= 3, calls  # is it a work tree, ls-files, one check-ignore for the links


def test_a_gitignore_that_is_a_fifo_or_a_link_out_is_not_read_outside_git(tmp_path: Path):
    # Outside a git work tree the door reads the .gitignore files itself: a FIFO there must not
    # hang the listing, and a link must not make a file outside the folder its rules.
    root = tmp_path / "plain"
    (root / "pkg").mkdir(parents=True)
    os.mkfifo(root / ".gitignore")
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("*.py\n", encoding="utf-8")
    (root / "pkg" / ".gitignore").symlink_to(elsewhere)
    (root / "pkg" / "a.py").write_text("x\n", encoding="utf-8")
    door = WorkspaceFiles(root)
    assert not door.is_ignored("pkg/a.py")
    assert "pkg/a.py" in door.list()
