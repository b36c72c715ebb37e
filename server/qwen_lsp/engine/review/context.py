"""What a review chunk calls, from other files: their signatures, within a budget.

A reviewer who sees `charge(order, amount)` but not `def charge(amount, order)` cannot tell
that the arguments are swapped. So each chunk's prompt carries the signatures (and first doc
line) of the functions, methods and classes its lines call that are defined in other files,
found by the workspace symbol index the way completions find them (imports resolved first,
then by name, nearer folders first): only calls, as written in the chunk's lines, the calls in
the lines under review weighing most, best first while they fit in `budget_tokens`.

The index is the editor's when the server has one for the folder; a `--check` run builds its
own for the repository (read through the workspace's door like everything else: ignored,
secret and linked-away files are not in it; stored on disk, so a rerun reads only what
changed). `context.crossFile = false` turns the signatures off.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from qwen_lsp.context.index import WorkspaceIndex
from qwen_lsp.context.snippets import Piece, Reference, definition_pieces
from qwen_lsp.engine.review.chunks import Chunk
from qwen_lsp.engine.runtime import Runtime

log = logging.getLogger(__name__)

CONTEXT_SHARE = 0.2  # of review.chunkTokens: the most the signatures may take
REVIEWED_WEIGHT = 3.0  # a call in a line under review
SHOWN_WEIGHT = 1.0  # a call in a line shown for context
_CALL = re.compile(r"([A-Za-z_$][\w$]*(?:\s*(?:\.|::|->)\s*[A-Za-z_$][\w$]*)*)\s*\(")
_SEPARATOR = re.compile(r"\s*(?:\.|::|->)\s*")
_NOT_CALLS = frozenset(
    {
        *("if", "elif", "while", "for", "switch", "catch", "return", "def", "function"),
        *("fn", "func", "class", "new", "await", "yield", "not", "and", "or", "in", "is"),
        *("assert", "print", "sizeof", "typeof", "super", "self", "this"),
    }
)


def review_index(runtime: Runtime, root: Path) -> WorkspaceIndex | None:
    """The symbol index of the repository at `root`: the server's when it has one for that
    folder, else (a `--check` run, no folder indexed) one built now. None when cross-file
    context is off or the index cannot be had (that costs the context, never the review)."""
    if not runtime.settings.context.cross_file:
        return None
    workspace = runtime.workspace
    root = root.resolve()
    for index in workspace.indexes:
        if index.root == root:
            return index
    if workspace.indexes:
        return None  # the editor's folders are its own: never replaced here
    try:
        [index] = workspace.set_folders([root])
        for _ in index.refresh(index.scan()):
            pass
        index.save()
    except Exception:  # a broken index costs the context only
        log.exception("no symbol index for the review of %s", root)
        return None
    return index


def calls_in(chunk: Chunk) -> list[Reference]:
    """The calls written in the chunk's lines, heaviest first: those in reviewed lines first."""
    weights: dict[tuple[str, str], float] = {}
    for number, line in enumerate(chunk.lines, chunk.start):
        if "(" not in line:
            continue
        reviewed = any(first <= number <= last for first, last in chunk.review)
        weight = REVIEWED_WEIGHT if reviewed else SHOWN_WEIGHT
        for match in _CALL.finditer(line):
            *qualifier, name = _SEPARATOR.split(match.group(1))
            if name in _NOT_CALLS or len(name) < 2:
                continue
            key = (".".join(qualifier), name)
            weights[key] = max(weights.get(key, 0.0), weight)
    ordered = sorted(weights.items(), key=lambda item: -item[1])
    return [Reference(name, qualifier, w) for (qualifier, name), w in ordered]


def called_signatures(index: WorkspaceIndex, chunk: Chunk, budget_tokens: int) -> str:
    """The signatures of what `chunk` calls from other files, as the prompt shows them, in at
    most `budget_tokens` (estimated); "" when there are none."""
    pieces = [
        p for p in definition_pieces(index, chunk.path, calls_in(chunk)) if p.path != chunk.path
    ]
    chosen = _fit(sorted(pieces, key=lambda p: -p.score), budget_tokens)
    if not chosen:
        return ""
    blocks = []
    for path in dict.fromkeys(p.path for p in chosen):
        shown = sorted((p for p in chosen if p.path == path), key=lambda p: p.start_line)
        blocks.append(f"{path}:\n" + "\n".join(_with_scope(p) for p in shown))
    return "\n\n".join(blocks)


def _fit(pieces: Sequence[Piece], budget: int) -> list[Piece]:
    chosen: list[Piece] = []
    seen: set[tuple[str, int]] = set()
    used = 0
    for piece in pieces:
        key = (piece.path, piece.start_line)
        cost = piece.tokens + 4  # its line break and, at worst, its file's header
        if key in seen or used + cost > budget:
            continue
        seen.add(key)
        chosen.append(piece)
        used += cost
    return chosen


def _with_scope(piece: Piece) -> str:
    header = piece.scope_header.rstrip()
    return f"{header}\n{piece.text}" if header else piece.text
