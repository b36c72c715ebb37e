"""Benchmark of `qwen-lsp --check` (not a test): prints each figure beside its target.

- a fully cached `--check` over a 1,000-file repository: the real command, wall clock, after
  a first run filled the cache (target: at most 5 s, and no provider call);
- first-run throughput with a fake model that takes 300 ms per answer, at `--jobs 8`: chunks
  reviewed per second against the ideal of 8 / 0.3 s;
- fail-fast, over 150 one-chunk files: an endpoint that is down (nothing listens on its port)
  stops the run within 15 s; a hung endpoint (it accepts and never answers) ends it within two
  request deadlines in all; a storm of 429s with Retry-After costs at most 3 requests per chunk
  in all, whether the storm passes or never ends.

Run: python bench/bench_check.py [--files N] [--latency-files N] [--only failfast]
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import threading
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


def check(
    root: Path, env: dict[str, str], *args: str, codes: tuple[int, ...] = (0, 1)
) -> tuple[float, dict]:
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
    if done.returncode not in codes:
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


FAILFAST_CHUNKS = 150
DEADLINE_S = 5  # review.timeoutMs of the hung-endpoint run


class FirstRequest:
    """When the next request reaches the fake (a thread watches for it)."""

    def __init__(self, fake: FakeLLM) -> None:
        self._seen = len(fake.requests)
        self._at = 0.0
        self._thread = threading.Thread(target=self._watch, args=(fake,), daemon=True)
        self._thread.start()

    def _watch(self, fake: FakeLLM) -> None:
        if fake.wait_for_requests(timeout=600, count=self._seen + 1):
            self._at = time.perf_counter()

    def at(self) -> float:
        self._thread.join(timeout=1)
        return self._at


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def failfast_runs() -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeLLM(reply=ANSWER) as fake:
        repo = Path(tmp) / "repo"
        make_repository(repo, FAILFAST_CHUNKS)
        env = env_for(Path(tmp), fake)
        # Down: a port nothing listens on (connection refused at once).
        down = dict(env, QWEN_LSP_BASE_URL=f"http://127.0.0.1:{free_port()}/v1")
        seconds, summary = check(repo, down, "--jobs", str(JOBS), codes=(2,))
        row(
            f"endpoint down, {summary['chunks']} chunks: run stopped after",
            seconds,
            "s",
            "<= 15 s",
            seconds <= 15,
        )
        # Down behind a proxy: every request answered 503.
        fake.fault("503")
        seconds, summary = check(repo, env, "--jobs", str(JOBS), codes=(2,))
        fake.clear_faults()
        row(
            f"endpoint answering 503, {summary['chunks']} chunks: run stopped after",
            seconds,
            "s",
            "<= 15 s",
            seconds <= 15,
        )
        # Hung: every request is accepted and never answered.
        config = Path(tmp) / "user.toml"
        config.write_text(f"[review]\ntimeoutMs = {DEADLINE_S * 1000}\n", encoding="utf-8")
        hung_env = dict(env, QWEN_LSP_CONFIG=str(config))
        fake.fault("hang")
        for paths, jobs in (((), JOBS), (("pkg0/mod_0.py", "pkg0/mod_1.py"), 4), (("pkg0",), 1)):
            first = FirstRequest(fake)
            seconds, summary = check(repo, hung_env, "--jobs", str(jobs), *paths, codes=(2,))
            # From the first request on: the deadlines the run spent, not its start-up.
            deadlines = (time.perf_counter() - first.at()) / DEADLINE_S
            row(
                f"hung endpoint, {summary['chunks']} chunks, --jobs {jobs} ({seconds:.1f} s all)",
                deadlines,
                "deadlines",
                "<= 2",
                deadlines <= 2,
            )
        fake.clear_faults()
        # A storm that never ends: every request is refused with Retry-After: 1.
        before = len(fake.requests)
        fake.fault("429", retry_after=1)
        seconds, summary = check(repo, env, "--jobs", str(JOBS), codes=(2,))
        fake.clear_faults()
        per_chunk = (len(fake.requests) - before) / summary["chunks"]
        row(
            f"endless 429 storm: requests per chunk (stopped after {seconds:.1f} s)",
            per_chunk,
            "requests",
            "<= 3",
            per_chunk <= 3,
        )
        # A storm that passes: the first 60 requests are refused, Retry-After: 0.5.
        before = len(fake.requests)
        fake.fault("429", times=60, retry_after=0.5)
        seconds, summary = check(repo, env, "--jobs", str(JOBS), codes=(0, 1, 2))
        per_chunk = (len(fake.requests) - before) / summary["chunks"]
        row(
            f"429 storm of 60 refusals: requests per chunk ({summary['failed']} failed, "
            f"{seconds:.1f} s)",
            per_chunk,
            "requests",
            "<= 3",
            per_chunk <= 3,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="files in the cached run")
    parser.add_argument(
        "--latency-files", type=int, default=240, help="files in the throughput run"
    )
    parser.add_argument("--only", choices=("cached", "latency", "failfast"), help="one part")
    args = parser.parse_args()
    if args.only in (None, "cached"):
        cached_run(args.files)
    if args.only in (None, "latency"):
        latency_run(args.latency_files)
    if args.only in (None, "failfast"):
        failfast_runs()


if __name__ == "__main__":
    main()
