"""Post-processing golden cases (tests/unit/golden/*.toml): the cursor drawn as █ in the
document, the model's raw answer, and what the user should be offered.

Each filter is tested alone against the file named after it, and whole answers in the shapes
Qwen-Coder and GPT produce go through the full pipeline (`pipeline.toml`); every filter of the
pipeline is needed by at least one of those whole answers.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from the backport the package depends on there
    import tomli as tomllib

from qwen_lsp.postprocess import FilterContext, SyntaxProbe, postprocess, process
from qwen_lsp.postprocess.pipeline import CLEAN, PIPELINE, SHOW, run

GOLDEN = Path(__file__).parent / "golden"
FILTERS = {step.__name__: step for step in PIPELINE}


def _cases() -> list[Any]:
    params = []
    for path in sorted(GOLDEN.glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            params.append(pytest.param(path.stem, case, id=f"{path.stem}: {case['description']}"))
    return params


def context_for(case: dict[str, Any]) -> FilterContext:
    prefix, suffix = case["document"].split("█")
    language = case.get("language")
    probe = SyntaxProbe.for_text(language, prefix, suffix) if language else None
    return FilterContext(
        prefix=prefix,
        suffix=suffix,
        language=language,
        from_chat=case.get("chat", False),
        syntax=probe,
    )


@pytest.mark.parametrize(("name", "case"), _cases())
def test_golden(name: str, case: dict[str, Any]):
    assert case["document"].count("█") == 1, "draw the cursor once"
    ctx = context_for(case)
    expected = None if case.get("drop") else case["expected"]
    if name == "pipeline":
        assert postprocess(case["output"], ctx) == expected
        if "continuation" in case:
            processed = process(case["output"], ctx)
            assert processed is not None
            assert processed.continuation == case["continuation"]
    else:
        assert FILTERS[name](case["output"], ctx) == expected


def test_every_filter_has_golden_cases_that_change_or_drop_an_answer():
    files = {path.stem: path for path in GOLDEN.glob("*.toml")}
    assert set(FILTERS) <= set(files), f"no golden file for {set(FILTERS) - set(files)}"
    for name in FILTERS:
        cases = tomllib.loads(files[name].read_text(encoding="utf-8"))["case"]
        changed = [c for c in cases if c.get("drop") or c["expected"] != c["output"]]
        kept = [c for c in cases if not c.get("drop") and c["expected"] == c["output"]]
        assert changed, f"{name}: no case where the filter does anything"
        assert kept or name in {"drop_trailing_whitespace"}, f"{name}: no case left alone"


def test_pipeline_cases_cover_both_model_families_and_the_named_failures():
    cases = tomllib.loads((GOLDEN / "pipeline.toml").read_text(encoding="utf-8"))["case"]
    styles = " ".join(c.get("style", "") for c in cases)
    assert "qwen" in styles and "gpt" in styles
    outputs = [c["output"] for c in cases]
    assert any("```" in o for o in outputs)  # fences
    assert any("\t" in o for o in outputs)  # wrong indentation


def _offered(case: dict[str, Any], without: str = "") -> tuple[str | None, str | None] | None:
    """What the user is offered for a pipeline case, with the filter named `without` left out
    of the pipeline: the suggestion shown, and (when the case names one) the continuation kept
    for the next lines; None when the answer is dropped."""
    ctx = context_for(case)
    continuation = run(case["output"], ctx, tuple(s for s in CLEAN if s.__name__ != without))
    if continuation is None:
        return None
    shown = run(continuation, ctx, tuple(s for s in SHOW if s.__name__ != without))
    return shown, continuation if "continuation" in case else None


def _expected(case: dict[str, Any]) -> tuple[str | None, str | None] | None:
    return None if case.get("drop") else (case["expected"], case.get("continuation"))


@pytest.mark.parametrize("name", sorted({step.__name__ for step in PIPELINE}))
def test_every_filter_of_the_pipeline_changes_what_some_whole_answer_offers(name: str):
    """Leave one filter out of the pipeline: some whole answer in pipeline.toml must then be
    offered wrong. A filter that no whole answer needs is dead weight, or one that an earlier
    filter's change silently made useless; either way a user would see its failure shape
    again if it broke, and no golden case would say so."""
    cases = tomllib.loads((GOLDEN / "pipeline.toml").read_text(encoding="utf-8"))["case"]
    assert all(_offered(case) == _expected(case) for case in cases)  # the whole pipeline
    needed_by = [c["description"] for c in cases if _offered(c, without=name) != _expected(c)]
    assert needed_by, f"no whole answer in pipeline.toml needs {name}"


def test_filters_are_pure():
    ctx = FilterContext(prefix="def f():\n    ", suffix="\n", from_chat=True)
    answer = "```python\nreturn 1\n```"
    assert postprocess(answer, ctx) == postprocess(answer, ctx) == "return 1"


def test_the_continuation_keeps_lines_that_are_not_shown_yet():
    ctx = FilterContext(prefix="x = ", suffix="\n")
    processed = process("compute()\ny = 2\n", ctx)
    assert processed is not None
    assert (processed.shown, processed.continuation) == ("compute()", "compute()\ny = 2")
    ends_line = process("\ny = 2", FilterContext(prefix="x = 1", suffix="\n"))
    assert ends_line is not None
    assert (ends_line.shown, ends_line.continuation) == (None, "\ny = 2")
