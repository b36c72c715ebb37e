"""extract_window cuts the cursor window at line and syntax boundaries within its budget.

Each case draws the cursor as █ in its document. The budgets are tiny so that a short document
shows where the cuts fall.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.extract import _STATEMENT_LISTS, CursorContext, extract_window
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.model import Position
from tests.unit.test_parsing import generated_file

CURSOR = "█"

PYTHON = '''\
import os
import sys


def read_lines(path):
    with open(path) as handle:
        return handle.read().splitlines()


class Report:
    """Collects findings."""

    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)

    def render(self):
        lines = []
        for item in self.items:
            lines.append(f"- {item}")
        █
        return "\\n".join(lines)

    def clear(self):
        self.items.clear()


def main():
    report = Report()
    for line in read_lines(sys.argv[1]):
        report.add(line)
    print(report.render())
'''

TYPESCRIPT = """\
import { readFileSync } from "fs";

export interface Finding {
  line: number;
  message: string;
}

export class Report {
  private findings: Finding[] = [];

  add(finding: Finding): void {
    this.findings.push(finding);
  }

  render(): string {
    const lines = this.findings.map((f) => `${f.line}: ${f.message}`);
    █
    return lines.join("\\n");
  }

  clear(): void {
    this.findings = [];
  }
}
"""

GO = """\
package report

import "strings"

type Finding struct {
	Line    int
	Message string
}

type Report struct {
	findings []Finding
}

func (r *Report) Add(f Finding) {
	r.findings = append(r.findings, f)
}

func (r *Report) Render() string {
	var b strings.Builder
	for _, f := range r.findings {
		b.WriteString(f.Message)
		█
	}
	return b.String()
}

func (r *Report) Clear() {
	r.findings = nil
}
"""


def window(language: str | None, document: str, max_tokens: int, **kw: object) -> CursorContext:
    cursor = document.index(CURSOR)
    doc = SourceDocument(document.replace(CURSOR, ""), language)
    return extract_window(doc, doc.position_at(cursor), max_tokens=max_tokens, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    description: str
    language: str | None
    document: str
    max_tokens: int
    first_line: str  # of the prefix
    last_line: str  # the suffix's last line that is not blank


CASES = [
    Case(
        "a cut inside a class starts at the method, not mid-method",
        "python",
        PYTHON,
        40,
        "    def render(self):",
        '        return "\\n".join(lines)',
    ),
    Case(
        "a larger budget reaches the class; the suffix ends after a whole method",
        "python",
        PYTHON,
        120,
        "class Report:",
        "        self.items.clear()",
    ),
    Case(
        "typescript: the prefix starts at a method, the suffix ends with the method",
        "typescript",
        TYPESCRIPT,
        70,
        "  add(finding: Finding): void {",
        "  }",
    ),
    Case(
        "go: a small budget starts at a statement of the function body",
        "go",
        GO,
        40,
        "\tvar b strings.Builder",
        "\treturn b.String()",
    ),
    Case(
        "go: a larger one at a top-level declaration",
        "go",
        GO,
        110,
        "type Report struct {",
        "}",
    ),
    Case(
        "without a tree the cuts fall at line boundaries",
        None,
        GO,
        70,
        "\tr.findings = append(r.findings, f)",
        "}",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.description for c in CASES])
def test_cuts_fall_at_boundaries(case: Case) -> None:
    ctx = window(case.language, case.document, case.max_tokens)
    before, after = case.document.split(CURSOR)
    assert ctx.prefix_truncated and ctx.suffix_truncated
    assert before.endswith(ctx.prefix) and after.startswith(ctx.suffix)
    assert ctx.prefix.split("\n")[0] == case.first_line
    assert ctx.suffix.endswith("\n")  # whole lines, break included
    assert ctx.suffix.rstrip("\n").split("\n")[-1] == case.last_line
    assert estimate_tokens(ctx.prefix) + estimate_tokens(ctx.suffix) <= case.max_tokens


def test_a_small_file_fits_whole() -> None:
    ctx = window("python", PYTHON, 2048, path="src/report.py")
    before, after = PYTHON.split(CURSOR)
    assert ctx == CursorContext(before, after, "python", "src/report.py", False, False)


def test_cursor_at_the_start_gives_the_suffix_the_whole_budget() -> None:
    ctx = window("python", CURSOR + PYTHON.replace(CURSOR, ""), 40)
    assert (ctx.prefix, ctx.prefix_truncated) == ("", False)
    assert ctx.suffix_truncated and ctx.suffix.startswith("import os\n")
    assert 10 < estimate_tokens(ctx.suffix) <= 40  # far past its 25 % share
    assert ctx.suffix.endswith("\n")


def test_cursor_at_the_end_gives_the_prefix_the_whole_budget() -> None:
    ctx = window("python", PYTHON.replace(CURSOR, "") + CURSOR, 40)
    assert (ctx.suffix, ctx.suffix_truncated) == ("", False)
    assert ctx.prefix_truncated and ctx.prefix.startswith("def main():\n")
    assert 30 < estimate_tokens(ctx.prefix) <= 40


def test_unused_prefix_share_flows_to_the_suffix() -> None:
    document = "import os\n" + CURSOR + PYTHON.replace(CURSOR, "").removeprefix("import os\n")
    ctx = window("python", document, 60)
    assert not ctx.prefix_truncated and ctx.suffix_truncated
    assert estimate_tokens(ctx.suffix) > 60 * 0.25


def test_zero_budget() -> None:
    ctx = window("python", PYTHON, 0)
    assert (ctx.prefix, ctx.suffix, ctx.prefix_truncated, ctx.suffix_truncated) == (
        "",
        "",
        True,
        True,
    )


def test_a_line_longer_than_the_budget_is_cut_inside_that_line() -> None:
    line = ";".join(f"var v{i}=f({i})" for i in range(400))
    middle = len(line) // 2
    ctx = window("javascript", f"{line[:middle]}{CURSOR}{line[middle:]}\n", 100)
    assert ctx.prefix and ctx.suffix
    assert estimate_tokens(ctx.prefix) + estimate_tokens(ctx.suffix) <= 100
    assert line[:middle].endswith(ctx.prefix) and line[middle:].startswith(ctx.suffix)


def test_crlf_lines() -> None:
    ctx = window("python", PYTHON.replace("\n", "\r\n"), 40)
    assert ctx.prefix.startswith("    def render(self):\r\n")
    assert ctx.suffix.endswith('        return "\\n".join(lines)\r\n')


def test_cursor_past_the_end_clamps() -> None:
    doc = SourceDocument("x = 1\n", "python")
    ctx = extract_window(doc, Position(40, 3))
    assert (ctx.prefix, ctx.suffix) == ("x = 1\n", "")


# -- every cursor of a large file -----------------------------------------------------------


@pytest.mark.parametrize("language", ["python", "typescript", "go", "rust", "c", None])
def test_random_cursors_in_a_large_file(language: str | None) -> None:
    """Budgets hold; cuts fall at line boundaries (inside a line only on the cursor's own
    line, when it alone is over budget) and, with a tree, almost always between constructs."""
    text = generated_file(language or "python")
    doc = SourceDocument(text, language)
    rng = random.Random(11)
    used, at_construct = [], []
    for _ in range(100):
        pos = Position(rng.randrange(doc.line_count), rng.randrange(12))
        budget = rng.choice((64, 256, 1024, 2048))
        ctx = extract_window(doc, pos, max_tokens=budget)
        cursor = doc.offset_at(pos)
        start, end = cursor - len(ctx.prefix), cursor + len(ctx.suffix)
        assert text[start:cursor] == ctx.prefix and text[cursor:end] == ctx.suffix
        tokens = estimate_tokens(ctx.prefix) + estimate_tokens(ctx.suffix)
        assert tokens <= budget
        cursor_line = doc.line_at(cursor)
        starts_line = start == 0 or text[start - 1] == "\n"
        ends_line = end == len(text) or text[end - 1] == "\n"
        assert starts_line or doc.line_at(start) == cursor_line
        assert ends_line or doc.line_at(end) == cursor_line
        used.append(tokens / budget)
        if doc.tree is not None and ctx.prefix_truncated and starts_line:
            at_construct.append(starts_a_construct(doc, start))
        if doc.tree is not None and ctx.suffix_truncated and ends_line:
            at_construct.append(ends_a_construct(doc, end))
    assert sum(used) / len(used) > 0.75  # the boundaries do not waste the budget
    if doc.tree is not None:
        assert sum(at_construct) >= 0.85 * len(at_construct)


def starts_a_construct(doc: SourceDocument, offset: int) -> bool:
    """Does the first code at or after `offset` start a child of a statement list?"""
    code = offset + len(doc.text[offset:]) - len(doc.text[offset:].lstrip())
    point = doc.point_at(code)
    node = doc.tree.root_node.descendant_for_point_range(point, point)  # type: ignore[union-attr]
    while node is not None and node.parent is not None and node.start_point == point:
        if node.parent.type in _STATEMENT_LISTS or node.parent.parent is None:
            return True
        node = node.parent
    return False


def ends_a_construct(doc: SourceDocument, offset: int) -> bool:
    """Does the last code before `offset` end a child of a statement list?"""
    code_end = len(doc.text[:offset].rstrip())
    point, last = doc.point_at(code_end), doc.point_at(code_end - 1)
    node = doc.tree.root_node.descendant_for_point_range(last, last)  # type: ignore[union-attr]
    while node is not None and node.parent is not None:
        if node.end_point == point and (
            node.parent.type in _STATEMENT_LISTS or node.parent.parent is None
        ):
            return True
        node = node.parent
    return False
