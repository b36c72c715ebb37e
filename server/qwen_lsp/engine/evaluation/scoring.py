"""How an answer to a hole is scored: exact match, edit similarity, kept characters, whether
the filled file parses, and (with a test command) whether the project's tests still pass.

- exact: the answer equals the cut text, trailing whitespace of each line and trailing blank
  lines aside (editors and models disagree on those, a user does not notice them);
- similarity: difflib's ratio of the two texts (2·matched / total characters, 0..1);
- kept characters: the characters of the answer that the same alignment matches to the cut
  text, i.e. what a user would have kept of the suggestion had they fixed it up by hand;
- parses: the file with the answer in the hole has no more tree-sitter ERROR or MISSING nodes
  than the original file;
- tests pass: the test command, run in a private copy of the repository with the filled file
  in place, exits 0 within its time limit.
"""

from __future__ import annotations

import difflib
import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.evaluation.holes import Hole


@dataclass(frozen=True)
class Score:
    exact: bool
    similarity: float
    kept_chars: int
    parses: bool


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def score(hole: Hole, file_text: str, answer: str) -> Score:
    """How `answer` fills `hole` of the file whose text is `file_text`."""
    expected, got = _normal(hole.text), _normal(answer)
    matcher = difflib.SequenceMatcher(None, got, expected, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    filled = file_text[: hole.start] + answer + file_text[hole.end :]
    return Score(
        exact=got == expected,
        similarity=matcher.ratio() if got or expected else 1.0,
        kept_chars=kept,
        parses=syntax_errors(filled, hole.language) <= syntax_errors(file_text, hole.language),
    )


def syntax_errors(text: str, language: str) -> int:
    """ERROR and MISSING nodes in the tree of `text`."""
    tree = SourceDocument(text, language, encoding="utf-32").tree
    if tree is None:
        return 0
    count = 0
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        if node.has_error:  # only subtrees holding an error are worth walking
            stack.extend(node.children)
    return count


class TestRunner:
    """Runs the user's test command in a private copy of the repository, a hole at a time.

    The command is the user's own (a flag on their command line, never read from the
    repository); it runs through the shell, in the copy, with a time limit per run. The copy
    leaves out `.git` and follows no link out of it (links are copied as links).
    """

    def __init__(self, root: Path, command: str, *, timeout: float = 120.0) -> None:
        self.command = command
        self.timeout = timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="qwen-lsp-eval-")
        self.copy = Path(self._tmp.name) / root.name
        shutil.copytree(root, self.copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))

    def passes(self, relative: str | None = None, text: str | None = None) -> bool:
        """Whether the tests pass with `relative` holding `text` (nothing changed: None)."""
        target = self.copy / relative if relative is not None else None
        original: bytes | None = None
        if target is not None and text is not None:
            if target.is_symlink() or not target.is_file():
                return False
            original = target.read_bytes()
            target.write_text(text, encoding="utf-8")
        try:
            return _run(self.command, self.copy, self.timeout) == 0
        finally:
            if target is not None and original is not None:
                target.write_bytes(original)

    def close(self) -> None:
        self._tmp.cleanup()


def _run(command: str, cwd: Path, timeout: float) -> int | None:
    """The exit status of `command` run through the shell in `cwd`; None when it ran out of
    time (its whole process group is killed: a test runner's children go with it)."""
    process = subprocess.Popen(
        command,
        shell=True,  # the user's own command line, as they would type it
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None
