"""Which code a code action works on, read from the document and its tree-sitter tree.

A selection becomes the whole lines it touches, so a model's answer replaces complete lines
and keeps their indentation. A bare cursor becomes the smallest definition around it
(function, method, class, with its decorators and the doc comment above it), else the
top-level statement it is in, else (for actions that make sense on a whole file) the file.
This module also finds the comments in a region, for the translation action, and the lines
around it that a prompt shows for context. Everything here is pure and cheap: it runs while
actions are listed.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from tree_sitter import Node, Query, QueryCursor, Tree

from qwen_lsp.context.languages import get_language
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.model import Position

# Node types that define something a user would ask about as a unit, in the bundled grammars.
DEFINITIONS = frozenset(
    {
        "function_definition",  # python, c, cpp
        "class_definition",  # python
        "decorated_definition",  # python: the decorators belong to the definition
        "function_declaration",  # javascript, typescript, go
        "generator_function_declaration",  # javascript, typescript
        "method_definition",  # javascript, typescript
        "class_declaration",  # javascript, typescript, java
        "abstract_class_declaration",  # typescript
        "interface_declaration",  # typescript, java
        "arrow_function",  # javascript, typescript
        "method_declaration",  # go, java
        "constructor_declaration",  # java
        "enum_declaration",  # java, typescript
        "type_declaration",  # go
        "function_item",  # rust
        "impl_item",  # rust
        "struct_item",  # rust
        "enum_item",  # rust
        "trait_item",  # rust
        "struct_specifier",  # c, cpp
        "class_specifier",  # cpp
    }
)
_COMMENT_KINDS = ("comment", "line_comment", "block_comment")
_REMEMBERED = 8  # texts whose comments are remembered (the few files a user moves around in)
_remembered: OrderedDict[tuple[str, str | None, int, int, bool], tuple[str, ...]] = OrderedDict()
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


@dataclass(frozen=True)
class Region:
    """Whole lines `first_line`..`last_line` (0-based, both included) of a document.

    `start` is the string offset where the first line starts, `end` where the last line's
    content ends (before its line break), so `text[start:end]` is the code without a final
    newline.
    """

    start: int
    end: int
    first_line: int
    last_line: int
    whole_file: bool = False

    def text(self, doc: SourceDocument) -> str:
        return doc.text[self.start : self.end]


def lines_region(doc: SourceDocument, first: int, last: int) -> Region:
    first = min(max(first, 0), doc.line_count - 1)
    last = min(max(last, first), doc.line_count - 1)
    whole = first == 0 and last == doc.line_count - 1
    return Region(doc.line_start(first), doc.line_range(last)[1], first, last, whole)


def file_region(doc: SourceDocument) -> Region:
    last = doc.line_count - 1
    # A final line break leaves an empty last line, which is no code.
    if last > 0 and doc.line(last) == "":
        last -= 1
    return Region(0, doc.line_range(last)[1], 0, last, True)


def region_for(
    doc: SourceDocument,
    start: Position,
    end: Position,
    *,
    whole_file_fallback: bool = False,
    fresh: bool = True,
) -> Region:
    """The code an action at `start`..`end` works on (see the module docstring).

    With `fresh` False the last tree is used without parsing the latest edits (see
    `SourceDocument.recent_tree`): right for listing, where a keystroke must not cost a parse.
    """
    if (end.line, end.character) < (start.line, start.character):
        start, end = end, start
    if (start.line, start.character) != (end.line, end.character):
        last = end.line
        if end.character == 0 and end.line > start.line:
            last -= 1  # a selection of whole lines ends at the start of the next one
        return lines_region(doc, start.line, last)
    node = _node_at_cursor(doc, start.line, fresh)
    if node is not None:
        definition = _enclosing(node, lambda n: n.type in DEFINITIONS)
        if definition is not None:
            definition = _with_decorators(definition)
            return _node_region(doc, definition, _leading_comments(definition))
        if whole_file_fallback:
            return file_region(doc)
        statement = _enclosing(node, lambda n: n.parent is not None and n.parent.parent is None)
        if statement is not None:
            return _node_region(doc, statement)
    if whole_file_fallback:
        return file_region(doc)
    return lines_region(doc, start.line, start.line)


def is_blank(doc: SourceDocument, region: Region) -> bool:
    return not region.text(doc).strip()


def comments_in(doc: SourceDocument, region: Region, *, fresh: bool = True) -> tuple[str, ...]:
    """The comments (and Python docstrings) inside `region`, in order.

    A tree-sitter query over the region's byte range (about 5 ms for a whole 5,000-line file,
    where walking its nodes in Python would cost a hundred), remembered for the last few texts,
    so moving the cursor around an unchanged file asks again for nothing.
    """
    tree = doc.tree if fresh else doc.recent_tree
    if tree is None:
        return ()
    # The text is the key (its hash is computed once per string); a tree with edits not yet
    # parsed may differ inside them, so it is remembered apart.
    key = (doc.text, doc.language, region.start, region.end, doc.stale)
    found = _remembered.get(key)
    if found is None:
        found = _query_comments(doc, tree, region)
        _remembered[key] = found
        while len(_remembered) > _REMEMBERED:
            _remembered.popitem(last=False)
    _remembered.move_to_end(key)
    return found


def _query_comments(doc: SourceDocument, tree: Tree, region: Region) -> tuple[str, ...]:
    query = _comment_query(doc.language)
    if query is None:
        return ()
    cursor = QueryCursor(query)
    cursor.set_byte_range(doc.byte_offset(region.start), doc.byte_offset(region.end))
    nodes = [node for found in cursor.captures(tree.root_node).values() for node in found]
    nodes.sort(key=lambda n: n.start_byte)
    # From the text: a recent tree's nodes have current positions, but not current text.
    text = doc.text
    return tuple(
        text[doc.offset_at_point(n.start_point) : doc.offset_at_point(n.end_point)] for n in nodes
    )


@lru_cache(maxsize=16)
def _comment_query(language: str | None) -> Query | None:
    grammar = get_language(language)
    if grammar is None:
        return None
    kinds = [k for k in _COMMENT_KINDS if grammar.id_for_node_kind(k, True)]
    patterns = [f"({kind}) @comment" for kind in kinds]
    if language == "python":
        patterns += [
            f"({body} . (expression_statement (string) @comment))" for body in ("module", "block")
        ]
    return Query(grammar, "\n".join(patterns)) if patterns else None


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def surroundings(doc: SourceDocument, region: Region, *, lines: int) -> tuple[str, str]:
    """Up to `lines` lines before the region and half as many after it, for context."""
    before_first = max(region.first_line - lines, 0)
    after_last = min(region.last_line + max(lines // 2, 1), doc.line_count - 1)
    before = doc.text[doc.line_start(before_first) : region.start]
    after_start = min(region.end + 1, len(doc.text))
    if region.last_line >= after_last:
        return before, ""
    return before, doc.text[after_start : doc.line_range(after_last)[1]]


# -- tree walking ---------------------------------------------------------------------------


def _node_at_cursor(doc: SourceDocument, line: int, fresh: bool = True) -> Node | None:
    """The smallest node at the first non-blank character of `line` (the cursor's line).

    Leading or trailing blanks belong to no node, or to a block far larger than what the user
    points at; the line's first character names the construct the line is part of.
    """
    tree = doc.tree if fresh else doc.recent_tree
    if tree is None:
        return None
    start, end = doc.line_range(line)
    content = doc.text[start:end]
    stripped = content.lstrip()
    if not stripped:
        return None
    byte = doc.byte_offset(start + len(content) - len(stripped))
    return tree.root_node.descendant_for_byte_range(byte, byte)


def _enclosing(node: Node | None, wanted) -> Node | None:  # type: ignore[no-untyped-def]
    while node is not None and node.parent is not None:
        if wanted(node):
            return node
        node = node.parent
    return None


def _with_decorators(node: Node) -> Node:
    parent = node.parent
    if parent is not None and parent.type == "decorated_definition":
        return parent
    return node


def _leading_comments(node: Node) -> Node:
    """The first of the comments right above `node` (its doc comment), or `node` itself."""
    first = node
    previous = node.prev_sibling
    while (
        previous is not None
        and "comment" in previous.type
        and previous.end_point[0] >= first.start_point[0] - 1
    ):
        first, previous = previous, previous.prev_sibling
    return first


def _node_region(doc: SourceDocument, node: Node, starting_at: Node | None = None) -> Region:
    head = starting_at or node
    first = doc.line_at(doc.offset_at_point((head.start_point[0], head.start_point[1])))
    last = doc.line_at(doc.offset_at_point((node.end_point[0], node.end_point[1])))
    if node.end_point[1] == 0 and last > first:
        last -= 1  # nodes that end with their line break end at the next line's start
    return lines_region(doc, first, last)
