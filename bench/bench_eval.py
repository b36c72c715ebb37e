"""`qwen-lsp eval` benchmark (not a test): how long 200 holes x 2 models take against a model
answering in 300 ms, and what a rerun costs. Prints each figure beside its target.

A git clone of the repository given (default: this one) is the code under evaluation; the
fake LLM knows its holes (cut first with the same seed) and plays two models: a perfect one
(`qwen3-coder-flash`, answers what was cut) and a noisy one (`gpt-4.1-mini`, every second
answer cut short by a third). `qwen-lsp eval` runs as a process three times: HTML first, the
JSON report (the rerun, from the cache), then the text table (a third run, also cached).

- wall time of the first run (target: under 2 x the sum of model latencies of one model, as
  the two models run side by side: 2 x 200 x 0.3 s = 120 s);
- requests of the rerun (target 0: every answer comes from the cache);
- the perfect model's exact match (target 100 %).

Run: python bench/bench_eval.py [--repo PATH] [--samples N] [--latency S] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import clean_env  # noqa: E402
from tests.fakes.llm_server import FakeLLM  # noqa: E402

from qwen_lsp.engine.evaluation.holes import cut_holes  # noqa: E402

PERFECT, NOISY = "qwen3-coder-flash", "gpt-4.1-mini"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python bench/bench_eval.py")
    parser.add_argument("--repo", default=str(ROOT), help="a git repository (cloned first)")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.3, help="the model's seconds")
    parser.add_argument("--out", help="keep the reports here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-bench-eval-") as tmp:
        work = Path(tmp)
        repo = work / "repo"
        subprocess.run(["git", "clone", "-q", args.repo, str(repo)], check=True)
        out = Path(args.out) if args.out else work / "reports"
        out.mkdir(parents=True, exist_ok=True)
        holes, texts = cut_holes(repo, samples=args.samples, seed=1)
        table = [
            {
                "before": texts[h.path][max(h.start - 200, 0) : h.start],
                "after": texts[h.path][h.end : h.end + 60],
                "answer": h.text,
            }
            for h in holes
        ]
        with FakeLLM(latency=args.latency) as fake:
            fake.answer_holes(table, noisy=(NOISY,))
            url = fake.openai_base_url
            models = f"openai-compatible:{PERFECT}@{url},openai-compatible:{NOISY}@{url}"
            env = clean_env(work)
            runs = []
            for fmt in ("html", "json", "text"):  # the paid run draws the latency chart
                before = len(fake.requests)
                started = time.monotonic()
                command = [sys.executable, "-m", "qwen_lsp", "eval", str(repo), "--models", models]
                report = out / f"report.{fmt}"
                done = subprocess.run(
                    [
                        *command,
                        "--samples",
                        str(args.samples),
                        "--format",
                        fmt,
                        "--output",
                        str(report),
                    ],
                    env={**env, "PYTHONPATH": os.pathsep.join(sys.path)},
                    cwd=work,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                runs.append((fmt, time.monotonic() - started, len(fake.requests) - before))
                if done.returncode != 0:
                    print(done.stderr[-2000:], file=sys.stderr)
                    return 1
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))  # the rerun's
        perfect = report["models"][0]
        budget = 2 * args.samples * args.latency
        print(f"{len(holes)} holes x 2 models, model latency {args.latency * 1000:.0f} ms")
        print(f"first run: {runs[0][1]:.1f} s, {runs[0][2]} requests (target < {budget:.0f} s)")
        print(f"rerun (json): {runs[1][1]:.1f} s, {runs[1][2]} requests (target 0)")
        print(f"rerun (text): {runs[2][1]:.1f} s, {runs[2][2]} requests (target 0)")
        print(f"perfect model exact match: {perfect['exact_match']:.1%} (target 100 %)")
        print((out / "report.text").read_text(encoding="utf-8"))
        if args.out:
            print(f"reports in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
