"""Benchmark of the review's cross-file context (not a test): prints each figure beside its
target.

On `tests/data/repos/cross_file_calls` (three calls in `shop/checkout.py` that break the
signatures of functions in other files), the real `qwen-lsp --check` runs against the fake
LLM twice, with the signatures (`context.crossFile` on, the default) and without them. The
fake answers as `tests/fakes/signature_reviewer.py` does: it flags a call only when it can see
the callee's signature in the prompt. So the figures say whether the signatures reach the
prompts of the chunks that need them, and what they cost in input tokens; they do not say how
often a real model catches such bugs.

Run: python bench/bench_review_context.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import clean_env  # noqa: E402
from tests.fakes import signature_reviewer  # noqa: E402
from tests.fakes.llm_server import FakeLLM  # noqa: E402

FIXTURE = ROOT / "tests" / "data" / "repos" / "cross_file_calls"
PLANTED = 3


def row(name: str, value: float, unit: str, target: str, ok: bool) -> None:
    print(f"{name:<52} {value:9.1f} {unit:<8} target {target:<14} {'ok' if ok else 'MISSED'}")


def run(repo: Path, fake: FakeLLM, home: Path, cross_file: bool) -> dict:
    env = clean_env(
        home,
        QWEN_LSP_PROVIDER="openai-compatible",
        QWEN_LSP_BASE_URL=fake.openai_base_url,
        QWEN_LSP_CHAT_MODEL="gpt-4.1-mini",
        QWEN_LSP_CONTEXT_CROSS_FILE="true" if cross_file else "false",
        QWEN_LSP_CACHE_DIR=str(home / ("cache-on" if cross_file else "cache-off")),
    )
    done = subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "--check", "--format", "json", "--fail-level", "none"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"--check failed ({done.returncode}): {done.stderr}")
    return json.loads(done.stdout)


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch, FakeLLM() as fake:
        home = Path(scratch)
        repo = home / "repo"
        shutil.copytree(FIXTURE, repo)
        (repo / ".git").mkdir()
        fake.responder = signature_reviewer.review
        with_context = run(repo, fake, home, True)
        without = run(repo, fake, home, False)
    found_with = sum(f["rule"] == "wrong-call" for f in with_context["findings"])
    found_without = sum(f["rule"] == "wrong-call" for f in without["findings"])
    tokens_with = with_context["summary"]["inputTokens"]
    tokens_without = without["summary"]["inputTokens"]
    print(f"cross-file calls broken on purpose in the fixture: {PLANTED}")
    row(
        "wrong calls found, with the signatures",
        found_with,
        "findings",
        f"{PLANTED}",
        found_with == PLANTED,
    )
    row("wrong calls found, without them", found_without, "findings", "(baseline)", True)
    overhead = 100 * (tokens_with - tokens_without) / max(tokens_without, 1)
    row("input tokens added by the signatures", overhead, "%", "<= 20 %", overhead <= 20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
