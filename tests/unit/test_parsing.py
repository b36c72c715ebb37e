"""SourceDocument keeps its text, line index and tree equal to a fresh parse under random edits.

The expected text is computed here by a deliberately naive reference (split into lines, walk
the characters counting code units), independent of the code under test.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import pytest
from tree_sitter import Parser, Tree

from qwen_lsp.context.languages import get_parser, language_for, supported_languages
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.model import Position

ENCODINGS = ("utf-8", "utf-16", "utf-32")

# One unit of each generated file; "{i}" is numbered so no two units are alike.
UNITS = {
    "python": '''
class Widget{i}(Base):
    """Widget {i}: café, 中文, 😀."""

    def compute(self, other: int = {i}) -> int:
        total = 0
        for item in self.items:
            if item > other:
                total += item * 2  # naïve 😀
            else:
                total -= 1
        return total
''',
    "typescript": """
export class Widget{i} implements Shape {
  private items: number[] = [{i}, 2, 3];
  /** café 中文 😀 */
  compute(other: number): number {
    let total = 0;
    for (const item of this.items) {
      total += item > other ? item * 2 : -1; // naïve
    }
    return total + "😀".length;
  }
}
""",
    "go": """
// Widget{i} holds café 中文 😀.
type Widget{i} struct {
	Items []int
}

func (w *Widget{i}) Compute(other int) int {
	total := 0
	for _, item := range w.Items {
		if item > other {
			total += item * 2
		}
	}
	return total + len("😀")
}
""",
    "rust": """
/// Widget{i}: café 中文 😀
pub struct Widget{i} { items: Vec<i64> }

impl Widget{i} {
    pub fn compute(&self, other: i64) -> i64 {
        let mut total = 0;
        for item in &self.items {
            if *item > other { total += item * 2; } else { total -= 1; }
        }
        total + "😀".len() as i64
    }
}
""",
    "c": """
/* widget {i}: café 中文 😀 */
static int compute_{i}(const int *items, int n, int other) {
    int total = 0;
    for (int i = 0; i < n; i++) {
        if (items[i] > other) {
            total += items[i] * 2;
        } else {
            total -= 1;
        }
    }
    return total;
}
""",
}

# What wild edits insert: code fragments, line breaks and multi-byte characters (é is two
# UTF-8 bytes, 中 three, 😀 four bytes and a UTF-16 surrogate pair).
SNIPPETS = (
    "x",
    "é",
    "中文",
    "😀",
    "a😀b",
    "\n",
    "\n\n",
    "    ",
    "\t",
    "()",
    "{}",
    ";",
    ":",
    '"s😀"',
    "total",
    " + 1",
    "return 1\n",
    "if x:\n    pass\n",
    "{ let y = 1; }\n",
    "// c😀mment\n",
    "# naïve 中文\n",
    "/* é */",
)
CR_SNIPPETS = ("\r\n", "\r", "x\r\ny", "\r\n\r\n")
# What typing inserts into identifiers, and into comments and strings.
IDENTIFIER_TEXT = ("x", "é", "中文", "total", "_1")
PROSE_TEXT = (*IDENTIFIER_TEXT, "😀", "a😀b", " ", "; ", "()")

LINE_BREAK = re.compile(r"\r\n|\r|\n")


@cache
def generated_file(language: str, lines: int = 5000) -> str:
    """About `lines` lines of `language`, made of numbered copies of its unit."""
    unit = UNITS[language]
    return "".join(unit.replace("{i}", str(i)) for i in range(lines // unit.count("\n") + 1))


# -- the reference: slow and obviously right ---------------------------------------------


def ref_lines(text: str) -> list[str]:
    """Every line's content without its break, as LSP splits them."""
    return LINE_BREAK.split(text)


def unit_size(char: str, encoding: str) -> int:
    if encoding == "utf-32":
        return 1
    if encoding == "utf-16":
        return 2 if ord(char) > 0xFFFF else 1
    return len(char.encode("utf-8"))


def ref_position(text: str, offset: int, encoding: str) -> Position:
    head = text[:offset]
    line = head.count("\n") + head.count("\r") - head.count("\r\n")
    line_start = max(head.rfind("\n"), head.rfind("\r")) + 1
    return Position(line, sum(unit_size(c, encoding) for c in head[line_start:]))


def content_end(text: str, offset: int) -> int:
    """Where the line holding `offset` ends, before its break."""
    ends = [i for i in (text.find("\n", offset), text.find("\r", offset)) if i >= 0]
    return min(ends, default=len(text))


def ref_point(text: str, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column): rows end at LF only."""
    row_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset), len(text[row_start:offset].encode("utf-8"))


@dataclass(frozen=True)
class Edit:
    """A change as offsets into `before`, with how its end is spelled as an LSP position."""

    before: str
    start: int
    end: int
    new_text: str
    end_spelling: str  # "exact" | "past the line's end" | "past the last line"

    @property
    def after(self) -> str:
        return self.before[: self.start] + self.new_text + self.before[self.end :]

    def positions(self, encoding: str) -> tuple[Position, Position]:
        start = ref_position(self.before, self.start, encoding)
        end = ref_position(self.before, self.end, encoding)
        if self.end_spelling == "past the line's end":
            end = Position(end.line, end.character + 1 + self.start % 40)
        elif self.end_spelling == "past the last line":
            end = Position(end.line + 10_000, 3)
        return start, end


def wild_edit(rng: random.Random, text: str, snippets: tuple[str, ...]) -> Edit:
    """Any insertion, deletion or replacement, sometimes over many lines, sometimes with its
    end spelled past a line's end or past the document's."""

    def offset(o: int) -> int:  # LSP cannot name the point between "\r" and "\n"
        return o - 1 if text[o - 1 : o + 1] == "\r\n" else o

    kind = rng.choice(("insert", "insert", "delete", "replace", "multiline"))
    a = offset(rng.randrange(len(text) + 1))
    b = a
    if kind == "multiline":
        b = offset(min(len(text), a + rng.randrange(40, 600)))
    elif kind != "insert":
        b = offset(min(len(text), a + rng.randrange(1, 30)))
    new_text = "" if kind == "delete" else "".join(rng.choices(snippets, k=rng.randrange(1, 4)))
    roll = rng.random()
    if roll < 0.1:
        return Edit(text, a, content_end(text, b), new_text, "past the line's end")
    if roll < 0.15:
        return Edit(text, a, len(text), new_text, "past the last line")
    return Edit(text, a, b, new_text, "exact")


def undo(edit: Edit) -> Edit:
    end = edit.start + len(edit.new_text)
    return Edit(edit.after, edit.start, end, edit.before[edit.start : edit.end], "exact")


def typing_edit(rng: random.Random, text: str, tree: Tree) -> Edit | None:
    """Typing or deleting inside an identifier, a comment or a string: what a user does most,
    and what leaves the syntax whole."""
    data = text.encode("utf-8")
    byte = rng.randrange(len(data))
    node = tree.root_node.descendant_for_byte_range(byte, byte)
    if node is None or node.child_count:
        return None
    if node.type.endswith("identifier"):
        margin, pool = (1, 0), IDENTIFIER_TEXT  # keep the first character: no digit lands there
    elif "comment" in node.type:
        margin, pool = (2, 2), PROSE_TEXT  # clear of "//", "/*" and "*/"
    elif "string" in node.type and "content" in node.type:
        margin, pool = (0, 0), PROSE_TEXT
    elif "string" in node.type and "literal" in node.type:
        margin, pool = (1, 1), PROSE_TEXT  # a string without content nodes: inside its quotes
    else:
        return None
    node_start = len(data[: node.start_byte].decode("utf-8"))
    node_end = node_start + len(data[node.start_byte : node.end_byte].decode("utf-8"))
    low, end = node_start + margin[0], node_end - margin[1]
    if end <= low:
        return None
    a = rng.randrange(low, end + 1)
    if rng.random() < 0.6:
        return Edit(text, a, a, rng.choice(pool), "exact")
    b = min(end, a + rng.randrange(1, 6))
    return Edit(text, a, b, rng.choice(pool) if rng.random() < 0.3 else "", "exact")


# Where a construct copied or deleted whole leaves the syntax whole.
STATEMENT_LISTS = {
    "module",
    "block",
    "program",
    "statement_block",
    "class_body",
    "source_file",
    "statement_list",
    "declaration_list",
    "translation_unit",
    "compound_statement",
}


def block_edit(rng: random.Random, text: str, tree: Tree) -> Edit | None:
    """Copying or deleting a whole construct of several lines (a statement, a function)."""
    data = text.encode("utf-8")
    byte = rng.randrange(len(data))
    node = tree.root_node.descendant_for_byte_range(byte, byte)
    blocks = []
    while node is not None and node.parent is not None:
        first, last = node.start_point[0], node.end_point[0]
        line_start = data.rfind(b"\n", 0, node.start_byte) + 1
        line_end = data.find(b"\n", node.end_byte)
        line_end = len(data) if line_end < 0 else line_end
        if (
            first < last
            and not node.has_error
            and node.parent.type in STATEMENT_LISTS
            and node.parent.named_child_count > 1  # never leave a body empty
            and not data[line_start : node.start_byte].strip()
            and not data[node.end_byte : line_end].strip()
        ):
            blocks.append((node, line_start, line_end))
        node = node.parent
    if not blocks:
        return None
    node, line_start, line_end = rng.choice(blocks)
    start = len(data[: node.start_byte].decode("utf-8"))
    if rng.random() < 0.5:  # a copy above the original, at the same indentation
        indent = data[line_start : node.start_byte].decode("utf-8")
        copy = data[node.start_byte : node.end_byte].decode("utf-8")
        return Edit(text, start, start, f"{copy}\n{indent}", "exact")
    first = len(data[:line_start].decode("utf-8"))
    last = len(data[: min(line_end + 1, len(data))].decode("utf-8"))
    return Edit(text, first, last, "", "exact")


def session_step(
    rng: random.Random, text: str, tree: Tree, snippets: tuple[str, ...]
) -> list[Edit]:
    """One step of a random editing session: typing, a block copied or deleted, or a wild
    edit together with its undo."""
    roll = rng.random()
    if roll < 0.1:
        edit = wild_edit(rng, text, snippets)
        return [edit, undo(edit)]
    for _ in range(50):
        found = block_edit(rng, text, tree) if roll < 0.3 else typing_edit(rng, text, tree)
        if found is not None:
            return [found]
    return [wild_edit(rng, text, snippets)]


def replay(parser: Parser, tree: Tree, edits: list[Edit]) -> Tree:
    """The edits applied to a copy of `tree` with coordinates computed the slow way."""
    tree = tree.copy()
    for e in edits:
        after = e.after
        start_byte = len(e.before[: e.start].encode("utf-8"))
        tree.edit(
            start_byte,
            len(e.before[: e.end].encode("utf-8")),
            start_byte + len(e.new_text.encode("utf-8")),
            ref_point(e.before, e.start),
            ref_point(e.before, e.end),
            ref_point(after, e.start + len(e.new_text)),
        )
        tree = parser.parse(after.encode("utf-8"), tree)
    return tree


# -- random edits against a fresh parse ---------------------------------------------------

LANGUAGES = ("python", "typescript", "go", "rust", "c")
Step = Callable[[random.Random, str, Tree], list[Edit]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_session_of_edits_on_a_large_file_matches_a_fresh_parse(language: str) -> None:
    """Typing, blocks copied and deleted, and wild edits (each undone right after: tree-sitter
    reparses a file full of errors nearly from scratch, so they are not left to pile up) on a
    5,000-line file."""
    text = generated_file(language)
    run_session(language, text, lambda rng, t, tree: session_step(rng, t, tree, SNIPPETS))


@pytest.mark.parametrize("language", [*LANGUAGES, "javascript", "java", "cpp"])
def test_wild_edits_piling_up_match_a_fresh_parse(language: str) -> None:
    """Any edits, never undone, on a small file whose lines end in LF, CRLF and lone CR."""
    unit = UNITS.get(language, UNITS["c"] if language in ("java", "cpp") else UNITS["typescript"])
    lines = "".join(unit.replace("{i}", str(i)) for i in range(20)).split("\n")
    breaks = ("\n", "\r\n", "\r")
    text = "".join(line + breaks[i % 3] for i, line in enumerate(lines))
    snippets = SNIPPETS + CR_SNIPPETS
    run_session(language, text, lambda rng, t, _: [wild_edit(rng, t, snippets)])


def run_session(
    language: str, text: str, step: Step, batches: int = 4, steps_per_batch: int = 30
) -> None:
    """The same random edits, spelled in each of the three encodings, reach three documents;
    after each batch their text, line index, positions and tree must equal the reference and
    a fresh parse."""
    seed = zlib.crc32(f"{language}/{len(text)}".encode())
    rng = random.Random(seed)
    docs = {enc: SourceDocument(text, language, encoding=enc) for enc in ENCODINGS}  # type: ignore[arg-type]
    parser = get_parser(language)
    assert parser is not None
    recovered_differently = 0

    for batch in range(batches):
        start_tree = docs["utf-8"].tree.copy()  # type: ignore[union-attr]
        batch_edits: list[Edit] = []
        for _ in range(steps_per_batch):
            for edit in step(rng, text, docs["utf-8"].tree):  # type: ignore[arg-type]
                for encoding, doc in docs.items():
                    doc.apply_change(*edit.positions(encoding), edit.new_text)
                batch_edits.append(edit)
                text = edit.after

        context = f"seed {seed}, batch {batch}"
        fresh = parser.parse(text.encode("utf-8"))
        if not documents_match(docs, text, fresh, rng, context):
            # tree-sitter's incremental reparse is not bound to recover from a syntax error
            # exactly as a fresh parse does: replay the edits with coordinates computed the
            # slow way, and if that lands on our tree the difference is tree-sitter's.
            ours = str(docs["utf-8"].tree.root_node)  # type: ignore[union-attr]
            assert ours == str(replay(parser, start_tree, batch_edits).root_node), context
            recovered_differently += 1
            for doc in docs.values():
                doc.replace(text)

    # the fresh-parse comparison must have had its say on most batches
    assert recovered_differently <= batches // 2, f"seed {seed}"


def documents_match(
    docs: dict[str, SourceDocument], text: str, fresh: Tree, rng: random.Random, context: str
) -> bool:
    """Assert the documents hold `text` with the right line index and positions; return
    whether their tree equals the fresh parse (in structure and in node positions)."""
    for encoding, doc in docs.items():
        assert doc.text == text, f"{context}, {encoding}"
        assert doc.line_count == len(ref_lines(text)), f"{context}, {encoding}"
        assert doc.size == len(text.encode("utf-8")), f"{context}, {encoding}"
        for _ in range(10):
            offset = rng.randrange(len(text) + 1)
            if text[offset - 1 : offset + 1] == "\r\n":
                continue
            pos = ref_position(text, offset, encoding)
            assert doc.position_at(offset) == pos, f"{context}, {encoding}"
            assert doc.offset_at(pos) == offset, f"{context}, {encoding}"

    trees = [doc.tree for doc in docs.values()]
    ours = str(trees[0].root_node)  # type: ignore[union-attr]
    assert all(str(t.root_node) == ours for t in trees), context  # type: ignore[union-attr]
    if ours != str(fresh.root_node):
        return False
    size = len(text.encode("utf-8"))
    for _ in range(30):  # node positions: the points handed to Tree.edit were right
        byte = rng.randrange(size + 1)
        for tree in trees:
            got = tree.root_node.descendant_for_byte_range(byte, byte)  # type: ignore[union-attr]
            want = fresh.root_node.descendant_for_byte_range(byte, byte)
            assert got is not None and want is not None
            assert (got.byte_range, got.start_point, got.end_point) == (
                want.byte_range,
                want.start_point,
                want.end_point,
            ), context
    return True


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_unknown_language_has_no_tree_and_edits_still_apply(encoding: str) -> None:
    rng = random.Random(7)
    text = generated_file("python", lines=400)
    doc = SourceDocument(text, "cobol", encoding=encoding)  # type: ignore[arg-type]
    assert doc.tree is None
    assert doc.language == "cobol"
    for _ in range(200):
        edit = wild_edit(rng, text, SNIPPETS + CR_SNIPPETS)
        doc.apply_change(*edit.positions(encoding), edit.new_text)
        text = edit.after
    assert doc.text == text
    assert doc.line_count == len(ref_lines(text))
    assert doc.size == len(text.encode("utf-8"))


# -- positions ------------------------------------------------------------------------------

# "a😀b\n" then "é中" then "": the emoji is 4 UTF-8 bytes, 2 UTF-16 units, 1 code point.
TEXT = "a😀b\r\né中\n"

# (encoding, position, expected string offset)
OFFSETS = [
    ("utf-16", Position(0, 0), 0),
    ("utf-16", Position(0, 1), 1),
    ("utf-16", Position(0, 2), 1),  # inside the surrogate pair: the start of the emoji
    ("utf-16", Position(0, 3), 2),
    ("utf-16", Position(0, 4), 3),
    ("utf-16", Position(0, 99), 3),  # past the line's end: before its "\r\n"
    ("utf-16", Position(1, 1), 6),
    ("utf-16", Position(1, 2), 7),
    ("utf-16", Position(2, 0), 8),
    ("utf-16", Position(2, 5), 8),
    ("utf-16", Position(9, 0), 8),  # past the last line: the end of the text
    ("utf-16", Position(-1, 3), 0),
    ("utf-8", Position(0, 1), 1),
    ("utf-8", Position(0, 3), 1),  # inside the emoji's four bytes
    ("utf-8", Position(0, 5), 2),
    ("utf-8", Position(1, 2), 6),
    ("utf-8", Position(1, 4), 6),  # inside 中's three bytes
    ("utf-8", Position(1, 5), 7),
    ("utf-32", Position(0, 2), 2),
    ("utf-32", Position(1, 2), 7),
    ("utf-32", Position(1, 3), 7),
]


@pytest.mark.parametrize(("encoding", "pos", "offset"), OFFSETS)
def test_offset_at_clamps(encoding: str, pos: Position, offset: int) -> None:
    doc = SourceDocument(TEXT, None, encoding=encoding)  # type: ignore[arg-type]
    assert doc.offset_at(pos) == offset


@pytest.mark.parametrize(
    ("encoding", "offset", "pos"),
    [
        ("utf-16", 2, Position(0, 3)),
        ("utf-8", 2, Position(0, 5)),
        ("utf-32", 2, Position(0, 2)),
        ("utf-16", 7, Position(1, 2)),
        ("utf-8", 7, Position(1, 5)),
        ("utf-16", 100, Position(2, 0)),
    ],
)
def test_position_at(encoding: str, offset: int, pos: Position) -> None:
    doc = SourceDocument(TEXT, None, encoding=encoding)  # type: ignore[arg-type]
    assert doc.position_at(offset) == pos


def test_lines_follow_lsp_line_breaks() -> None:
    doc = SourceDocument("one\r\ntwo\rthree\nfour\n", "python")
    assert doc.line_count == 5
    assert [doc.line(n) for n in range(6)] == ["one", "two", "three", "four", "", ""]
    assert doc.line(-1) == ""


def test_edit_inside_surrogate_pair_clamps_to_the_character_start() -> None:
    doc = SourceDocument("x = '😀'\n", "python")
    doc.apply_change(Position(0, 6), Position(0, 6), "é")  # inside the pair: before it
    assert doc.text == "x = 'é😀'\n"


def test_edit_past_the_end_appends() -> None:
    doc = SourceDocument("a = 1\n", "python")
    doc.apply_change(Position(50, 3), Position(70, 0), "b = 2\n")
    assert doc.text == "a = 1\nb = 2\n"
    doc.apply_change(Position(0, 99), Position(0, 120), " + 1")
    assert doc.text == "a = 1 + 1\nb = 2\n"
    assert str(doc.tree.root_node) == str(get_parser("python").parse(doc.text.encode()).root_node)


def test_inserted_line_break_joins_a_carriage_return() -> None:
    # "a\r" + "\nb": the two breaks become one "\r\n", so three lines become two
    doc = SourceDocument("a\rb", None)
    assert doc.line_count == 2
    doc.apply_change(Position(1, 0), Position(1, 0), "\n")
    assert doc.text == "a\r\nb"
    assert doc.line_count == 2
    assert doc.line(1) == "b"


def test_language_aliases_and_points() -> None:
    doc = SourceDocument("é = 1\nx = é\n", "py")
    assert doc.language == "python"
    assert doc.point_at(doc.offset_at(Position(1, 4))) == (1, 4)
    assert doc.point_at(1) == (0, 2)  # after é: two bytes
    assert doc.offset_at_point((1, 5)) == 10  # inside é: its start
    assert doc.offset_at_point((1, 6)) == 11
    assert doc.byte_offset(11) == 13


@pytest.mark.parametrize(
    ("language_id", "path", "expected"),
    [
        ("python", None, "python"),
        ("typescriptreact", "src/App.tsx", "tsx"),
        ("javascriptreact", None, "javascript"),
        ("cpp", "include/vec.h", "cpp"),  # the languageId wins over the extension
        (None, "include/vec.h", "c"),
        (None, "lib/Main.JAVA", "java"),
        ("plaintext", "notes.rs", "rust"),  # an unknown id falls back to the extension
        (None, "notes.txt", None),
        (None, None, None),
    ],
)
def test_language_for(language_id: str | None, path: str | None, expected: str | None) -> None:
    assert language_for(language_id, path) == expected


@pytest.mark.parametrize("name", supported_languages())
def test_every_grammar_loads(name: str) -> None:
    parser = get_parser(name)
    assert parser is not None
    assert not parser.parse(b"").root_node.has_error
