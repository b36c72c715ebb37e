"""The cursor window: the text before and after the cursor that fits a token budget.

`extract_window` owns how much of the current file a completion prompt sees and where the cut
falls. A model continues code best when its prefix starts where code starts, so a cut prefix
begins at the start of a line, preferably at the start of a top-level or statement-level node
of the tree-sitter tree; a cut suffix ends after a complete line, preferably after a complete
node. Without a tree the cuts fall at line boundaries. It runs on every completion request, so
it measures tokens only over candidate windows near the cursor and reaches the tree through
the cursor's neighbourhood, never by walking the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tree_sitter import Node

from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.model import Position

if TYPE_CHECKING:
    from qwen_lsp.context.ranking import RelatedCode

# Node types whose children are statements or declarations, in the bundled grammars: a cut at
# the start (or after the end) of one of their children falls between whole constructs.
_STATEMENT_LISTS = frozenset(
    {
        "module",  # python
        "block",  # python, go, rust, java
        "program",  # javascript, typescript, java
        "statement_block",  # javascript, typescript
        "class_body",  # javascript, typescript, java
        "interface_body",  # typescript, java
        "enum_body",  # typescript, java
        "constructor_body",  # java
        "switch_block",  # java
        "source_file",  # go, rust
        "statement_list",  # go
        "field_declaration_list",  # go, rust, c, cpp
        "declaration_list",  # rust, cpp
        "translation_unit",  # c, cpp
        "compound_statement",  # c, cpp
    }
)

_NON_SPACE = re.compile(r"\S")
# A boundary between whole constructs may cost part of the window over the nearest line
# boundary: up to 1/4 for the outermost construct in reach; for the nearest one, up to 1/2
# of a prefix (the suffix takes any).
_NEAR_SLACK = 4
_FAR_SLACK = 2
_FIRST_GUESS_CHARS_PER_TOKEN = 4  # code runs 3-4 characters a token; a low guess costs a rescan
_MAX_ATTEMPTS = 4  # snapping to a node, then re-measuring, rarely needs more than one retry


@dataclass(frozen=True)
class CursorContext:
    """What a completion prompt sees of the current file."""

    prefix: str  # text before the cursor
    suffix: str  # text after the cursor
    language: str | None  # canonical language name, None for plain text
    path: str  # path of the file as given (relative to the workspace)
    prefix_truncated: bool  # the prefix does not reach the start of the file
    suffix_truncated: bool  # the suffix does not reach the end of the file
    # code from elsewhere in the repository, one block per file, stable blocks first
    snippets: tuple[RelatedCode, ...] = ()
    repo_name: str | None = None  # the workspace folder's name; None outside a workspace


def extract_window(
    doc: SourceDocument,
    pos: Position,
    *,
    max_tokens: int = 2048,
    path: str = "",
    prefix_share: float = 0.75,
) -> CursorContext:
    """The text around `pos` within `max_tokens` (estimated), cut at syntactic boundaries.

    The prefix gets `prefix_share` of the budget and the suffix the rest; a side that needs
    less than its share leaves the remainder to the other. The only cut inside a line is on
    the cursor's own line, when the part of it on one side is over that side's budget alone
    (minified code).
    """
    text = doc.text
    cursor = doc.offset_at(pos)
    max_tokens = max(max_tokens, 0)
    prefix_budget = int(max_tokens * min(max(prefix_share, 0.0), 1.0))
    suffix_budget = max_tokens - prefix_budget

    before = _measure_before(text, cursor, prefix_budget)
    after = _measure_after(text, cursor, suffix_budget)
    if before.fits and not after.fits:
        suffix_budget = max_tokens - before.tokens
        after = _measure_after(text, cursor, suffix_budget)
    elif after.fits and not before.fits:
        prefix_budget = max_tokens - after.tokens
        before = _measure_before(text, cursor, prefix_budget)

    start = 0 if before.fits else _cut_prefix(doc, cursor, prefix_budget, before)
    end = len(text) if after.fits else _cut_suffix(doc, cursor, suffix_budget, after)
    return CursorContext(
        prefix=text[start:cursor],
        suffix=text[cursor:end],
        language=doc.language,
        path=path,
        prefix_truncated=start > 0,
        suffix_truncated=end < len(text),
    )


@dataclass(frozen=True)
class _Measure:
    """Tokens in a window reaching from the cursor to `edge`; `fits` when that window is the
    whole side and within budget. Otherwise the window holds at least the budget."""

    edge: int
    tokens: int
    fits: bool

    def chars_per_token(self, cursor: int) -> float:
        return abs(cursor - self.edge) / max(self.tokens, 1)


def _measure_before(text: str, cursor: int, budget: int) -> _Measure:
    span = max(budget, 1) * _FIRST_GUESS_CHARS_PER_TOKEN
    while True:
        edge = max(cursor - span, 0)
        tokens = estimate_tokens(text[edge:cursor])
        if tokens > budget or edge == 0:
            return _Measure(edge, tokens, edge == 0 and tokens <= budget)
        span = _grown(span, tokens, budget)


def _measure_after(text: str, cursor: int, budget: int) -> _Measure:
    span = max(budget, 1) * _FIRST_GUESS_CHARS_PER_TOKEN
    while True:
        edge = min(cursor + span, len(text))
        tokens = estimate_tokens(text[cursor:edge])
        if tokens > budget or edge == len(text):
            return _Measure(edge, tokens, edge == len(text) and tokens <= budget)
        span = _grown(span, tokens, budget)


def _grown(span: int, tokens: int, budget: int) -> int:
    # aim a little past the budget so one more measurement usually settles it
    return max(span * 2, int(span * 1.25 * budget / max(tokens, 1)))


# -- the prefix -----------------------------------------------------------------------------


def _cut_prefix(doc: SourceDocument, cursor: int, budget: int, measure: _Measure) -> int:
    """Where a prefix that does not fit starts."""
    if budget <= 0:
        return cursor
    text = doc.text
    chars_per_token = measure.chars_per_token(cursor)
    target = max(cursor - int(budget * chars_per_token), measure.edge)
    for attempt in range(_MAX_ATTEMPTS):
        start = _prefix_boundary(doc, target, cursor, structural=attempt < _MAX_ATTEMPTS - 1)
        excess = estimate_tokens(text[start:cursor]) - budget
        if excess <= 0:
            return start
        target = start + max(int(excess * chars_per_token), 1)
    return _first_fitting_line_start(doc, target, cursor, budget)


def _prefix_boundary(doc: SourceDocument, target: int, cursor: int, *, structural: bool) -> int:
    """The best place at or after `target` for a prefix to start."""
    cursor_line_start = doc.line_start(doc.line_at(cursor))
    line = doc.line_at(target)
    first_line_start = target if doc.line_start(line) == target else doc.line_start(line + 1)
    if first_line_start > cursor_line_start:
        return target  # the cursor's line alone is over budget
    if not structural or doc.recent_tree is None:
        return first_line_start
    near = min(target + (cursor - target) // _NEAR_SLACK, cursor_line_start)
    far = min(target + (cursor - target) // _FAR_SLACK, cursor_line_start)
    node_start = _statement_start_after(doc, target, first_line_start, near, far)
    return first_line_start if node_start is None else node_start


def _statement_start_after(
    doc: SourceDocument, target: int, first_line_start: int, near: int, far: int
) -> int | None:
    """The line start of a whole construct starting in [target, far]: the outermost one
    starting by `near`, else the nearest."""
    tree = doc.recent_tree
    assert tree is not None
    # Probe the tree at the first code after `target`, not at `target`: a target inside a
    # class header has the class body's statements below it, but not among its ancestors.
    code = _NON_SPACE.search(doc.text, first_line_start, far + 1)
    point = doc.point_at(code.start() if code else target)
    target_byte = doc.byte_offset(target)
    node: Node | None = tree.root_node.descendant_for_point_range(point, point)
    found = []  # from the innermost statement list out
    while node is not None:
        if node.parent is None or node.type in _STATEMENT_LISTS:
            start = _first_child_starting_a_line(doc, node, target, target_byte, far)
            if start is not None:
                found.append(start)
        node = node.parent
    return _outermost_in_reach(found, lambda start: start <= near, nearest=min)


def _outermost_in_reach(
    found: list[int], in_reach: Callable[[int], bool], nearest: Callable[[list[int]], int]
) -> int | None:
    """From boundaries found innermost construct first: the outermost in reach, else the
    nearest to the target."""
    for boundary in reversed(found):
        if in_reach(boundary):
            return boundary
    return nearest(found) if found else None


def _first_child_starting_a_line(
    doc: SourceDocument, parent: Node, target: int, target_byte: int, limit: int
) -> int | None:
    text = doc.text
    child = _first_child_ending_after(parent, target_byte)
    if child is not None and (child.start_byte < target_byte or not child.is_named):
        child = child.next_named_sibling
    while child is not None:
        start = doc.offset_at_point(child.start_point)
        if start > limit:
            return None
        line_start = doc.line_start(doc.line_at(start))
        if line_start >= target and not text[line_start:start].strip():
            return line_start
        child = child.next_named_sibling
    return None


def _first_child_ending_after(parent: Node, byte: int) -> Node | None:
    """The first child of `parent` (named or not) that ends after `byte`.

    Through a TreeCursor: py-tree-sitter 0.26's `Node.first_named_child_for_byte` crashes the
    process when no child qualifies.
    """
    cursor = parent.walk()
    return cursor.node if cursor.goto_first_child_for_byte(byte) is not None else None


def _first_fitting_line_start(doc: SourceDocument, target: int, cursor: int, budget: int) -> int:
    """The earliest line start after `target` whose window fits: the last resort when the
    estimate keeps overshooting. Estimates shrink as the start moves down, so bisect."""
    text = doc.text
    first, last = doc.line_at(target) + 1, doc.line_at(cursor)
    while first < last:
        middle = (first + last) // 2
        if estimate_tokens(text[doc.line_start(middle) : cursor]) <= budget:
            last = middle
        else:
            first = middle + 1
    if first == last and estimate_tokens(text[doc.line_start(first) : cursor]) <= budget:
        return doc.line_start(first)
    low, high = max(target, doc.line_start(doc.line_at(cursor))), cursor
    while low < high:  # a single line over budget: bisect its characters
        middle = (low + high) // 2
        if estimate_tokens(text[middle:cursor]) <= budget:
            high = middle
        else:
            low = middle + 1
    return low


# -- the suffix -----------------------------------------------------------------------------


def _cut_suffix(doc: SourceDocument, cursor: int, budget: int, measure: _Measure) -> int:
    """Where a suffix that does not fit ends."""
    if budget <= 0:
        return cursor
    text = doc.text
    chars_per_token = measure.chars_per_token(cursor)
    target = min(cursor + int(budget * chars_per_token), measure.edge)
    for attempt in range(_MAX_ATTEMPTS):
        end = _suffix_boundary(doc, target, cursor, structural=attempt < _MAX_ATTEMPTS - 1)
        excess = estimate_tokens(text[cursor:end]) - budget
        if excess <= 0:
            return end
        target = end - max(int(excess * chars_per_token), 1)
    return _last_fitting_line_end(doc, target, cursor, budget)


def _suffix_boundary(doc: SourceDocument, target: int, cursor: int, *, structural: bool) -> int:
    """The best place at or before `target` for a suffix to end (after a line break)."""
    last_line_end = doc.line_start(doc.line_at(target))
    if last_line_end <= cursor:
        return target  # the rest of the cursor's line alone is over budget
    if not structural or doc.recent_tree is None:
        return last_line_end
    near = max(target - (target - cursor) // _NEAR_SLACK, cursor)
    # Any whole construct beats a ragged end: what a completion needs from the suffix is
    # where the code it writes must stop, and that is near the cursor.
    far = cursor + 1
    node_end = _statement_end_before(doc, target, last_line_end, near, far)
    return last_line_end if node_end is None else node_end


def _statement_end_before(
    doc: SourceDocument, target: int, last_line_end: int, near: int, far: int
) -> int | None:
    """The start of the line after a whole construct ending in [far, target]: the outermost
    one ending from `near` on, else the nearest."""
    tree = doc.recent_tree
    assert tree is not None
    # probe at the last code before the line end (see `_statement_start_after`)
    code_end = far + len(doc.text[far:last_line_end].rstrip())
    point = doc.point_at(code_end - 1 if code_end > far else target)
    target_byte = doc.byte_offset(target)
    node: Node | None = tree.root_node.descendant_for_point_range(point, point)
    found = []
    while node is not None:
        if node.parent is None or node.type in _STATEMENT_LISTS:
            end = _last_child_ending_a_line(doc, node, target, target_byte, far)
            if end is not None:
                found.append(end)
        node = node.parent
    return _outermost_in_reach(found, lambda end: end >= near, nearest=max)


def _last_child_ending_a_line(
    doc: SourceDocument, parent: Node, target: int, target_byte: int, floor: int
) -> int | None:
    text = doc.text
    child = _first_child_ending_after(parent, target_byte)
    if child is not None:
        child = child.prev_named_sibling  # every child before it ends by target_byte
    elif parent.named_child_count:
        child = parent.named_child(parent.named_child_count - 1)
    while child is not None:
        end = doc.offset_at_point(child.end_point)
        line = doc.line_at(end)
        next_line_start = doc.line_start(line + 1)
        if next_line_start < floor:
            return None
        _, content_end = doc.line_range(line)
        if next_line_start <= target and not text[end:content_end].strip():
            return next_line_start
        child = child.prev_named_sibling
    return None


def _last_fitting_line_end(doc: SourceDocument, target: int, cursor: int, budget: int) -> int:
    """The latest line end before `target` whose window fits (see `_first_fitting_line_start`)."""
    text = doc.text
    first, last = doc.line_at(cursor) + 1, doc.line_at(target)
    while first < last:
        middle = (first + last + 1) // 2
        if estimate_tokens(text[cursor : doc.line_start(middle)]) <= budget:
            first = middle
        else:
            last = middle - 1
    if first == last and estimate_tokens(text[cursor : doc.line_start(first)]) <= budget:
        return doc.line_start(first)
    low, high = cursor, min(target, doc.line_start(doc.line_at(cursor) + 1))
    while low < high:  # a single line over budget: bisect its characters
        middle = (low + high + 1) // 2
        if estimate_tokens(text[cursor:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return low
