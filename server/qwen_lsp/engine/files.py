"""Which files a review reads: the paths given, minus what .gitignore and `exclude` keep out.

Inside a git work tree git itself answers (`git ls-files`: tracked files plus untracked ones
that no ignore rule covers), so every rule git knows applies, nested .gitignore files and
.git/info/exclude included. Outside one, the .gitignore files found while walking are read by
a small matcher covering the common syntax (`*`, `**`, `?`, `!`, a leading or inner `/`
anchors, a trailing `/` means folders). Folders contribute source files only; a file named
explicitly is read whatever its extension, unless an ignore rule, `exclude` or a secrets file
name (`privacy.is_sensitive_path`: `.env`, keys) covers it: those never reach a prompt.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from qwen_lsp.context.languages import language_for
from qwen_lsp.privacy import is_never_read

# Source files without a bundled grammar are still worth a review (cut at lines).
_OTHER_SOURCES = frozenset(
    {
        *(".rb", ".php", ".cs", ".kt", ".kts", ".swift", ".scala", ".sh", ".bash", ".zsh"),
        *(".lua", ".sql", ".m", ".mm", ".dart", ".ex", ".exs", ".erl", ".hs", ".ml", ".r"),
        *(".jl", ".pl", ".pm", ".vue", ".svelte", ".groovy", ".ps1", ".zig", ".nim", ".clj"),
    }
)
_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv"})


@dataclass
class Selection:
    """The files to review (relative to the root, forward slashes) and why others were not."""

    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line each: "path: reason"


def is_source(path: str) -> bool:
    return (
        language_for(None, path) is not None or PurePosixPath(path).suffix.lower() in _OTHER_SOURCES
    )


def select_files(
    paths: Sequence[str], root: Path, exclude: tuple[str, ...], *, named_any_kind: bool = True
) -> Selection:
    """The files under `paths` (relative to `root`, or absolute inside it) to review; a file
    named in `paths` is taken whatever its kind when `named_any_kind`, else sources only."""
    selection = Selection()
    wanted = list(paths) or ["."]
    named: set[str] = set()
    for given in wanted:
        target = (root / given).resolve()
        try:
            relative = target.relative_to(root.resolve()).as_posix()
        except ValueError:
            selection.skipped.append(f"{given}: outside {root}")
            continue
        if not target.exists():
            selection.skipped.append(f"{given}: no such file or folder")
        elif target.is_file() and named_any_kind:
            named.add(relative)
    listed = _git_files(root, wanted)
    if listed is None:
        listed = _walk(root, wanted)
    found = set()
    for path in listed:
        found.add(path)
        if path not in named and not is_source(path):
            continue
        if is_never_read(path, exclude):
            if path in named:
                selection.skipped.append(f"{path}: matches the exclude setting or holds secrets")
            continue
        selection.files.append(path)
    for path in sorted(named - found):
        selection.skipped.append(f"{path}: ignored by .gitignore")
    selection.files = sorted(set(selection.files))
    return selection


def _git_files(root: Path, paths: Sequence[str]) -> list[str] | None:
    """`git ls-files` for `paths`, or None when `root` is not in a git work tree."""
    try:
        done = subprocess.run(
            [
                "git",
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "--deduplicate",
                "--",
                *paths,
            ],
            cwd=root,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    # A tracked file deleted from the working tree is still listed: there is nothing to read.
    return [name for name in names if name and (root / name).is_file()]


# -- outside git ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    negated: bool
    folders_only: bool


def _compile(line: str) -> _Rule | None:
    line = line.rstrip()
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    if line.startswith("\\"):
        line = line[1:]  # "\#" and "\!" stand for the characters themselves
    folders_only = line.endswith("/")
    line = line.rstrip("/")
    anchored = "/" in line
    line = line.lstrip("/")
    parts = []
    i = 0
    while i < len(line):
        if line.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif line.startswith("/**", i) and i + 3 == len(line):
            parts.append("/.*")
            i += 3
        elif line[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif line[i] == "?":
            parts.append("[^/]")
            i += 1
        else:
            parts.append(re.escape(line[i]))
            i += 1
    body = "".join(parts)
    regex = body if anchored else f"(?:.*/)?{body}"
    return _Rule(re.compile(regex + r"\Z"), negated, folders_only)


class _Ignores:
    """The rules of every .gitignore met on the way down, each relative to its own folder."""

    def __init__(self) -> None:
        self._rules: list[tuple[str, _Rule]] = []

    def add(self, folder: str, file: Path) -> None:
        try:
            lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return
        self._rules.extend((folder, rule) for line in lines if (rule := _compile(line)))

    def ignored(self, path: str, is_folder: bool) -> bool:
        """Whether `path` or a folder above it is ignored (git never looks inside those)."""
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if self._matches("/".join(parts[:depth]), True):
                return True
        return self._matches(path, is_folder)

    def _matches(self, path: str, is_folder: bool) -> bool:
        verdict = False
        for folder, rule in self._rules:  # later rules (and deeper files) win
            if folder and not path.startswith(folder + "/"):
                continue
            relative = path[len(folder) + 1 :] if folder else path
            if rule.folders_only and not is_folder:
                continue
            if rule.pattern.match(relative):
                verdict = not rule.negated
        return verdict


def _walk(root: Path, paths: Iterable[str]) -> list[str]:
    ignores = _Ignores()
    if (root / ".gitignore").is_file():
        ignores.add("", root / ".gitignore")
    out: list[str] = []
    for given in paths:
        start = (root / given).resolve()
        if start.is_file():
            relative = start.relative_to(root.resolve()).as_posix()
            if not ignores.ignored(relative, False):
                out.append(relative)
            continue
        for folder, dirs, files in os.walk(start):
            relative_folder = Path(folder).resolve().relative_to(root.resolve()).as_posix()
            relative_folder = "" if relative_folder == "." else relative_folder
            if relative_folder and (Path(folder) / ".gitignore").is_file():
                ignores.add(relative_folder, Path(folder) / ".gitignore")
            prefix = relative_folder + "/" if relative_folder else ""
            dirs[:] = sorted(
                d for d in dirs if d not in _SKIPPED_DIRS and not ignores.ignored(prefix + d, True)
            )
            out.extend(
                prefix + name for name in sorted(files) if not ignores.ignored(prefix + name, False)
            )
    return out
