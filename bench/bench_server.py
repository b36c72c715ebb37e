"""Benchmark of the language server itself (not a test): prints each figure beside its target.

- spawn to `initialize` answered;
- server overhead of an inline completion on a 5,000-line file while typing, with an
  instantly answering backend and the cache missing every time: the client's round trip
  minus the time the request spent inside the fake backend;
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


def typescript_file(lines: int, seed: int = 0) -> str:
    out = []
    for i in range(lines // 5):
        out.append(f"export function function{seed}_{i}(value: number, other?: number): number {{")
        out.append(f"  // Return a number derived from value {i}.")
        out.append(f"  const total = value * {i} + (other ?? 0);")
        out.append("  return total;")
        out.append("}")
    return "\n".join(out) + "\n"


def go_file(lines: int, seed: int = 0) -> str:
    out = ["package bench", ""]
    for i in range((lines - 2) // 5):
        out.append(f"// Function{seed}x{i} returns a number derived from value {i}.")
        out.append(f"func Function{seed}x{i}(value int, other int) int {{")
        out.append(f"\ttotal := value*{i} + other")
        out.append("\treturn total")
        out.append("}")
    return "\n".join(out) + "\n"


TYPED_LINE = "    result = compute(value, other) + total * 2  # keep going\n"


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

    # An installed package has its bytecode compiled (pip does it); let a checkout's be
    # written too, by a first start that is not counted.
    env = clean_env(tmp)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times = []
    for run in range(runs + 1):
        started = time.perf_counter()
        client = await ClientServerConfig(server_command=SERVER_COMMAND, server_env=env).start()
        await client.initialize_session(
            types.InitializeParams(capabilities=inline_capabilities(), root_uri=tmp.as_uri())
        )
        if run:
            times.append((time.perf_counter() - started) * 1000)
        await client.shutdown_session()
        await client.stop()
    return times


def lsprotocol_import_ms(runs: int = 5) -> float:
    """What importing lsprotocol's types alone costs a fresh interpreter here (pygls needs it)."""
    import subprocess

    code = "import time; t = time.perf_counter(); import lsprotocol.types; "
    code += "print((time.perf_counter() - t) * 1000)"
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(times)


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
    line = 2500  # a "def" line
    figures: dict[str, list[float]] = {"miss": [], "overhead": [], "hit": [], "reused": []}
    async with running_server(tmp, clean_env(tmp), init_options=options) as client:
        uri = open_file(client, tmp / "big.py", "python", text)
        # Type a new statement into a function body in the middle of the file, one key at a
        # time, asking for a completion after each key as an editor does: a new prompt each
        # time, so the cache misses, and the same request again right after is a cache hit.
        typed = (TYPED_LINE * (requests // len(TYPED_LINE) + 2))[: requests + 5]
        row, column = line + 3, 0  # after "    return total"
        for i, char in enumerate(typed):
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(
                                start=types.Position(line=row, character=column),
                                end=types.Position(line=row, character=column),
                            ),
                            text=char,
                        )
                    ],
                )
            )
            row, column = (row + 1, 0) if char == "\n" else (row, column + 1)
            position = types.Position(line=row, character=column)
            calls_before = len(fake.service_times)
            started = time.perf_counter()
            await inline_texts(client, uri, position)
            miss = (time.perf_counter() - started) * 1000
            called = len(fake.service_times) > calls_before
            started = time.perf_counter()
            await inline_texts(client, uri, position)
            hit = (time.perf_counter() - started) * 1000
            if i < 5:
                continue  # warm-up: first imports of the SDK, first connections
            figures["hit"].append(hit)
            if called:
                figures["miss"].append(miss)
                figures["overhead"].append(miss - fake.service_times[-1] * 1000)
            else:  # typed the start of the last suggestion: answered with no request
                figures["reused"].append(miss)
        backend_calls = len(fake.requests)
        makers = [
            ("python", "py", python_file),
            ("typescript", "ts", typescript_file),
            ("go", "go", go_file),
        ]
        for n in range(50):
            language, suffix, make = makers[n % 3]
            open_file(client, tmp / f"f{n}.{suffix}", language, make(1000, n))
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
    print(f"{'  (of which importing lsprotocol.types alone)':<48} {lsprotocol_import_ms():9.2f} ms")
    miss, overhead, hit = figures["miss"], figures["overhead"], figures["hit"]
    p50, p99 = statistics.median(overhead), percentile(overhead, 0.99)
    row("server overhead per completion (no cache), p50", p50, "ms", "<= 5 ms", p50 <= 5)
    row("server overhead per completion (no cache), p99", p99, "ms", "<= 20 ms", p99 <= 20)
    p50 = statistics.median(miss)
    print(f"{'  (round trip incl. the fake backend, p50)':<48} {p50:9.2f} ms")
    p50 = statistics.median(hit)
    row("inline completion, cache hit, p50", p50, "ms", "<= 2 ms", p50 <= 2)
    rss = figures["rss"][0]
    row("server memory after opening 50 files", rss, "MiB", "<= 100 MiB", rss <= 100)
    reused = figures["reused"]
    if reused:
        print(f"{'  typing-through, no request, p50':<48} {statistics.median(reused):9.2f} ms")
    print(
        f"(backend calls: {figures['calls'][0]:.0f}; {len(overhead)} keystrokes reached the "
        f"backend, {len(reused)} were served from the last suggestion)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main_async(args.requests))


if __name__ == "__main__":
    main()
