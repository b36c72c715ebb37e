"""The holes `qwen-lsp eval` cuts from a repository: deterministic for a seed, at syntax
boundaries tree-sitter finds.

Three kinds, each a span of the file whose text is the answer a model should give with the
cursor at its start:
- `line_end`: the last piece of a line: the smallest syntax node (3+ characters) that ends
  where the line ends and starts after the line's first token (`…, timeout)` → `timeout)`);
- `line_rest`: the rest of a line from its second top-level piece on: the largest such node
  (`total = price * count` → `price * count`, or `= price * count` where the grammar puts the
  `=` in it);
- `block`: a whole block or function body (2 to 25 lines), from its first statement to the
  end of its last one.

Files come from the workspace folder's door (`context/files.py`): ignored, excluded and
sensitive files, links leading away and generated files are never read; test files only when
asked. Candidates are gathered per kind in a stable order (files sorted, nodes in document
order) and drawn with `random.Random(seed)`: the same seed on the same files gives the same
holes, on any machine.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from qwen_lsp.context.files import (
    ReadPolicy,
    WorkspaceFiles,
    is_generated,
    is_indexable_name,
    is_test_file,
)
from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument

KINDS = ("line_end", "line_rest", "block")

# Nodes holding a body of statements, per grammar (Python, Go, Rust, Java: `block`; JS/TS:
# `statement_block`; C/C++: `compound_statement`; Java constructors: `constructor_body`).
_BODY_TYPES = frozenset({"block", "statement_block", "compound_statement", "constructor_body"})
_MIN_CHARS = 3  # shorter holes say little about a model
# Placeholders, not code to write: completion drops an answer that is only one of them.
_PLACEHOLDERS = frozenset({"...", "pass", "todo!()", "unimplemented!()"})
_MAX_LINE_HOLE = 200
_BLOCK_LINES = (2, 25)
_MAX_FILES = 2000  # a huge monorepo: the first files in path order are enough to sample from


@dataclass(frozen=True)
class Hole:
    """A span cut from a file: `start`/`end` are character offsets into its text."""

    id: str  # stable: path, kind and offset
    path: str  # relative to the repository, forward slashes
    language: str
    kind: str
    start: int
    end: int
    text: str  # what was cut: the expected answer


def source_files(
    files: WorkspaceFiles, paths: list[str] | None = None, *, include_tests: bool = False
) -> list[str]:
    """The files holes may come from: parsed languages, admitted by the door, not generated."""
    chosen = []
    for path in sorted(files.list(paths or ["."])):
        if not is_indexable_name(path) or (
            is_test_file(path, by_folder=True) and not include_tests
        ):
            continue
        chosen.append(path)
        if len(chosen) >= _MAX_FILES:
            break
    return chosen


def read_source(files: WorkspaceFiles, path: str) -> str | None:
    """The text of `path` through the door, or None (refused, generated, not text)."""
    got = files.read_bytes(path)
    if not hasattr(got, "data"):
        return None
    data = got.data  # type: ignore[union-attr]
    if is_generated(data[:4096]):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def candidates(path: str, text: str) -> dict[str, list[Hole]]:
    """Every hole of each kind this file offers, in document order."""
    language = language_for(None, path)
    found: dict[str, list[Hole]] = {kind: [] for kind in KINDS}
    if language is None or "\r" in text:
        return found
    document = SourceDocument(text, language, encoding="utf-32")
    tree = document.tree
    if tree is None or tree.root_node.has_error:
        return found  # a file that does not parse gives no fair holes
    lines = text.split("\n")
    line_starts = [0]
    for line in lines[:-1]:
        line_starts.append(line_starts[-1] + len(line) + 1)
    by_line: dict[int, list[tuple[int, int]]] = {}  # line -> spans of nodes ending at its end
    for node in _walk(tree.root_node):
        start, end = _chars(document, node)
        row = node.start_point[0]
        if node.end_point[0] == row and node.type != "comment":
            line_end = line_starts[row] + len(lines[row])
            if end == line_end:
                by_line.setdefault(row, []).append((start, end))
        if node.type in _BODY_TYPES and node.named_child_count:
            first, last = node.named_children[0], node.named_children[-1]
            b_start, _ = _chars(document, first)
            _, b_end = _chars(document, last)
            span_lines = last.end_point[0] - first.start_point[0] + 1
            if _BLOCK_LINES[0] <= span_lines <= _BLOCK_LINES[1]:
                found["block"].append(_hole(path, language, "block", text, b_start, b_end))
    for row in sorted(by_line):
        line = lines[row]
        indent = len(line) - len(line.lstrip())
        first_token_end = line_starts[row] + indent + 1
        spans = sorted(
            {(s, e) for s, e in by_line[row] if s >= first_token_end and e - s >= _MIN_CHARS}
        )
        spans = [
            (s, e)
            for s, e in spans
            if e - s <= _MAX_LINE_HOLE and text[s:e].strip() not in _PLACEHOLDERS | {""}
        ]
        if not spans:
            continue
        short = max(spans)  # starts last: the smallest tail
        long = min(spans)  # starts first: the longest rest of the line
        found["line_end"].append(_hole(path, language, "line_end", text, *short))
        if long != short:
            found["line_rest"].append(_hole(path, language, "line_rest", text, *long))
    return found


def cut_holes(
    root: Path,
    *,
    samples: int,
    seed: int,
    policy: ReadPolicy | None = None,
    include_tests: bool = False,
    paths: list[str] | None = None,
) -> tuple[list[Hole], dict[str, str]]:
    """`samples` holes from the repository at `root`, about a third of each kind (a kind the
    code lacks leaves its share to the others), in a stable order; and the text of each file
    they were cut from."""
    files = WorkspaceFiles(root, policy)
    pools: dict[str, list[Hole]] = {kind: [] for kind in KINDS}
    texts: dict[str, str] = {}
    for path in source_files(files, paths, include_tests=include_tests):
        text = read_source(files, path)
        if text is None:
            continue
        texts[path] = text
        for kind, holes in candidates(path, text).items():
            pools[kind].extend(holes)
    rng = random.Random(seed)
    for kind in KINDS:
        rng.shuffle(pools[kind])
    chosen: list[Hole] = []
    wanted = {kind: samples // len(KINDS) for kind in KINDS}
    for kind in KINDS[: samples % len(KINDS)]:
        wanted[kind] += 1
    left = 0
    for kind in KINDS:
        take = pools[kind][: wanted[kind]]
        left += wanted[kind] - len(take)
        chosen.extend(take)
        pools[kind] = pools[kind][len(take) :]
    for kind in KINDS:  # the shares a kind could not fill
        extra = pools[kind][:left]
        left -= len(extra)
        chosen.extend(extra)
    chosen.sort(key=lambda h: (h.path, h.start, h.kind))
    return chosen, {hole.path: texts[hole.path] for hole in chosen}


def _hole(path: str, language: str, kind: str, text: str, start: int, end: int) -> Hole:
    return Hole(f"{path}:{kind}:{start}", path, language, kind, start, end, text[start:end])


def _chars(document: SourceDocument, node: Node) -> tuple[int, int]:
    return document.offset_at_point(node.start_point), document.offset_at_point(node.end_point)


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))
