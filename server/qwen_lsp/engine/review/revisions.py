"""Changed lines between two revisions, or staged for the next commit: what pre-commit asks.

`--diff FROM...TO` (or `FROM..TO`) reviews the lines TO adds or changes compared with FROM
(three dots: with their merge base, as `git diff` and pre-commit's `--from-ref/--to-ref` mean
it; two dots: with FROM itself). The new side is read from the working tree, which should be
at TO, as it is in a CI checkout and when pre-commit runs its hooks. `--staged` reviews what
`git commit` would record: the index against HEAD (every staged line of a repository without
commits). Both read `git diff` the way `--diff REF` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.engine.review.diff import ChangedFile, DiffError, _git, parse_unified_diff

# What `git diff` is asked for: zero context lines, no program of the repository's run
# (external diff drivers and textconv filters are commands a repository names).
_DIFF_OPTIONS = (
    "--relative",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--unified=0",
    "--find-renames",
)


@dataclass(frozen=True)
class RevisionRange:
    start: str
    end: str
    merge_base: bool  # three dots: compare with the merge base of the two

    def __str__(self) -> str:
        return f"{self.start}{'...' if self.merge_base else '..'}{self.end}"


def revision_range(text: str) -> RevisionRange | None:
    """`FROM...TO` or `FROM..TO` as a range; None for a single revision (git refuses `..` in
    a ref's name, so the two cannot be confused)."""
    for dots, merge_base in (("...", True), ("..", False)):
        start, found, end = text.partition(dots)
        if found:
            if not start or not end or ".." in end:
                raise DiffError(f"{text!r} is not a range: write FROM...TO or FROM..TO")
            return RevisionRange(start, end, merge_base)
    return None


def _revision(ref: str, cwd: Path) -> str:
    if ref.startswith("-"):
        raise DiffError(f"{ref!r} is not a git revision")
    try:
        return _git(["rev-parse", "--verify", "--quiet", ref + "^{commit}"], cwd).strip()
    except DiffError:
        raise DiffError(
            f"git revision {ref!r} is not in this repository (in a shallow clone, fetch the "
            "history: actions/checkout with fetch-depth: 0, or git fetch --unshallow)"
        ) from None


def git_range_changes(span: RevisionRange, paths: Sequence[str], cwd: Path) -> list[ChangedFile]:
    """Lines `span.end` adds or changes compared with `span.start` (or their merge base)."""
    start, end = _revision(span.start, cwd), _revision(span.end, cwd)
    if span.merge_base:
        try:
            start = _git(["merge-base", start, end], cwd).strip() or start
        except DiffError:
            raise DiffError(
                f"{span.start} and {span.end} have no common history (a shallow clone? "
                f"fetch-depth: 0); write {span.start}..{span.end} to compare them directly"
            ) from None
    return parse_unified_diff(_git(["diff", *_DIFF_OPTIONS, start, end, "--", *paths], cwd))


def git_staged_changes(paths: Sequence[str], cwd: Path) -> list[ChangedFile]:
    """Lines staged for the next commit (the index against HEAD), under `paths`."""
    return parse_unified_diff(_git(["diff", "--cached", *_DIFF_OPTIONS, "--", *paths], cwd))
