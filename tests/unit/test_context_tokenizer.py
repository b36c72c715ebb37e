"""Exact token counts with Qwen's tokenizer (the vocabulary dashscope ships), which the prompt
inspector uses, and how the per-keystroke estimate compares on code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.tokenizer import qwen_token_counter, vocabulary_file

REPOS = Path(__file__).resolve().parents[1] / "data" / "repos"


def test_the_vocabulary_is_found_without_importing_dashscope():
    assert vocabulary_file() is not None
    code = (
        "import sys; from qwen_lsp.context.tokenizer import qwen_token_counter; "
        "assert qwen_token_counter() is not None; print('dashscope' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"  # importing dashscope costs half a second


def test_special_tokens_count_one_each_and_code_counts_as_qwen_splits_it():
    count = qwen_token_counter()
    assert count is not None
    assert count("<|fim_prefix|>") == 1
    assert count("<|repo_name|>r\n<|file_sep|>a.py\n") == count("r\n") + count("a.py\n") + 2
    assert count("def f(x):") == 4  # "def", " f", "(x", "):"
    assert count("12345") == 5  # digits one by one


def test_the_estimate_stays_near_the_exact_count_on_the_fixture_sources():
    count = qwen_token_counter()
    assert count is not None
    ratios = []
    for path in sorted(REPOS.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".ts", ".go", ".rs", ".java", ".c", ".hpp"):
            text = path.read_text(encoding="utf-8")
            ratios.append(estimate_tokens(text) / count(text))
    assert len(ratios) > 10
    assert 0.8 < sum(ratios) / len(ratios) < 1.25
