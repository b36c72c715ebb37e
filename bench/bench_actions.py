"""Benchmark of AI code actions through the real server (not a test): figures beside targets.

- listing, as an editor asks at every cursor move: the round trip of textDocument/codeAction
  on a 5,000-line Python file, the cursor moving line by line, with an edit every tenth move
  (so the tree is re-parsed incrementally on the way); and the model calls it made (none);
- resolving "Add docstring" on a function of that file: the server's own time (round trip
  minus the time the request spent inside the instantly answering fake backend), which covers
  the prompt, the parse check of the whole edited file and the minimal diff;
- resolving it again: a cache hit.

Run: python bench/bench_actions.py [--moves N]
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

from bench.bench_server import percentile, python_file, row  # noqa: E402
from tests.e2e.harness import clean_env, open_file, running_server  # noqa: E402
from tests.e2e.test_actions import action_capabilities, list_actions, pick  # noqa: E402
from tests.fakes.llm_server import FakeLLM  # noqa: E402

LINES = 5000


async def figures(tmp: Path, fake: FakeLLM, moves: int) -> dict[str, list[float]]:
    options = {"provider": "openai-compatible", "baseUrl": fake.openai_base_url}
    text = python_file(LINES)
    out: dict[str, list[float]] = {"list": [], "paid": [], "overhead": [], "hit": []}
    async with running_server(
        tmp, clean_env(tmp), init_options=options, capabilities=action_capabilities()
    ) as client:
        uri = open_file(client, tmp / "big.py", "python", text)
        version = 1
        for move in range(moves + 5):
            line = 1000 + move
            if move % 10 == 9:  # a keystroke now and then: the next listing re-parses
                version += 1
                client.text_document_did_change(
                    types.DidChangeTextDocumentParams(
                        text_document=types.VersionedTextDocumentIdentifier(
                            uri=uri, version=version
                        ),
                        content_changes=[
                            types.TextDocumentContentChangePartial(
                                range=types.Range(types.Position(line, 0), types.Position(line, 0)),
                                text="#",
                            )
                        ],
                    )
                )
            at = types.Position(line=line, character=4)
            started = time.perf_counter()
            await list_actions(client, uri, types.Range(at, at))
            if move >= 5:
                out["list"].append((time.perf_counter() - started) * 1000)
        listing_calls = len(fake.requests)

        for n in range(20):
            line = 2000 + 5 * n + 2  # inside function number 400 + n
            at = types.Position(line=line, character=4)
            action = pick(await list_actions(client, uri, types.Range(at, at)), "AI: Add docstring")
            name = f"function_0_{400 + n}"
            fake.reply(
                f'```python\ndef {name}(value, other=None):\n    """Docs."""\n'
                f"    total = value * {400 + n} + (other or 0)\n    return total\n```"
            )
            started = time.perf_counter()
            resolved = await client.code_action_resolve_async(action)
            paid = (time.perf_counter() - started) * 1000
            assert resolved.edit is not None, client.messages[-1:]
            started = time.perf_counter()
            await client.code_action_resolve_async(action)
            hit = (time.perf_counter() - started) * 1000
            if n >= 3:  # warm-up: the SDK's import and first connection
                out["paid"].append(paid)
                out["overhead"].append(paid - fake.service_times[-1] * 1000)
                out["hit"].append(hit)
    out["listing_calls"] = [listing_calls]
    return out


async def main_async(moves: int) -> None:
    with tempfile.TemporaryDirectory() as name, FakeLLM() as fake:
        result = await figures(Path(name), fake, moves)
    print(f"qwen-lsp code action benchmark ({moves} listings on a {LINES:,}-line Python file)")
    listing = result["list"]
    p50, p95 = statistics.median(listing), percentile(listing, 0.95)
    row("codeAction listing round trip, p50", p50, "ms", "<= 5 ms", p50 <= 5)
    row("codeAction listing round trip, p95", p95, "ms", "<= 15 ms", p95 <= 15)
    calls = result["listing_calls"][0]
    row("model calls made by listing", calls, "", "0", calls == 0)
    overhead = result["overhead"]
    p50 = statistics.median(overhead)
    row("resolve, server time around the paid call, p50", p50, "ms", "<= 60 ms", p50 <= 60)
    paid = statistics.median(result["paid"])
    print(f"{'  (round trip incl. the fake backend, p50)':<48} {paid:9.2f} ms")
    hit = statistics.median(result["hit"])
    row("resolve again, served from the cache, p50", hit, "ms", "<= 40 ms", hit <= 40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--moves", type=int, default=200)
    asyncio.run(main_async(parser.parse_args().moves))


if __name__ == "__main__":
    main()
