"""The server's own copy of an open document: its text, a line index and a tree-sitter tree.

`SourceDocument` owns the translation between the three ways a place in a document is named:
LSP positions (line, character in the negotiated encoding: UTF-8 bytes, UTF-16 code units or
code points), string offsets into `text`, and tree-sitter's UTF-8 byte offsets and
(row, byte-column) points. It applies LSP incremental changes by editing the old tree and
re-parsing with it, so a keystroke costs tree-sitter's incremental work instead of a full
parse. Lines end at "\\n", "\\r\\n" or a lone "\\r", as LSP says; tree-sitter counts rows at
"\\n" only, which the point conversions account for.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Literal

from tree_sitter import Parser, Tree

from qwen_lsp.context.languages import get_parser, language_for
from qwen_lsp.model import Position

PositionEncoding = Literal["utf-8", "utf-16", "utf-32"]
Point = tuple[int, int]

_ENCODINGS = ("utf-8", "utf-16", "utf-32")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _utf8_len(text: str) -> int:
    if text.isascii():
        return len(text)
    # surrogatepass: a lone surrogate (from a client's broken JSON) must not crash a keystroke
    return len(text.encode("utf-8", "surrogatepass"))


def _units(text: str, encoding: str) -> int:
    """Length of `text` in code units of the position encoding."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-16":
        return len(text.encode("utf-16-le", "surrogatepass")) // 2
    return len(text.encode("utf-8", "surrogatepass"))


def _chars_in_units(text: str, units: int, encoding: str) -> int:
    """How many characters of `text` fit in its first `units` code units.

    A count that ends inside a character (inside a UTF-16 surrogate pair, or inside a UTF-8
    sequence) stops at the start of that character.
    """
    if encoding == "utf-32" or text.isascii():
        return min(units, len(text))
    head = text[:units]  # every character is at least one unit, so no more are needed
    codec = "utf-16-le" if encoding == "utf-16" else "utf-8"
    width = 2 if encoding == "utf-16" else 1
    try:
        encoded = head.encode(codec)
    except UnicodeEncodeError:
        return _chars_in_units_slowly(head, units, encoding)
    # decoding a truncated sequence with "ignore" drops the partial character at the end
    return len(encoded[: units * width].decode(codec, "ignore"))


def _chars_in_units_slowly(text: str, units: int, encoding: str) -> int:
    used = 0
    for index, char in enumerate(text):
        code = ord(char)
        if encoding == "utf-16":
            size = 2 if code > 0xFFFF else 1
        else:
            size = 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        if used + size > units:
            return index
        used += size
    return len(text)


class SourceDocument:
    """An open document's text, line index and (for a known language) tree-sitter tree."""

    __slots__ = (
        "_bytes",
        "_encoding",
        "_language",
        "_line_starts",
        "_parser",
        "_rows_are_lines",
        "_size",
        "_stale",
        "_text",
        "_tree",
    )

    def __init__(
        self, text: str, language: str | None, encoding: PositionEncoding = "utf-16"
    ) -> None:
        if encoding not in _ENCODINGS:
            raise ValueError(f"unknown position encoding {encoding!r}")
        self._encoding: str = encoding
        self._language = language_for(language, None) or language
        self._parser: Parser | None = get_parser(self._language)
        self._text = ""
        self._bytes = b""
        self._size = 0
        self._line_starts: list[int] = [0]
        self._rows_are_lines = True
        self._tree: Tree | None = None
        self._stale = False  # edits were applied to `_tree` that no parse has seen yet
        self.replace(text)

    # -- what the rest of the server reads -------------------------------------------------

    @property
    def text(self) -> str:
        return self._text

    @property
    def tree(self) -> Tree | None:
        """The current tree, or None when the language has no grammar.

        Parsing is lazy: edits are recorded on the old tree as they come, and the first read
        after them re-parses once, incrementally. A burst of keystrokes costs one parse, and a
        document nobody asks about costs none.
        """
        parser = self._parser
        if parser is not None and (self._tree is None or self._stale):
            self._tree = (
                parser.parse(self._bytes, self._tree) if self._tree else parser.parse(self._bytes)
            )
            self._stale = False
        return self._tree

    @property
    def recent_tree(self) -> Tree | None:
        """The last parsed tree with every later edit applied to its positions, without
        re-parsing: node positions match the current text, while the structure inside
        edited ranges may lag behind it. Right for choosing cut points away from the cursor
        on the hot path; read `tree` where the syntax at the cursor matters."""
        return self._tree if self._tree is not None else self.tree

    @property
    def stale(self) -> bool:
        """Edits were applied that no parse has seen yet."""
        return self._stale

    @property
    def parsed(self) -> bool:
        """Whether a tree is held (for memory accounting; reading `tree` makes one)."""
        return self._tree is not None

    def drop_tree(self) -> None:
        """Free the tree; the next read of `tree` parses from scratch."""
        self._tree = None
        self._stale = False

    @property
    def language(self) -> str | None:
        """The canonical language name (see `languages.language_for`), or what was given."""
        return self._language

    @property
    def encoding(self) -> str:
        return self._encoding

    @property
    def line_count(self) -> int:
        """Number of lines as LSP counts them: a text ending in a line break has an empty last
        line."""
        return len(self._line_starts)

    @property
    def size(self) -> int:
        """Length of the text in UTF-8 bytes (what a file of it would weigh on disk)."""
        return self._size

    def line(self, n: int) -> str:
        """Line `n` without its line break; "" past either end."""
        if n < 0 or n >= len(self._line_starts):
            return ""
        start, end = self.line_range(n)
        return self._text[start:end]

    def line_range(self, n: int) -> tuple[int, int]:
        """String offsets of the start of line `n` and of the end of its content (before the
        line break). `n` is clamped to the document."""
        starts = self._line_starts
        n = min(max(n, 0), len(starts) - 1)
        start = starts[n]
        if n + 1 == len(starts):
            return start, len(self._text)
        end = starts[n + 1] - 1
        if end > start and self._text[end - 1] == "\r" and self._text[end] == "\n":
            end -= 1
        return start, end

    def line_at(self, offset: int) -> int:
        """The line holding string offset `offset` (clamped)."""
        return max(bisect_right(self._line_starts, offset) - 1, 0)

    def line_start(self, n: int) -> int:
        """String offset where line `n` starts; the end of the text past the last line."""
        if n >= len(self._line_starts):
            return len(self._text)
        return self._line_starts[max(n, 0)]

    def offset_at(self, pos: Position) -> int:
        """The string index of an LSP position, clamped into the document.

        Past the end of a line means the end of that line; past the last line, the end of the
        text; inside a character (a UTF-16 surrogate pair, a UTF-8 sequence), its start.
        """
        if pos.line < 0:
            return 0
        if pos.line >= len(self._line_starts):
            return len(self._text)
        start, end = self.line_range(pos.line)
        if pos.character <= 0:
            return start
        return start + _chars_in_units(self._text[start:end], pos.character, self._encoding)

    def position_at(self, offset: int) -> Position:
        """The LSP position of a string index (clamped into the text)."""
        offset = min(max(offset, 0), len(self._text))
        line = self.line_at(offset)
        start = self._line_starts[line]
        return Position(line, _units(self._text[start:offset], self._encoding))

    def point_at(self, offset: int) -> Point:
        """tree-sitter's (row, byte column) for a string index.

        Rows are counted at "\\n" only, so a document with lone "\\r" line breaks takes a slower
        path that counts them itself.
        """
        text = self._text
        offset = min(max(offset, 0), len(text))
        if self._rows_are_lines:
            row = self.line_at(offset)
            return row, _utf8_len(text[self._line_starts[row] : offset])
        row_start = text.rfind("\n", 0, offset) + 1
        return text.count("\n", 0, offset), _utf8_len(text[row_start:offset])

    def offset_at_point(self, point: Point) -> int:
        """The string index of tree-sitter's (row, byte column), clamped into the text."""
        row, column = point
        text = self._text
        if self._rows_are_lines:
            row_start = self.line_start(row)
        else:
            row_start = 0
            for _ in range(row):
                found = text.find("\n", row_start)
                if found < 0:
                    return len(text)
                row_start = found + 1
        row_end = text.find("\n", row_start)
        row_text = text[row_start : len(text) if row_end < 0 else row_end]
        return row_start + _chars_in_units(row_text, column, "utf-8")

    def byte_offset(self, offset: int) -> int:
        """The UTF-8 byte offset of a string index (what tree-sitter's `start_byte` means)."""
        text = self._text
        offset = min(max(offset, 0), len(text))
        if self._size == len(text):  # ASCII: bytes and characters coincide
            return offset
        # encode the shorter side: from the start, or back from the end
        if offset <= len(text) // 2:
            return _utf8_len(text[:offset])
        return self._size - _utf8_len(text[offset:])

    # -- keeping it current -----------------------------------------------------------------

    def replace(self, text: str) -> None:
        """Full sync: a new text, parsed from scratch when the tree is next read."""
        self._text = text
        self._line_starts = [0, *(m.end() for m in _LINE_BREAK.finditer(text))]
        self._rows_are_lines = self._no_lone_cr()
        if self._parser is None:
            self._size = _utf8_len(text)
            return
        self._bytes = text.encode("utf-8", "surrogatepass")
        self._size = len(self._bytes)
        self._tree = None
        self._stale = False

    def apply_change(self, start: Position, end: Position, new_text: str) -> None:
        """One LSP incremental content change: replace the range `start`..`end` by `new_text`.

        A didChange carrying several changes is applied by calling this once per change, in
        order: each range refers to the text the previous one left.
        """
        a = self.offset_at(start)
        b = self.offset_at(end)
        if b < a:  # a reversed range from a sloppy client: treat it as the same span
            a, b = b, a
        old_text = self._text
        removed = old_text[a:b]
        removed_len = _utf8_len(removed)
        inserted = new_text.encode("utf-8", "surrogatepass")

        if self._parser is None:
            self._splice_text(a, b, new_text)
            self._size += len(inserted) - removed_len
            return

        # tree-sitter wants the edit in the old text's coordinates for start and old end,
        # and in the new text's for the new end
        start_byte = self.byte_offset(a)
        old_end_byte = start_byte + removed_len
        new_end_byte = start_byte + len(inserted)
        tree = self._tree
        if tree is not None:
            start_point = self.point_at(a)
            old_end_point = self.point_at(b)

        self._splice_text(a, b, new_text)
        self._bytes = self._bytes[:start_byte] + inserted + self._bytes[old_end_byte:]
        self._size = len(self._bytes)

        if tree is not None:  # no tree yet: the first read parses the whole text anyway
            new_end_point = self.point_at(a + len(new_text))
            tree.edit(
                start_byte, old_end_byte, new_end_byte, start_point, old_end_point, new_end_point
            )
            self._stale = True

    def _splice_text(self, a: int, b: int, new_text: str) -> None:
        """Replace text[a:b] and update the line index without rescanning the whole text."""
        text = self._text[:a] + new_text + self._text[b:]
        self._text = text
        starts = self._line_starts
        new_end = a + len(new_text)
        # Line starts before `a` stay and those after `b` only shift: the breaks they follow,
        # and the character after each break, are unchanged. In between, rescan from a-1 (a
        # "\r" there may now pair with an inserted "\n") to one past the insertion (an inserted
        # "\r" may pair with the "\n" after it).
        head = starts[: bisect_left(starts, a)] or [0]
        middle = [
            m.end()
            for m in _LINE_BREAK.finditer(text, max(a - 1, 0), new_end + 1)
            if a <= m.end() <= new_end
        ]
        tail = starts[bisect_right(starts, b) :]
        delta = len(new_text) - (b - a)
        if delta:
            tail = [s + delta for s in tail]
        self._line_starts = head + middle + tail
        self._rows_are_lines = self._no_lone_cr()

    def _no_lone_cr(self) -> bool:
        # With no lone "\r", LSP lines and tree-sitter rows are the same thing; "\r" is rare
        # enough outside CRLF files that only they pay for the count.
        return "\r" not in self._text or len(self._line_starts) - 1 == self._text.count("\n")
