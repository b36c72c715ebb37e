"""Benchmark of the first suggestion of a session (not a test): prints each figure beside its
target.

With an instantly answering backend, the round trip of the first inline completion after
the server is ready, and of the second (a new question, so neither comes from the cache or
from memory), per provider wire. The server warms the provider's SDK and client in the
background after `initialized`; without that the first pays for the SDK import and the
client's setup (about half a second). Target: the first within 50 ms of the second.

Run: python bench/bench_first_completion.py [--sessions N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import (  # noqa: E402
    clean_env,
    cursor_of,
    inline_texts,
    open_file,
    running_server,
)
from tests.fakes.llm_server import FakeLLM  # noqa: E402

TARGET_MS = 50.0
# The editor's first completion comes once the user has opened a file and typed, a second
# or more after `initialized`; the warm-up runs meanwhile. On a loaded machine it can take
# longer than that, so the first request waits for the warm-up's log line (at most this).
READY_PAUSE = 1.0
WARM_UP_WAIT = 15.0


def setups(fake: FakeLLM) -> dict[str, tuple[dict, dict[str, str]]]:
    return {
        "openai-compatible (fim)": (
            {
                "provider": "openai-compatible",
                "baseUrl": fake.openai_base_url,
                "model": "qwen2.5-coder-7b",
                "promptMode": "fim",
            },
            {},
        ),
        "dashscope (partial)": (
            {
                "provider": "dashscope",
                "baseUrl": fake.dashscope_base_url,
                "model": "qwen3-coder-flash",
                "promptMode": "partial",
            },
            {"DASHSCOPE_API_KEY": "bench-key"},
        ),
    }


async def one_session(tmp: Path, fake: FakeLLM, options: dict, keys: dict) -> tuple[float, float]:
    """Milliseconds of the first and the second completion of a fresh server."""
    env = clean_env(tmp, **keys)
    options = {**options, "completion": {"timeoutMs": 20000}}
    log_file = Path(env["QWEN_LSP_LOG_FILE"])
    async with running_server(tmp, env, init_options=options) as client:
        await asyncio.sleep(READY_PAUSE)
        for _ in range(int(WARM_UP_WAIT / 0.05)):
            if log_file.exists() and "warmed up" in log_file.read_text():
                break
            await asyncio.sleep(0.05)
        times = []
        for name in ("first", "second"):
            text, position = cursor_of(f"def {name}(a, b):\n    return █\n")
            uri = open_file(client, tmp / f"{name}.py", "python", text)
            fake.reply("a + b")
            start = time.perf_counter()
            texts = await inline_texts(client, uri, position)
            times.append((time.perf_counter() - start) * 1000)
            assert texts == ["a + b"], texts
    return times[0], times[1]


async def main_async(sessions: int) -> None:
    logging.getLogger("pygls").setLevel(logging.ERROR)  # the client ignores the status pushes
    fake = FakeLLM().start()
    try:
        for label, (options, keys) in setups(fake).items():
            firsts, seconds = [], []
            for _ in range(sessions):
                with tempfile.TemporaryDirectory() as tmp:
                    first, second = await one_session(Path(tmp), fake, options, keys)
                firsts.append(first)
                seconds.append(second)
                fake.reset()
            first, second = statistics.median(firsts), statistics.median(seconds)
            gap = first - second
            print(f"{label}: first completion {first:7.1f} ms, second {second:7.1f} ms (median)")
            verdict = "ok" if gap <= TARGET_MS else "MISSED"
            print(f"  first - second {gap:7.1f} ms   target <= {TARGET_MS:.0f} ms   {verdict}")
    finally:
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=5, help="fresh servers per wire")
    asyncio.run(main_async(parser.parse_args().sessions))


if __name__ == "__main__":
    main()
