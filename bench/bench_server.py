"""Benchmark of the language server itself (not a test): prints each figure beside its target.

- spawn to `initialize` answered;
- inline completion round trip on a 5,000-line file with an instantly answering backend and
  the cache missing every time (the figure includes the fake backend's own HTTP handling, so
  the server's overhead is at most this);
- a cache hit (the same request again);
- server memory (RSS) after opening 50 files.

Run: python bench/bench_server.py [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import (  # noqa: E402
    SERVER_COMMAND,
    clean_env,
    inline_capabilities,
    inline_texts,
    open_file,
    running_server,
)
from tests.fakes.llm_server import FakeLLM  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, value: float, unit: str, target: str, ok: bool) -> None:
    print(f"{name:<48} {value:9.2f} {unit:<4} target {target:<10} {'ok' if ok else 'MISSED'}")


def python_file(lines: int, seed: int = 0) -> str:
    out = []
    for i in range(lines // 5):
        out.append(f"def function_{seed}_{i}(value, other=None):")
        out.append(f'    """Return a number derived from value {i}."""')
        out.append(f"    total = value * {i} + (other or 0)")
        out.append("    return total")
        out.append("")
    return "\n".join(out) + "\n"


async def spawn_to_initialize(tmp: Path, runs: int = 5) -> list[float]:
    from pytest_lsp import ClientServerConfig

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client = await ClientServerConfig(
            server_command=SERVER_COMMAND, server_env=clean_env(tmp)
        ).start()
        await client.initialize_session(
            types.InitializeParams(capabilities=inline_capabilities(), root_uri=tmp.as_uri())
        )
        times.append((time.perf_counter() - started) * 1000)
        await client.shutdown_session()
        await client.stop()
    return times


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def completion_figures(tmp: Path, fake: FakeLLM, requests: int) -> dict[str, list[float]]:
    options = {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "promptMode": "fim",
    }
    text = python_file(5000)
    line = 2500
    figures: dict[str, list[float]] = {"miss": [], "hit": []}
    async with running_server(tmp, clean_env(tmp), init_options=options) as client:
        uri = open_file(client, tmp / "big.py", "python", text)
        for i in range(requests + 5):
            column = i
            # Type one character, then ask: a new prompt each time, so the cache misses.
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(
                                start=types.Position(line=line, character=column),
                                end=types.Position(line=line, character=column),
                            ),
                            text="x",
                        )
                    ],
                )
            )
            position = types.Position(line=line, character=column + 1)
            started = time.perf_counter()
            await inline_texts(client, uri, position)
            miss = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            await inline_texts(client, uri, position)
            hit = (time.perf_counter() - started) * 1000
            if i >= 5:  # warm-up: first imports of the SDK, first connections
                figures["miss"].append(miss)
                figures["hit"].append(hit)
        backend_calls = len(fake.requests)
        for n in range(50):
            language, suffix = [("python", "py"), ("typescript", "ts"), ("go", "go")][n % 3]
            open_file(client, tmp / f"f{n}.{suffix}", language, python_file(1000, n))
        await inline_texts(client, uri, types.Position(line=0, character=0))  # a round trip
        pid = client._server.pid
        figures["rss"] = [rss_mib(pid)]
    figures["calls"] = [backend_calls]
    return figures


async def main_async(requests: int) -> None:
    with tempfile.TemporaryDirectory() as name, FakeLLM() as fake:
        tmp = Path(name)
        fake.reply("value + 1")
        spawn = await spawn_to_initialize(tmp)
        figures = await completion_figures(tmp, fake, requests)
    print(f"qwen-lsp server benchmark ({requests} completions on a 5,000-line Python file)")
    p50 = statistics.median(spawn)
    row("spawn to initialize answered, median of 5", p50, "ms", "<= 400 ms", p50 <= 400)
    miss, hit = figures["miss"], figures["hit"]
    p50, p99 = statistics.median(miss), percentile(miss, 0.99)
    row("inline completion, instant backend, p50", p50, "ms", "<= 5 ms", p50 <= 5)
    row("inline completion, instant backend, p99", p99, "ms", "<= 20 ms", p99 <= 20)
    p50 = statistics.median(hit)
    row("inline completion, cache hit, p50", p50, "ms", "<= 2 ms", p50 <= 2)
    rss = figures["rss"][0]
    row("server memory after opening 50 files", rss, "MiB", "<= 100 MiB", rss <= 100)
    print(f"(backend calls: {figures['calls'][0]:.0f}; every miss reached the fake)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main_async(args.requests))


if __name__ == "__main__":
    main()
