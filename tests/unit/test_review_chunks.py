"""Review chunks: cut at syntax units, within budget, stable when code moves."""

from __future__ import annotations

import argparse
import asyncio.base_events
import inspect
import json.decoder
import textwrap

import pytest

from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.tokenizer import qwen_token_counter
from qwen_lsp.engine.review.chunks import changed_chunks, token_counter, whole_file_chunks
from qwen_lsp.engine.review.prompt import numbered


def functions(count: int, body_lines: int = 3) -> str:
    out = []
    for n in range(count):
        out.append(f"def function_{n}(value):")
        out.extend(f"    value = value * {n} + {k}  # step {k}" for k in range(body_lines))
        out.append("    return value\n\n")
    return "\n".join(out)


def starts_of_functions(text: str) -> set[int]:
    return {n for n, line in enumerate(text.split("\n"), 1) if line.startswith("def ")}


def test_a_small_file_is_one_chunk_reviewed_whole():
    text = "import os\n\n\ndef f():\n    return os.sep\n"
    [chunk] = whole_file_chunks(SourceDocument(text, "python"), "f.py", 1000)
    assert (chunk.start, chunk.end) == (1, 5)
    assert chunk.review == ((1, 5),)
    assert chunk.lines[3] == "def f():"


def test_chunks_cover_every_line_once_within_budget_and_cut_between_functions():
    text = functions(120)
    doc = SourceDocument(text, "python")
    chunks = whole_file_chunks(doc, "m.py", 600)
    assert len(chunks) > 5
    covered = [line for c in chunks for line in range(c.start, c.end + 1)]
    assert covered == list(range(1, len(text.rstrip("\n").split("\n")) + 1))
    count = token_counter()
    for chunk in chunks:
        assert count(numbered(chunk)) <= 600 * 1.02
    # Every cut falls just before a function (blank lines travel with the function below).
    tops = starts_of_functions(text)
    for chunk in chunks[1:]:
        first_code = next(
            n for n in range(chunk.start, chunk.end + 1) if chunk.line_text(n).strip()
        )
        assert first_code in tops


def test_a_function_over_budget_is_cut_at_its_statements():
    text = functions(1, body_lines=400)
    chunks = whole_file_chunks(SourceDocument(text, "python"), "m.py", 500)
    assert len(chunks) > 3
    assert all(
        not line.startswith("    value") or line.endswith(tuple(f"step {k}" for k in range(400)))
        for c in chunks
        for line in c.lines
    )
    assert chunks[0].lines[0] == "def function_0(value):"


def test_unchanged_code_below_an_edit_keeps_its_chunks():
    text = functions(150)
    before = whole_file_chunks(SourceDocument(text, "python"), "m.py", 800)
    after = whole_file_chunks(SourceDocument("import sys\n\n\n" + text, "python"), "m.py", 800)
    same = {c.lines for c in before} & {c.lines for c in after}
    assert len(same) >= len(before) - 2


def test_a_file_without_grammar_is_cut_at_lines():
    text = "".join(f"line {n} of some text\n" for n in range(500))
    chunks = whole_file_chunks(SourceDocument(text, None), "notes.rb", 300)
    assert len(chunks) > 3
    assert chunks[-1].end == 500


def test_a_change_is_reviewed_inside_its_enclosing_function():
    text = functions(10)
    doc = SourceDocument(text, "python")
    target = min(
        n for n in starts_of_functions(text) if text.split("\n")[n - 1].startswith("def function_4")
    )
    [chunk] = changed_chunks(doc, "m.py", [(target + 2, target + 2)], 2000)
    assert chunk.lines[0] == "def function_4(value):"
    assert chunk.lines[-1] == "    return value"
    assert chunk.review == ((target + 2, target + 2),)
    assert chunk.under_review(target + 2, target + 2)
    assert not chunk.under_review(target, target)


def test_changes_in_one_function_share_a_chunk_and_module_code_gets_a_window():
    text = "X = 1\nY = 2\nZ = 3\n\n\n" + functions(3)
    doc = SourceDocument(text, "python")
    chunks = changed_chunks(doc, "m.py", [(2, 2), (7, 7), (9, 9)], 2000)
    assert [(c.start, c.end, c.review) for c in chunks][1:] == [(6, 10, ((7, 7), (9, 9)))]
    assert chunks[0].start == 1 and chunks[0].review == ((2, 2),)


def test_a_change_bigger_than_the_budget_is_chunked_like_a_file():
    text = functions(100)
    doc = SourceDocument(text, "python")
    last = len(text.rstrip("\n").split("\n"))
    chunks = changed_chunks(doc, "m.py", [(1, last)], 700)
    assert len(chunks) > 3
    assert all(c.review == ((c.start, c.end),) for c in chunks)


# Real code: modules of the standard library, in the shapes review meets (long classes, dense
# expressions, docstrings), and the same code as JavaScript-like text without a grammar.
REAL_CODE = [
    ("argparse.py", "python", inspect.getsource(argparse)),
    ("base_events.py", "python", inspect.getsource(asyncio.base_events)),
    ("decoder.py", "python", inspect.getsource(json.decoder)),
    ("notes.txt", None, textwrap.dedent(inspect.getsource(asyncio.base_events))),
]


@pytest.mark.parametrize("budget", [400, 1500, 3000])
@pytest.mark.parametrize(("path", "language", "text"), REAL_CODE, ids=[c[0] for c in REAL_CODE])
def test_chunks_of_real_code_stay_within_the_budget_by_qwens_tokenizer(
    path: str, language: str | None, text: str, budget: int
):
    exact = qwen_token_counter()
    assert exact is not None, "the Qwen vocabulary ships with the dashscope dependency"
    chunks = whole_file_chunks(SourceDocument(text, language), path, budget)
    assert len(chunks) > 1
    worst = max(exact(numbered(c)) / budget for c in chunks if len(c.lines) > 1)
    assert worst <= 1.02, f"a chunk of {path} is {worst:.0%} of its budget"
