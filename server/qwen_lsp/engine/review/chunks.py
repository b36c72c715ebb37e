"""Review chunks: the pieces of code one review request sees, cut at syntax units.

A whole file is cut into units at its top-level nodes (a unit that is over the token budget
is cut again at its children, and at lines as the last resort), and the units are packed into
chunks within the budget. Where a chunk ends is decided by the content of the unit before the
cut, not by how much came before it, so an edit near the top of a file changes the chunks
around the edit and leaves the later ones identical: their answers stay in the cache.
A changed hunk (`--diff`) is reviewed inside its enclosing function or class, which the model
sees as context; only the hunk's lines are under review. The budget counts the code as the
prompt shows it (each line with its number) in Qwen's own tokens, with the tokenizer that
ships with the dashscope package when it is installed (`context/tokenizer.py`), else with the
estimate of `context/budget.py`. Lines here are 0-based inside the
module and 1-based on a `Chunk`, as the review answer schema numbers them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from tree_sitter import Node

from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.tokenizer import qwen_token_counter

LineRange = tuple[int, int]  # first and last line, both included

# Nodes that are "a function or a class" in the bundled grammars: a changed hunk is reviewed
# with the innermost one around it as context.
DEFINITIONS = frozenset(
    {
        # python
        "function_definition",
        "class_definition",
        "decorated_definition",
        # javascript, typescript
        "function_declaration",
        "generator_function_declaration",
        "function_expression",
        "arrow_function",
        "method_definition",
        "class_declaration",
        "abstract_class_declaration",
        "interface_declaration",
        "enum_declaration",
        # go
        "method_declaration",
        "type_declaration",
        "func_literal",
        # rust
        "function_item",
        "impl_item",
        "trait_item",
        "struct_item",
        "enum_item",
        "mod_item",
        # java
        "constructor_declaration",
        "record_declaration",
        # c, c++
        "struct_specifier",
        "class_specifier",
        "union_specifier",
        "enum_specifier",
        "namespace_definition",
    }
)

# Each numbered line costs its number and separator ("123 | ") on top of its code: Qwen
# splits numbers into digits, so up to 3 digits and " |" and the space, for chunks of fewer than
# 1,000 lines; the padding of shorter numbers merges into one token.
_LINE_NUMBER_TOKENS = 4
# A chunk may end once it holds this share of the budget, at a unit whose content says so.
_MIN_FILL = 4
_CUT_EVERY = 3  # about one unit in three ends a chunk, once the chunk is full enough
# Lines shown on each side of a change that has no enclosing function or class.
_WINDOW = 3


@dataclass(frozen=True)
class Chunk:
    """Code shown to the model: `lines` from file line `start`, of which `review` is judged."""

    path: str  # relative, with forward slashes: what the model and the reports see
    language: str | None
    start: int  # 1-based file line of lines[0]
    lines: tuple[str, ...]
    review: tuple[LineRange, ...]  # 1-based file lines under review, inside the chunk

    @property
    def end(self) -> int:
        return self.start + len(self.lines) - 1

    def line_text(self, line: int) -> str:
        """The code of 1-based file line `line` ("" outside the chunk)."""
        index = line - self.start
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def under_review(self, line: int, end_line: int) -> bool:
        """Whether lines `line`..`end_line` are shown and touch a line under review."""
        if not (self.start <= line <= end_line <= self.end):
            return False
        return any(line <= last and first <= end_line for first, last in self.review)

    @property
    def reviewed_lines(self) -> int:
        return sum(last - first + 1 for first, last in self.review)


def token_counter() -> Callable[[str], int]:
    """Qwen's exact token count when its tokenizer is installed, else the estimate."""
    return qwen_token_counter() or estimate_tokens


class _Costs:
    """Tokens of any line range of a document as the prompt numbers it, from prefix sums over
    its lines."""

    def __init__(self, doc: SourceDocument) -> None:
        self.doc = doc
        count = token_counter()
        known: dict[str, int] = {}  # blank lines, closing brackets, `return x`: counted once

        def cost(line: str) -> int:
            tokens = known.get(line)
            if tokens is None:
                tokens = known[line] = count(line + "\n") + _LINE_NUMBER_TOKENS
            return tokens

        per_line = (cost(doc.line(n)) for n in range(doc.line_count))
        self._sums = [0, *accumulate(per_line)]

    def __call__(self, first: int, last: int) -> int:
        return self._sums[last + 1] - self._sums[first]


def whole_file_chunks(doc: SourceDocument, path: str, budget: int) -> list[Chunk]:
    """Every line of `doc`, in chunks of at most `budget` tokens (a single longer line
    makes its own chunk)."""
    last = _last_line(doc)
    if last < 0:
        return []
    costs = _Costs(doc)
    tree = doc.tree
    if tree is None:
        pieces = _line_pieces(costs, 0, last, budget)
    else:
        pieces = _pieces(tree.root_node, 0, last, costs, budget)
    return [
        _chunk(doc, path, first, end, [(first, end)]) for first, end in _pack(pieces, costs, budget)
    ]


def changed_chunks(
    doc: SourceDocument, path: str, hunks: Iterable[LineRange], budget: int
) -> list[Chunk]:
    """Chunks reviewing only `hunks` (1-based line ranges of `doc`), each shown inside its
    enclosing function or class when that fits the budget, else with a few lines around it."""
    last = _last_line(doc)
    costs = _Costs(doc)
    contexts: dict[LineRange, list[LineRange]] = {}
    for first, end in sorted(hunks):
        first, end = max(first - 1, 0), min(end - 1, last)
        if first > end:
            continue
        if costs(first, end) > budget:
            # A change this big (a new file, a rewrite) is reviewed as code of its own.
            tree = doc.tree
            pieces = (
                _pieces(tree.root_node, first, end, costs, budget)
                if tree is not None
                else _line_pieces(costs, first, end, budget)
            )
            for piece in _pack(pieces, costs, budget):
                contexts.setdefault(piece, []).append(piece)
            continue
        context = _enclosing_definition(doc, first, end)
        if context is None or costs(*context) > budget:
            context = _window(costs, first, end, last, budget)
        contexts.setdefault(context, []).append((first, end))
    merged = _merge_contexts(contexts, costs, budget)
    return [_chunk(doc, path, first, end, review) for (first, end), review in merged]


# -- units ----------------------------------------------------------------------------------


def _last_line(doc: SourceDocument) -> int:
    """The last line worth showing: a final line break does not start a line of code."""
    last = doc.line_count - 1
    while last >= 0 and not doc.line(last).strip():
        last -= 1
    return last


def _pieces(node: Node, first: int, last: int, costs: _Costs, budget: int) -> list[LineRange]:
    """Lines `first`..`last` of `node` as whole syntax units, each within budget if it can be."""
    if costs(first, last) <= budget:
        return [(first, last)]
    children = [
        child
        for child in node.named_children
        if child.end_point[0] >= first and child.start_point[0] <= last
    ]
    if len(children) == 1:
        return _pieces(children[0], first, last, costs, budget)
    if not children:
        return _line_pieces(costs, first, last, budget)
    out: list[LineRange] = []
    start = first
    for index, child in enumerate(children):
        end = last if index == len(children) - 1 else min(child.end_point[0], last)
        if end < start:
            continue  # shares its line with the child before
        # Blank lines and comments before a unit belong to it (a docstring-like comment
        # above a function is read with the function).
        out.extend(_pieces(child, start, end, costs, budget))
        start = end + 1
    return out


def _line_pieces(costs: _Costs, first: int, last: int, budget: int) -> list[LineRange]:
    """The last resort: consecutive lines within budget."""
    out: list[LineRange] = []
    start = first
    for line in range(first, last + 1):
        if line > start and costs(start, line) > budget:
            out.append((start, line - 1))
            start = line
    out.append((start, last))
    return out


def _pack(pieces: Sequence[LineRange], costs: _Costs, budget: int) -> list[LineRange]:
    """Consecutive pieces joined into chunks of at most `budget` tokens.

    A chunk ends where the next piece would not fit, or, once it holds a quarter of the
    budget, after a piece whose text hashes to a cut: the same code cuts in the same place
    wherever it moves in the file, so unchanged chunks keep their cache entries.
    """
    out: list[LineRange] = []
    start: int | None = None
    end = -1
    for first, last in pieces:
        if start is not None and costs(start, last) > budget:
            out.append((start, end))
            start = None
        if start is None:
            start = first
        end = last
        if costs(start, end) * _MIN_FILL >= budget and _cuts_after(costs.doc, first, last):
            out.append((start, end))
            start = None
    if start is not None:
        out.append((start, end))
    return out


def _cuts_after(doc: SourceDocument, first: int, last: int) -> bool:
    text = "\n".join(doc.line(n) for n in range(first, last + 1))
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % _CUT_EVERY == 0


# -- context of a change ----------------------------------------------------------------------


def _enclosing_definition(doc: SourceDocument, first: int, last: int) -> LineRange | None:
    """Lines of the innermost function or class holding lines `first`..`last`."""
    tree = doc.tree
    if tree is None:
        return None
    start_line, end_line = doc.line(first), doc.line(last)
    start_col = len(start_line) - len(start_line.lstrip())
    start = (first, len(start_line[:start_col].encode("utf-8", "surrogatepass")))
    end = (last, len(end_line.rstrip().encode("utf-8", "surrogatepass")))
    node: Node | None = tree.root_node.descendant_for_point_range(start, end)
    while node is not None:
        if node.type in DEFINITIONS and node.start_point[0] <= first and node.end_point[0] >= last:
            parent = node.parent
            if parent is not None and parent.type == "decorated_definition":
                node = parent  # the decorators are part of the function
            return node.start_point[0], node.end_point[0]
        node = node.parent
    return None


def _window(costs: _Costs, first: int, last: int, end_of_file: int, budget: int) -> LineRange:
    """A change with a few lines around it, as many as fit."""
    for around in range(_WINDOW, -1, -1):
        start, end = max(first - around, 0), min(last + around, end_of_file)
        if costs(start, end) <= budget:
            return start, end
    return first, last


def _merge_contexts(
    contexts: dict[LineRange, list[LineRange]], costs: _Costs, budget: int
) -> list[tuple[LineRange, list[LineRange]]]:
    """Overlapping contexts joined when the union fits, so no line is shown twice for nothing.
    Contexts that only touch stay apart: a chunk cut by `_pack` keeps its cut."""
    merged: list[tuple[LineRange, list[LineRange]]] = []
    for (first, last), hunks in sorted(contexts.items()):
        if merged:
            (prev_first, prev_last), prev_hunks = merged[-1]
            if first <= prev_last and costs(prev_first, max(last, prev_last)) <= budget:
                merged[-1] = ((prev_first, max(last, prev_last)), prev_hunks + hunks)
                continue
        merged.append(((first, last), list(hunks)))
    return merged


def _chunk(
    doc: SourceDocument, path: str, first: int, last: int, review: Iterable[LineRange]
) -> Chunk:
    return Chunk(
        path=path,
        language=doc.language,
        start=first + 1,
        lines=tuple(doc.line(n) for n in range(first, last + 1)),
        review=tuple(sorted((a + 1, b + 1) for a, b in review)),
    )
