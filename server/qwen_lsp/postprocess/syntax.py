"""The syntax filters: decide single or multi-line from the code at the cursor, and refuse an
answer that breaks code that parsed (or cut it to its longest part that parses).

`SyntaxProbe` parses a snippet around the cursor with tree-sitter: the top-level constructs
before and after the cursor, within the prompt's window, so a check costs a parse of a
function or two, not of the file. A snippet that does not parse on its own (the user is in
the middle of a statement, the window cut a construct) gives the filters nothing to compare
against, and they leave the answer alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node, Parser, Tree

from qwen_lsp.context.languages import get_parser
from qwen_lsp.postprocess.context import FilterContext, opens_block

if TYPE_CHECKING:
    from qwen_lsp.context.parsing import SourceDocument

_MAX_CUTS = 12  # parses spent looking for the longest prefix that parses
# A line ending like this cannot end a statement: the code around the cursor does not parse
# as it is, and a parse to find that out (error recovery is slow) is skipped.
_UNFINISHED = tuple("([{,=+-*/%<>&|^~!.\\")
_LITERAL_KINDS = ("string", "comment", "template", "heredoc", "char_literal")
_BLOCK_COMMENT_ENDS = (b"*/", b"-->", b"*)", b"-}", b"]]")  # /* */, <!-- -->, (* *), {- -}, --[[ ]]


class SyntaxProbe:
    """Parses the code around the cursor, with and without an answer inserted there."""

    def __init__(self, parser: Parser, before: str, after: str) -> None:
        self._parser = parser
        self._before = before
        self._after = after
        self._baseline: Tree | None = None
        self._verdicts: dict[str, bool] = {}
        end = after.find("\n")
        line = before[before.rfind("\n") + 1 :] + (after if end < 0 else after[:end])
        self._unfinished = line.rstrip().endswith(_UNFINISHED)

    @classmethod
    def for_text(cls, language: str | None, before: str, after: str) -> SyntaxProbe | None:
        parser = get_parser(language)
        return cls(parser, before, after) if parser is not None else None

    @classmethod
    def around(cls, document: SourceDocument, cursor: int, lo: int, hi: int) -> SyntaxProbe | None:
        """A probe over the top-level constructs next to `cursor` (string offsets), within
        `lo`..`hi`. Uses the document's recent tree, so it never re-parses the file."""
        parser = get_parser(document.language)
        if parser is None:
            return None
        start, end = _snippet_bounds(document, cursor)
        start, end = max(start, lo), min(end, hi)
        text = document.text
        return cls(parser, text[start:cursor], text[cursor:end])

    # -- questions the filters ask -------------------------------------------------------

    def baseline_parses(self) -> bool:
        if self._unfinished:
            return False
        return not self._baseline_tree().root_node.has_error

    def parses_with(self, answer: str) -> bool:
        verdict = self._verdicts.get(answer)
        if verdict is None:
            data = (self._before + answer + self._after).encode("utf-8", "surrogatepass")
            verdict = not self._parser.parse(data).root_node.has_error
            self._verdicts[answer] = verdict
        return verdict

    def in_literal(self) -> bool:
        """The cursor is inside a string or a comment (also at the end of a line comment)."""
        cursor = len(self._before.encode("utf-8", "surrogatepass"))
        root = self._baseline_tree().root_node
        # At a node's very end tree-sitter finds the node after it (or above): a line comment
        # the cursor ends is found from the byte before the cursor, on the cursor's line.
        before = root.descendant_for_byte_range(cursor - 1, cursor) if cursor else None
        if not self._before.endswith(("\n", "\r")) and _ends_line_comment(before):
            return True
        # The node at the cursor may be a literal's own delimiter (the closing quote the
        # cursor stands before, the content after the opening one): look at what holds it.
        node = root.descendant_for_byte_range(cursor, cursor)
        while node is not None:
            inside = node.start_byte < cursor < node.end_byte
            if inside and any(kind in node.type for kind in _LITERAL_KINDS):
                return True
            node = node.parent
        return False

    def _baseline_tree(self) -> Tree:
        if self._baseline is None:
            data = (self._before + self._after).encode("utf-8", "surrogatepass")
            self._baseline = self._parser.parse(data)
        return self._baseline


def _ends_line_comment(node: Node | None) -> bool:
    """`node` (holding the byte before the cursor) is, or is inside, a comment that runs to
    the end of its line and ends at the cursor: typing there still writes the comment."""
    while node is not None and "comment" not in node.type:
        node = node.parent
    if node is None:
        return False
    text = (node.text or b"").rstrip(b"\r\n")
    return not text.endswith(_BLOCK_COMMENT_ENDS) and b"\n" not in text


def _snippet_bounds(document: SourceDocument, cursor: int) -> tuple[int, int]:
    """From the start of the top-level construct at or before the cursor to the end of the
    one at or after it (string offsets); the whole text when there is no tree."""
    tree = document.recent_tree
    if tree is None:
        return 0, len(document.text)
    root = tree.root_node
    target = document.byte_offset(cursor)
    index = _first_child_ending_after(root, target)
    after = root.child(index) if index < root.child_count else None
    if after is not None and after.start_byte <= target:
        first = last = after  # the cursor is inside this construct
    else:
        last = after
        first = root.child(index - 1) if index > 0 else None
    start = document.offset_at_point(first.start_point) if first is not None else 0
    end = document.offset_at_point(last.end_point) if last is not None else len(document.text)
    return start, max(end, cursor)


def _first_child_ending_after(node: Node, target: int) -> int:
    """Index of the first child of `node` that ends after byte `target` (child_count: none).

    A binary search: `Node.first_child_for_byte` would do, but crashes the interpreter when
    no child qualifies (py-tree-sitter 0.25/0.26).
    """
    lo, hi = 0, node.child_count
    while lo < hi:
        mid = (lo + hi) // 2
        if node.child(mid).end_byte <= target:
            lo = mid + 1
        else:
            hi = mid
    return lo


# -- the filters ------------------------------------------------------------------------


def cut_to_parsing_prefix(text: str, ctx: FilterContext) -> str | None:
    """Code that parsed must still parse with the answer in it: keep the longest run of whole
    lines of the answer that parses, or drop the answer."""
    probe = ctx.syntax
    if probe is None or not probe.baseline_parses() or probe.parses_with(text):
        return text
    lines = text.split("\n")
    for count in range(len(lines) - 1, max(len(lines) - 1 - _MAX_CUTS, 0), -1):
        candidate = "\n".join(lines[:count]).rstrip()
        if candidate.strip() and probe.parses_with(candidate):
            return candidate
    return None


def decide_single_or_multi_line(text: str, ctx: FilterContext) -> str | None:
    """Show several lines only where the code at the cursor calls for them: on a blank line,
    or after a line that opens a block, literal or call. Elsewhere the first line is shown
    (the rest is kept for the next lines), unless that line alone would break the parse.
    Inside a string or a comment it is always one line."""
    if "\n" not in text:
        return text
    first = text.split("\n", 1)[0]
    probe = ctx.syntax
    if probe is not None and probe.in_literal():
        return first or None
    if ctx.at_blank_line or opens_block(ctx.line_prefix + first):
        return text
    if (
        probe is not None
        and probe.baseline_parses()
        and probe.parses_with(text)
        and not probe.parses_with(first)
    ):
        return text  # the first line alone leaves a construct open; the whole answer closes it
    return first or None
