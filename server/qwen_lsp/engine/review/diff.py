"""What changed: the new-side lines of a unified diff, from `git diff` or a patch on stdin.

`--diff REF` reviews only the lines added or changed since REF. They are read from
`git diff` against the merge base of REF and HEAD (so a branch is compared with where it left
REF, not with commits REF gained since), working tree included. A patch given on standard
input is parsed the same way and its new side is read from the working tree. Removed lines
have no new side and are not reviewed.

Nothing is guessed: a REF git does not know, or a merge base missing (a shallow clone, as CI
checkouts are by default, or unrelated histories) is an error naming the ref and saying how to
fetch the history, never a diff against something else.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.context.files import git_command
from qwen_lsp.errors import QwenLspError

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_GIT_TIMEOUT = 60.0


class DiffError(QwenLspError):
    """The diff could not be read: not a git repository, an unknown ref, a broken patch."""


@dataclass(frozen=True)
class ChangedFile:
    """A file's added or changed lines: 1-based ranges of its new version, both ends included."""

    path: str
    hunks: tuple[tuple[int, int], ...]


def parse_unified_diff(text: str) -> list[ChangedFile]:
    """The changed line ranges per file of a unified diff (git's or `diff -u`'s)."""
    changes: dict[str, list[int]] = {}
    path: str | None = None
    old_side: str | None = None
    line = old_left = new_left = 0
    for raw in text.splitlines():
        if old_left > 0 or new_left > 0:
            # Inside a hunk its header's counts say what each line is, so a removed line
            # that reads "--- x" is not taken for the next file's header.
            if raw.startswith("+"):
                # a deleted file (path None) still walks its hunk, recording nothing
                changes.setdefault(path or "", []).append(line)
                line, new_left = line + 1, new_left - 1
            elif raw.startswith("-"):
                old_left -= 1
            elif raw.startswith(" ") or raw == "":
                line, old_left, new_left = line + 1, old_left - 1, new_left - 1
            elif not raw.startswith("\\"):  # "\ No newline at end of file" is not a line
                old_left = new_left = 0  # a truncated hunk: what follows is not part of it
            continue
        if raw.startswith("diff --git "):
            path = old_side = None
        elif raw.startswith("--- "):
            old_side = _strip_path(raw[4:])
        elif raw.startswith("+++ "):
            path = _new_path(raw[4:], old_side)
        elif (match := _HUNK.match(raw)) is not None:
            line = int(match.group(3))
            old_left = int(match.group(2) or 1)
            new_left = int(match.group(4) or 1)
    return [ChangedFile(p, _ranges(lines)) for p, lines in changes.items() if p and lines]


def _strip_path(field: str) -> str:
    field = field.split("\t", 1)[0].rstrip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        # git quotes names with unusual characters, with C escapes
        field = field[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        field = field.encode("latin-1").decode("utf-8", "replace")
    return field


def _new_path(field: str, old_side: str | None) -> str | None:
    path = _strip_path(field)
    if path == "/dev/null":
        return None  # the file was deleted
    # git's default "a/" and "b/" prefixes; a patch made with --no-prefix has none
    if path.startswith("b/") and (
        old_side is None or old_side.startswith("a/") or old_side == "/dev/null"
    ):
        path = path[2:]
    return path


def _ranges(lines: list[int]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for n in sorted(set(lines)):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return tuple(out)


_FETCH_HINT = (
    "Fetch the history: in GitHub Actions give actions/checkout `fetch-depth: 0`; elsewhere "
    "run `git fetch --unshallow` (or fetch the branch: `git fetch origin <branch>`)."
)


def _succeeds(args: Sequence[str], cwd: Path) -> bool:
    try:
        _git(args, cwd)
    except DiffError:
        return False
    return True


def _unknown_ref(ref: str, cwd: Path, shallow: bool) -> str:
    """Why `ref` cannot be found, and what to do about it."""
    message = f"--diff {ref}: git knows no commit named {ref!r}"
    remote = f"origin/{ref}"
    if "/" not in ref and _succeeds(["rev-parse", "--verify", "--quiet", remote], cwd):
        return f"{message}; did you mean {remote}? (a CI checkout has only the remote branch)"
    if shallow:
        return f"{message} in this shallow clone. {_FETCH_HINT}"
    return f"{message}. If it is a branch of the remote, fetch it: `git fetch origin {ref}`."


def _git(args: Sequence[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            git_command(*args),
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise DiffError("--diff REF needs git, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise DiffError(f"git {args[0]} took longer than {_GIT_TIMEOUT:g}s") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise DiffError(f"git {args[0]} failed: {detail[-1] if detail else done.returncode}")
    return done.stdout


def git_changes(ref: str, paths: Sequence[str], cwd: Path) -> list[ChangedFile]:
    """Lines changed in the working tree since `ref` (its merge base with HEAD), under `paths`
    (relative to `cwd`, the repository root)."""
    if ref.startswith("-"):
        raise DiffError(f"{ref!r} is not a git revision")
    _git(["rev-parse", "--git-dir"], cwd)  # not a repository: git's own words say so
    shallow = _git(["rev-parse", "--is-shallow-repository"], cwd).strip() == "true"
    if not _succeeds(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd):
        raise DiffError(_unknown_ref(ref, cwd, shallow))
    if not _succeeds(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], cwd):
        raise DiffError(f"--diff {ref}: this repository has no commit yet (HEAD)")
    try:
        base = _git(["merge-base", ref, "HEAD"], cwd).strip()
    except DiffError:
        base = ""
    if not base:
        if shallow:
            raise DiffError(
                f"--diff {ref}: the common ancestor of {ref} and HEAD is not in this shallow "
                f"clone, so the lines changed since {ref} cannot be known. {_FETCH_HINT}"
            )
        raise DiffError(
            f"--diff {ref}: {ref} and HEAD have no common ancestor (unrelated histories): "
            "there is nothing to compare the changes with"
        )
    text = _git(
        [
            "diff",
            "--relative",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",  # a textconv driver is a program the repository names
            "--unified=0",
            "--find-renames",
            base,
            "--",
            *paths,
        ],
        cwd,
    )
    return parse_unified_diff(text)
