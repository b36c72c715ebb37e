"""Ranking the candidate pieces, fitting them and the cursor window into one token budget,
and laying them out as one block per file.

`context.maxTokens` covers everything: related code gets up to `RELATED_SHARE` of it (what it
does not use goes to the window), the cursor window the rest (three quarters before the
cursor, see `extract_window`). Pieces are taken best score first while they fit, each file
costing its block header once; a piece inside a chosen one (a method inside a chosen class
outline) is not taken twice, and a piece of the current file inside the window is not taken
at all. Blocks are ordered for providers' prompt caches: definitions first (they change least
while typing), then recent edits and similar code, then the excerpt of the current file, each
group by path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.extract import CursorContext, extract_window
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.snippets import Piece
from qwen_lsp.model import Position

RELATED_SHARE = 0.4  # the most of the budget related code may take
OWN_FILE_SHARE = 0.1  # of which the current file's excerpt (enclosing headers, far definitions)
MIN_SCORE = 0.5  # below this a piece is noise, whatever room is left
_BLOCK_OVERHEAD = 3  # `<|file_sep|>` and the line break, besides the path itself
_SEPARATOR = estimate_tokens("\n\n")  # the blank line between two pieces
_CHARS_PER_TOKEN_FLOOR = 2.5  # code this dense is rare: a window of budget*2.5 chars fits
_LAYOUT_GROUP = {"definition": 0, "import": 0, "recent": 1, "similar": 1, "scope": 1}


@dataclass(frozen=True, slots=True)
class RelatedCode:
    """One file's block of related code in the prompt."""

    path: str
    content: str
    tokens: int
    sources: tuple[str, ...]  # what brought each part: definition, import, scope, ...


Gather = Callable[[int], Sequence[Piece]]


def assemble(
    document: SourceDocument,
    position: Position,
    *,
    path: str,
    max_tokens: int,
    gather: Gather | None,
    repo_name: str | None,
) -> CursorContext:
    """The cursor window and the related code for a completion at `position`, together
    within `max_tokens`. Without `gather` (no workspace, a language without queries) it is
    the window alone."""
    if gather is None:
        return extract_window(document, position, max_tokens=max_tokens, path=path)
    cursor = document.offset_at(position)
    pieces = gather(cursor)
    if not pieces:
        ctx = extract_window(document, position, max_tokens=max_tokens, path=path)
        return dataclasses.replace(ctx, repo_name=repo_name)
    cap = int(max_tokens * RELATED_SHARE)
    cursor_line = document.line_at(cursor)
    # Pieces of the current file compete with the others by score (a method of the receiver's
    # class defined further up this file matters as much as one in another file), within
    # `OWN_FILE_SHARE`; those the smallest window would show anyway are not candidates.
    smallest_window = int((max_tokens - cap) * 0.75 * _CHARS_PER_TOKEN_FLOOR)
    surely_shown = document.line_at(max(cursor - smallest_window, 0))
    own = [p for p in pieces if p.path == path and not surely_shown <= p.start_line <= cursor_line]
    others = [p for p in pieces if p.path != path]
    chosen = select(others + own, cap, limits={path: int(max_tokens * OWN_FILE_SHARE)})
    used = cost(chosen)
    ctx = extract_window(document, position, max_tokens=max_tokens - used, path=path)
    if any(p.path == path for p in chosen):
        first = document.line_at(cursor - len(ctx.prefix))
        last = document.line_at(cursor + len(ctx.suffix))
        # what the window shows is not repeated above it
        chosen = [p for p in chosen if p.path != path or p.end_line < first or p.start_line > last]
    blocks = fit(chosen, used, path)
    return dataclasses.replace(ctx, snippets=tuple(blocks), repo_name=repo_name)


def fit(pieces: Sequence[Piece], allowance: int, current_path: str) -> list[RelatedCode]:
    """The blocks of `pieces`, least wanted pieces dropped until the blocks as laid out
    (headers shared, blank lines added) are within `allowance`."""
    pieces = sorted(pieces, key=lambda p: -p.score)
    while True:
        blocks = layout(pieces, current_path)
        if not pieces or sum(b.tokens + block_overhead(b.path) for b in blocks) <= allowance:
            return blocks
        pieces = pieces[:-1]


@lru_cache(maxsize=4096)
def block_overhead(path: str) -> int:
    return _BLOCK_OVERHEAD + estimate_tokens(path)


def cost(pieces: Sequence[Piece]) -> int:
    """Tokens the pieces take in a prompt, with one block header per file and a line break
    between pieces."""
    return sum(p.tokens + _SEPARATOR for p in pieces) + sum(
        block_overhead(path) for path in {p.path for p in pieces}
    )


def select(
    pieces: Sequence[Piece], budget: int, limits: dict[str, int] | None = None
) -> list[Piece]:
    """The best pieces that fit `budget` (and the `limits` of some files): highest score
    first, skipping what does not fit or is already shown by a chosen piece."""
    chosen: list[Piece] = []
    files: set[str] = set()
    used = 0
    per_file: dict[str, int] = {}
    limits = limits or {}
    for piece in sorted(pieces, key=lambda p: (-p.score, p.path, p.start_line)):
        if piece.score < MIN_SCORE:
            break
        if any(_covers(other, piece) for other in chosen):
            continue
        price = piece.tokens + _SEPARATOR
        price += 0 if piece.path in files else block_overhead(piece.path)
        if used + price > budget:
            continue
        limit = limits.get(piece.path)
        if limit is not None and per_file.get(piece.path, 0) + price > limit:
            continue
        per_file[piece.path] = per_file.get(piece.path, 0) + price
        covered = [c for c in chosen if _covers(piece, c)]  # a class after its method
        if covered:
            chosen = [c for c in chosen if c not in covered]
            used -= sum(c.tokens + _SEPARATOR for c in covered)
        chosen.append(piece)
        files.add(piece.path)
        used += price
    return chosen


def _covers(outer: Piece, inner: Piece) -> bool:
    """Whether `outer` shows what `inner` does: its lines hold inner's, and when `outer` is an
    outline (a class cut to its members' headers), it still shows inner's first line."""
    if not (
        outer.path == inner.path
        and outer.start_line <= inner.start_line
        and inner.end_line <= outer.end_line
        and (outer is not inner)
    ):
        return False
    if outer.text.count("\n") >= outer.end_line - outer.start_line:
        return True  # shown whole
    first = inner.text.lstrip().split("\n", 1)[0].strip().removesuffix("...").strip()
    return " ".join(first.split()) in " ".join(outer.text.split())


def layout(pieces: Sequence[Piece], current_path: str = "") -> list[RelatedCode]:
    """One block per file, pieces in line order under their scope headers; blocks ordered
    for prompt caches (see the module docstring), the current file's excerpt last."""
    by_path: dict[str, list[Piece]] = {}
    for piece in pieces:
        by_path.setdefault(piece.path, []).append(piece)
    blocks = []
    for path, group in by_path.items():
        group.sort(key=lambda p: (p.start_line, -p.end_line))
        lines: list[str] = []
        header = ""
        for piece in group:
            under_header = bool(piece.scope_header) and piece.scope_header.strip() == header
            if lines and not under_header:
                lines.append("")  # a blank line between top-level definitions, as in code
            if piece.scope_header and not under_header:
                lines.append(piece.scope_header)
            # an enclosing header shown as a piece is the header of the methods under it
            header = (piece.text if piece.source == "scope" else piece.scope_header).strip()
            lines.append(piece.text)
        content = "\n".join(lines)
        rank = 2 if path == current_path else min(_LAYOUT_GROUP[p.source] for p in group)
        sources = tuple(dict.fromkeys(p.source for p in group))
        blocks.append((rank, path, RelatedCode(path, content, estimate_tokens(content), sources)))
    blocks.sort(key=lambda item: (item[0], item[1]))
    return [block for _, _, block in blocks]
