"""`qwen-lsp eval` as a process against the fake LLM: holes cut from a small repository,
filled by a perfect, a noisy, a slow and a failing model through the completion path.

The fake knows the holes (`answer_holes`): the test cuts them first with the same seed and
hands over each hole's text with the code around it, so the "perfect" model answers exactly
what was cut. What a user relies on is checked: the perfect model scores 100 %, the same seed
gives the same holes, the report's requests and tokens are the fake's, a rerun sends
nothing, `--dry-run` sends nothing, `--max-cost` leaves a partial report, a dead endpoint
exits 2, and ignored, sensitive and test files are never cut or sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_lsp.engine.evaluation.holes import Hole, cut_holes
from tests.e2e.harness import clean_env
from tests.fakes.llm_server import FakeLLM, _input_text, estimate_tokens
from tests.gitrepo import git

GEOMETRY = '''"""Shapes."""

import math


def area(width, height):
    if width < 0 or height < 0:
        raise ValueError("negative side")
    return width * height


def circle(radius):
    total = math.pi * radius * radius
    return round(total, 2)


class Box:
    def __init__(self, width, height):
        self.width = width
        self.height = height

    def volume(self, depth):
        base = area(self.width, self.height)
        return base * depth
'''

PRICES = """function subtotal(items) {
  let sum = 0;
  for (const item of items) {
    sum += item.price * item.count;
  }
  return sum;
}

function withTax(items, rate) {
  const base = subtotal(items);
  return base + base * rate;
}
"""

SECRET_MARK = "SENSITIVE_BODY_NEVER_SENT"
IGNORED_MARK = "IGNORED_BODY_NEVER_SENT"
TEST_MARK = "TEST_BODY_NEVER_SENT"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "tests").mkdir(parents=True)
    (root / "build").mkdir()
    (root / "geometry.py").write_text(GEOMETRY, encoding="utf-8")
    (root / "prices.js").write_text(PRICES, encoding="utf-8")
    marked = "def f(x):\n    y = x + 1\n    return '{}' + str(y)\n"
    (root / "secrets.py").write_text(marked.format(SECRET_MARK), encoding="utf-8")
    (root / "build" / "gen.py").write_text(marked.format(IGNORED_MARK), encoding="utf-8")
    (root / "tests" / "test_geometry.py").write_text(marked.format(TEST_MARK), encoding="utf-8")
    (root / ".gitignore").write_text("build/\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "shop")
    return root


def holes_of(root: Path, samples: int, seed: int = 1) -> tuple[list[Hole], dict[str, str]]:
    return cut_holes(root, samples=samples, seed=seed)


def teach(fake: FakeLLM, root: Path, samples: int, *, noisy: tuple[str, ...] = ()) -> list[Hole]:
    holes, texts = holes_of(root, samples)
    fake.answer_holes(
        [
            {
                "before": texts[h.path][max(h.start - 120, 0) : h.start],
                "after": texts[h.path][h.end : h.end + 40],
                "answer": h.text,
            }
            for h in holes
        ],
        noisy=noisy,
    )
    return holes


def run_eval(
    root: Path, env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "eval", str(root), *args],
        cwd=root.parent,  # `python -m` puts its folder first on sys.path: not the repository's
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spec(fake: FakeLLM, model: str) -> str:
    return f"openai-compatible:{model}@{fake.openai_base_url}"


def test_perfect_and_noisy_models_scored_and_priced_as_the_fake_saw_them(
    fake_llm: FakeLLM, repo: Path, tmp_path: Path
):
    holes = teach(fake_llm, repo, 9, noisy=("gpt-4.1-mini",))
    assert {h.kind for h in holes} == {"line_end", "line_rest", "block"}
    env = clean_env(tmp_path)
    models = f"{spec(fake_llm, 'qwen3-coder-flash')},{spec(fake_llm, 'gpt-4.1-mini')}"
    done = run_eval(repo, env, "--samples", "9", "--models", models, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["seed"] == 1 and report["holes"] == 9 and report["complete"] is True
    assert report["by_kind"] == {"line_end": 3, "line_rest": 3, "block": 3}
    perfect, noisy = report["models"]
    assert perfect["exact_match"] == 1.0 and perfect["similarity"] == 1.0
    assert perfect["parses"] == 1.0 and perfect["answered"] == 9
    assert perfect["tests_pass"] is None
    assert 0 < noisy["exact_match"] < 1.0 and noisy["similarity"] < 1.0
    # The report's money is the fake's: every request and token it saw, per model.
    requests = fake_llm.requests
    for figures, model in ((perfect, "qwen3-coder-flash"), (noisy, "gpt-4.1-mini")):
        mine = [r for r in requests if r.body["model"] == model]
        assert figures["requests"] == len(mine) == 9
        assert figures["from_cache"] == 0
        prompts = [estimate_tokens(_input_text(r.body, r.wire)) for r in mine]
        assert figures["tokens"]["input"] == sum(prompts)
    assert perfect["cost"]["currency"] == "CNY" and noisy["cost"]["currency"] == "USD"
    expected = perfect["tokens"]["input"] * 1.0 + perfect["tokens"]["output"] * 4.0
    assert perfect["cost"]["total"] == pytest.approx(expected / 1e6, rel=1e-3)
    kept = sum(len(h.text) for h in holes)
    assert perfect["cost"]["per_1000_kept_chars"] == pytest.approx(
        perfect["cost"]["total"] / kept * 1000, rel=1e-2
    )
    # Nothing from an ignored, sensitive or test file was cut or went into a prompt.
    sent = "".join(_input_text(r.body, r.wire) for r in requests)
    for mark in (SECRET_MARK, IGNORED_MARK, TEST_MARK):
        assert mark not in sent
    assert {h.path for h in holes} <= {"geometry.py", "prices.js"}

    # A rerun pays nothing: every answer comes from the cache, the scores are the same.
    before = len(fake_llm.requests)
    again = run_eval(repo, env, "--samples", "9", "--models", models, "--format", "json")
    assert again.returncode == 0, again.stderr
    assert len(fake_llm.requests) == before
    rerun = json.loads(again.stdout)
    for first, second in zip(report["models"], rerun["models"], strict=True):
        assert second["requests"] == 0 and second["from_cache"] == 9
        assert second["tokens"] == {"input": 0, "output": 0}
        assert second["exact_match"] == first["exact_match"]
        assert second["cost"]["per_100"] == first["cost"]["per_100"]


def test_the_same_seed_cuts_the_same_holes_and_another_seed_others(repo: Path):
    first, _ = holes_of(repo, 6, seed=7)
    assert holes_of(repo, 6, seed=7)[0] == first
    assert holes_of(repo, 6, seed=8)[0] != first
    assert holes_of(repo, 6, seed=7)[0] == holes_of(repo, 6, seed=7)[0]


def test_an_added_model_pays_only_for_itself(fake_llm: FakeLLM, repo: Path, tmp_path: Path):
    teach(fake_llm, repo, 6)
    env = clean_env(tmp_path)
    one = spec(fake_llm, "qwen3-coder-flash")
    assert run_eval(repo, env, "--samples", "6", "--models", one).returncode == 0
    assert len(fake_llm.requests) == 6
    two = f"{one},{spec(fake_llm, 'qwen3-coder-plus')}"
    done = run_eval(repo, env, "--samples", "6", "--models", two, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [r.body["model"] for r in fake_llm.requests[6:]] == ["qwen3-coder-plus"] * 6
    assert [m["requests"] for m in json.loads(done.stdout)["models"]] == [0, 6]


def test_dry_run_estimates_and_sends_nothing(fake_llm: FakeLLM, repo: Path, tmp_path: Path):
    env = clean_env(tmp_path)
    model = spec(fake_llm, "gpt-4.1-mini")
    done = run_eval(repo, env, "--samples", "6", "--models", model, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert fake_llm.requests == []
    assert "6 to ask (0 cached)" in done.stdout and "USD" in done.stdout
    # Once answered, the same holes would cost nothing more.
    teach(fake_llm, repo, 6)
    assert run_eval(repo, env, "--samples", "6", "--models", model).returncode == 0
    again = run_eval(repo, env, "--samples", "6", "--models", model, "--dry-run")
    assert "0 to ask (6 cached)" in again.stdout, again.stdout + again.stderr


def test_max_cost_stops_paying_with_a_partial_report(fake_llm: FakeLLM, repo: Path, tmp_path: Path):
    teach(fake_llm, repo, 9)
    env = clean_env(tmp_path)
    args = ("--samples", "9", "--models", spec(fake_llm, "gpt-4.1"), "--format", "json")
    done = run_eval(repo, env, *args, "--max-cost", "0.0000001")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["complete"] is False
    assert report["models"][0]["requests"] == len(fake_llm.requests) == 1
    assert "--max-cost" in done.stderr


def test_a_slow_model_shows_in_the_latency(fake_llm: FakeLLM, repo: Path, tmp_path: Path):
    teach(fake_llm, repo, 3)
    fake_llm.latency = 0.3
    env = clean_env(tmp_path)
    args = ("--samples", "3", "--models", spec(fake_llm, "qwen3-coder-flash"), "--format", "json")
    done = run_eval(repo, env, *args)
    assert done.returncode == 0, done.stderr
    model = json.loads(done.stdout)["models"][0]
    assert model["latency_ms"]["p50"] >= 300 and model["exact_match"] == 1.0


def test_a_failing_endpoint_exits_2_with_a_partial_report(
    fake_llm: FakeLLM, repo: Path, tmp_path: Path
):
    fake_llm.fault("500")
    env = clean_env(tmp_path)
    args = ("--samples", "9", "--models", spec(fake_llm, "qwen3-coder-flash"), "--format", "json")
    done = run_eval(repo, env, *args)
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["complete"] is False and report["models"][0]["answered"] == 0
    assert "HTTP 500" in done.stderr or "500" in done.stderr


def test_bad_model_specs_and_missing_keys_exit_2(repo: Path, tmp_path: Path):
    env = clean_env(tmp_path)
    bad = run_eval(repo, env, "--models", "nowhere:model")
    assert bad.returncode == 2 and "provider:model[@baseUrl]" in bad.stderr
    keyless = run_eval(repo, env, "--models", "openai:gpt-4.1-mini")
    assert keyless.returncode == 2 and "OPENAI_API_KEY" in keyless.stderr


def test_tests_pass_runs_the_test_command_in_a_copy(fake_llm: FakeLLM, repo: Path, tmp_path: Path):
    teach(fake_llm, repo, 6, noisy=("gpt-4.1-mini",))
    env = clean_env(tmp_path)
    check = f"{sys.executable} -c \"import ast,sys; ast.parse(open('geometry.py').read())\""
    models = f"{spec(fake_llm, 'qwen3-coder-flash')},{spec(fake_llm, 'gpt-4.1-mini')}"
    args = ("--samples", "6", "--models", models, "--format", "json", "--test-cmd", check)
    done = run_eval(repo, env, *args)
    assert done.returncode == 0, done.stderr
    perfect, noisy = json.loads(done.stdout)["models"]
    assert perfect["tests_pass"] == 1.0
    # The noisy model's cut-off answers (an unclosed call, half a statement) fail the check.
    assert noisy["tests_pass"] is not None and noisy["tests_pass"] < 1.0
    assert (repo / "geometry.py").read_text(encoding="utf-8") == GEOMETRY  # the copy only


def test_html_report_is_self_contained(fake_llm: FakeLLM, repo: Path, tmp_path: Path):
    pytest.importorskip("plotly")
    teach(fake_llm, repo, 6)
    env = clean_env(tmp_path)
    out = tmp_path / "report.html"
    args = ("--samples", "6", "--models", spec(fake_llm, "qwen3-coder-flash"))
    done = run_eval(repo, env, *args, "--format", "html", "--output", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert "Quality against cost" in page and "Latency per completion" in page
    assert "Exact match per language" in page
    assert "<script src=" not in page  # plotly's JavaScript inline, nothing fetched
