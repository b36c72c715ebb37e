"""Post-processing golden cases: the cursor drawn as █ in the document, the raw model answer,
and what the user should be offered (None: nothing)."""

from __future__ import annotations

import pytest

from qwen_lsp.postprocess import FilterContext, postprocess

CASES = [
    # (description, document with cursor, raw answer, from a chat model, expected)
    ("fim answer kept as is", "def add(a, b):\n    return █\n", "a + b", False, "a + b"),
    (
        "qwen special tokens left by a server that ignored stop",
        "x = █\n",
        "compute()<|endoftext|><|fim_prefix|>junk",
        False,
        "compute()",
    ),
    (
        "gpt wraps the answer in a fenced block with prose",
        "def add(a, b):\n    return █\n",
        "Here is the code:\n```python\na + b\n```\nThis adds the numbers.",
        True,
        "a + b",
    ),
    (
        "qwen3-coder instruct wraps in fences without prose",
        "function f() {\n  return █\n}\n",
        "```javascript\n42;\n```",
        True,
        "42;",
    ),
    (
        "hole-filler echoes the start of the line",
        "def add(a, b):\n    return █\n",
        "    return a + b",
        True,
        "a + b",
    ),
    (
        "mid-line: only the first line fits before the closing bracket",
        "print(█)\n",
        'msg)\nprint("again")',
        False,
        "msg",
    ),
    (
        "the answer repeats the text after the cursor on its line",
        "items = [█]\n",
        "1, 2, 3]",
        False,
        "1, 2, 3",
    ),
    (
        "a multi-line answer that runs into the next line of the suffix",
        "def f():\n    █\n    return x\n",
        "x = 1\n    y = 2\n    return x\n",
        False,
        "x = 1\n    y = 2",
    ),
    ("whitespace only is dropped", "x = █\n", "   \n\n", False, None),
    ("empty is dropped", "x = █\n", "", False, None),
    (
        "fences inside a Markdown document are content, not wrapping",
        "Example:\n```\n█\n```\n",
        "print(1)",
        True,
        "print(1)",
    ),
]


@pytest.mark.parametrize(
    ("document", "answer", "from_chat", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_golden(document: str, answer: str, from_chat: bool, expected: str | None):
    prefix, suffix = document.split("█")
    ctx = FilterContext(prefix=prefix, suffix=suffix, from_chat=from_chat)
    assert postprocess(answer, ctx) == expected
