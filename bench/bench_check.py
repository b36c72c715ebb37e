"""Benchmark of `qwen-lsp --check` (not a test): prints each figure beside its target.

- a fully cached `--check` over a 1,000-file repository: the real command, wall clock, after
  a first run filled the cache (target: at most 5 s, and no provider call);
- first-run throughput with a fake model that takes 300 ms per answer, at `--jobs 8`: chunks
  reviewed per second against the ideal of 8 / 0.3 s.

Run: python bench/bench_check.py [--files N] [--latency-chunks N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import clean_env  # noqa: E402
from tests.fakes.llm_server import FakeLLM  # noqa: E402

LATENCY = 0.3
JOBS = 8
ANSWER = json.dumps(
    {
        "findings": [
            {
                "path": "",
                "line": 2,
                "endLine": 2,
                "severity": "info",
                "rule": "naming",
                "message": "A clearer name would help.",
                "suggestion": None,
            }
        ]
    }
)


def row(name: str, value: float, unit: str, target: str, ok: bool) -> None:
    print(f"{name:<58} {value:9.2f} {unit:<8} target {target:<12} {'ok' if ok else 'MISSED'}")


def module(seed: int) -> str:
    out = [f'"""Module {seed} of the benchmark repository."""', "", "import math", "", ""]
    for n in range(6):
        out += [
            f"def compute_{seed}_{n}(values, scale={n}):",
            f'    """Scale and sum values for case {n}."""',
            "    total = 0",
            "    for value in values:",
            "        total += math.sqrt(abs(value)) * scale",
            "    return total",
            "",
            "",
        ]
    return "\n".join(out)


def make_repository(root: Path, files: int) -> None:
    for n in range(files):
        folder = root / f"pkg{n // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod_{n}.py").write_text(module(n), encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)


def check(root: Path, env: dict[str, str], *args: str) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "--check", "--format", "json", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"--check failed ({done.returncode}):\n{done.stderr}")
    return elapsed, json.loads(done.stdout)["summary"]


def env_for(tmp: Path, fake: FakeLLM) -> dict[str, str]:
    env = clean_env(
        tmp,
        QWEN_LSP_PROVIDER="openai-compatible",
        QWEN_LSP_BASE_URL=fake.openai_base_url,
        QWEN_LSP_CHAT_MODEL="qwen3-coder-plus",
    )
    env.pop("GITHUB_STEP_SUMMARY", None)
    return env


def cached_run(files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeLLM(reply=ANSWER) as fake:
        repo = Path(tmp) / "repo"
        make_repository(repo, files)
        env = env_for(Path(tmp), fake)
        first, summary = check(repo, env, "--jobs", str(JOBS))
        print(
            f"(first run to fill the cache: {summary['chunks']} chunks in {first:.1f} s "
            f"against an instant fake)"
        )
        calls = len(fake.requests)
        seconds, summary = check(repo, env, "--jobs", str(JOBS))
        row(
            f"fully cached --check, {files} files ({summary['chunks']} chunks)",
            seconds,
            "s",
            "<= 5 s",
            seconds <= 5.0,
        )
        new_calls = len(fake.requests) - calls
        row("provider calls in the cached run", new_calls, "calls", "0", new_calls == 0)


def latency_run(files: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeLLM(reply=ANSWER, latency=LATENCY) as fake:
        repo = Path(tmp) / "repo"
        make_repository(repo, files)
        env = env_for(Path(tmp), fake)
        seconds, summary = check(repo, env, "--jobs", str(JOBS))
        chunks = summary["chunks"]
        ideal = JOBS / LATENCY
        rate = chunks / seconds
        row(
            f"first run, {LATENCY * 1000:.0f} ms model, --jobs {JOBS}: {chunks} chunks in "
            f"{seconds:.1f} s",
            rate,
            "chunks/s",
            f">= {0.75 * ideal:.1f}",
            rate >= 0.75 * ideal,
        )
        print(f"(ideal {ideal:.1f} chunks/s: {JOBS} requests always in flight)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="files in the cached run")
    parser.add_argument(
        "--latency-files", type=int, default=240, help="files in the throughput run"
    )
    args = parser.parse_args()
    cached_run(args.files)
    latency_run(args.latency_files)


if __name__ == "__main__":
    main()
