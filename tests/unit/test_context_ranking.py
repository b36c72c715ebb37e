"""Ranking and the budget: related code and the cursor window share `context.maxTokens`
and never exceed it; the best pieces win; blocks are laid out stable first."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.ranking import (
    RELATED_SHARE,
    assemble,
    block_overhead,
    layout,
    select,
)
from qwen_lsp.context.snippets import Piece, scope_pieces
from qwen_lsp.model import Position
from qwen_lsp.prompts import Snippet, fim_prompt
from tests.unit.context_repos import checkout, context_at, indexed_workspace


def piece(path: str, line: int, text: str, score: float, source: str = "definition", **kw):
    end = kw.pop("end_line", line + text.count("\n"))
    return Piece(path, line, end, text, estimate_tokens(text), score, source, **kw)


def prompt_tokens(ctx) -> int:
    related = sum(b.tokens + block_overhead(b.path) for b in ctx.snippets)
    return estimate_tokens(ctx.prefix) + estimate_tokens(ctx.suffix) + related


def long_file(functions: int = 400) -> str:
    return "".join(
        f"def function_{i}(value, other=None):\n    total = value * {i}\n    return total\n\n"
        for i in range(functions)
    )


@pytest.mark.parametrize("max_tokens", [64, 200, 1000, 2048, 6000])
def test_the_whole_context_stays_within_the_budget(max_tokens: int):
    text = long_file()
    document = SourceDocument(text, "python")
    many = [
        piece(f"lib/m{i}.py", 0, f"def helper_{i}(a, b, c):\n    ...", 5 + i % 7) for i in range(80)
    ]
    ctx = assemble(
        document,
        Position(600, 4),
        path="big.py",
        max_tokens=max_tokens,
        gather=lambda cursor: many,
        repo_name="repo",
    )
    assert prompt_tokens(ctx) <= max_tokens
    related = sum(b.tokens + block_overhead(b.path) for b in ctx.snippets)
    assert related <= max_tokens * RELATED_SHARE
    if max_tokens >= 1000:
        assert ctx.snippets and ctx.prefix  # both get their share


def test_what_related_code_leaves_goes_to_the_window():
    document = SourceDocument(long_file(), "python")
    few = [piece("lib/a.py", 0, "def helper(a):\n    ...", 9)]

    def window(gather):
        return assemble(
            document, Position(600, 4), path="big.py", max_tokens=2048, gather=gather, repo_name="r"
        )

    with_few = window(lambda cursor: few)
    capped = window(lambda cursor: [piece(f"m{i}.py", 0, "x = 1\n" * 30, 5) for i in range(40)])
    assert len(with_few.prefix) > len(capped.prefix)
    assert prompt_tokens(with_few) <= 2048


def test_best_scores_win_and_a_class_outline_replaces_its_method():
    method = piece("geo.py", 5, "    def norm(self): ...", 9, scope_header="class Point:")
    outline = piece("geo.py", 2, "class Point:\n    x: int\n    def norm(self): ...", 4, end_line=8)
    weak = piece("other.py", 0, "def unrelated(): ...", 1)
    noise = piece("noise.py", 0, "def noise(): ...", 0.2)
    chosen = select([weak, method, outline, noise], budget=1000)
    assert outline in chosen and method not in chosen
    assert weak in chosen and noise not in chosen  # below the floor, whatever the room
    tight = select([weak, method, outline], budget=block_overhead("geo.py") + method.tokens + 3)
    assert tight == [method]


def test_blocks_are_laid_out_stable_first_and_the_current_file_last():
    blocks = layout(
        [
            piece("zeta.py", 0, "def z(): ...", 9),
            piece("alpha.py", 0, "def a(): ...", 1),
            piece("recent.py", 3, "x = edited()", 5, source="recent"),
            piece("here.py", 0, "class Here:", 9, source="scope"),
            piece("alpha.py", 9, "    def m(self): ...", 2, scope_header="class A:"),
        ],
        current_path="here.py",
    )
    assert [b.path for b in blocks] == ["alpha.py", "zeta.py", "recent.py", "here.py"]
    assert blocks[0].content == "def a(): ...\n\nclass A:\n    def m(self): ..."
    assert blocks[0].sources == ("definition",)


def test_the_current_files_far_definitions_and_headers_come_when_the_window_misses_them():
    lines = ["class Inventory:", '    """Items on hand."""', ""]
    for i in range(300):
        lines += [f"    def method_{i}(self, value):", f"        return value + {i}", ""]
    lines += ["    def last(self):", "        return self.method_0(█)"]
    drawn = "\n".join(lines) + "\n"
    index = drawn.index("█")
    text = drawn.replace("█", "")
    document = SourceDocument(text, "python")
    position = Position(text.count("\n", 0, index), index - text.rfind("\n", 0, index) - 1)

    def gather(cursor: int):
        far = piece(
            "inv.py", 3, "    def method_0(self, value): ...", 12, scope_header="class Inventory:"
        )
        return [*scope_pieces(document, cursor, "inv.py"), far]

    ctx = assemble(document, position, path="inv.py", max_tokens=400, gather=gather, repo_name="r")
    assert ctx.prefix_truncated
    [block] = ctx.snippets
    assert block.path == "inv.py"
    assert block.content.startswith("class Inventory:")
    assert "def method_0(self, value)" in block.content
    assert "def last(self):" not in block.content  # inside the window: not shown twice

    # Qwen's repo-level FIM names each file once: the excerpt opens the current file's block,
    # which comes last, with the FIM tokens.
    prompt = fim_prompt(
        ctx, repo_name="r", snippets=[Snippet(b.path, b.content) for b in ctx.snippets]
    )
    assert prompt.count("<|file_sep|>") == 1
    assert prompt.startswith("<|repo_name|>r\n<|file_sep|>inv.py\n<|fim_prefix|>class Inventory:")
    assert prompt.endswith(f"{ctx.prefix}<|fim_suffix|>{ctx.suffix}<|fim_middle|>")
    assert prompt.count("def method_0(self, value)") == 1


def test_the_fixture_context_fits_every_budget(tmp_path: Path):
    repo = checkout("python", tmp_path)
    workspace = indexed_workspace(repo.root)
    for budget in (64, 128, 512, 2048):
        ctx = context_at(repo, workspace, max_tokens=budget)
        assert prompt_tokens(ctx) <= budget
