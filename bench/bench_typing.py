"""Typing benchmark (not a test): what typing costs in backend requests, and how soon a pause
brings a suggestion. Prints each figure beside its target.

The real server over stdio; a fake LLM in its own process answering every request in 300 ms;
a client that types like a person in VS Code: a 200-character line, one key every 60 ms,
with three 600 ms pauses at word boundaries, asking for an inline completion on every key
and cancelling the previous request ($/cancelRequest). Then it pauses for a multi-line
suggestion and types exactly what it suggests (Enter with the editor's indentation at each
line end), still asking on every key.

- backend requests for the line (target <= 5);
- time from each pause (the last key before it) to a suggestion (target <= 400 ms);
- backend requests while typing exactly the suggested text (target 0).

Run: python bench/bench_typing.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import clean_env, open_file, running_server  # noqa: E402
from tests.e2e.typist import Typist  # noqa: E402

LATENCY = 0.3
KEY_INTERVAL = 0.06
PAUSE = 0.6
LINE = (
    "    report = build_monthly_report(customer_name, order_total, shipping_address, "
    "billing_address, discount_code, loyalty_points, currency, invoice_locale, "
    "include_taxes=True, notes=None, dry_run=False)"
)
PREFIX = "def monthly(customer_name, order_total, shipping_address, billing_address):\n"
# What the fake suggests while the line is typed: never what the user types next.
ELSEWHERE = "zz_not_what_you_type()"
# The suggestion typed through: one line now, the later lines kept for the next lines.
SUGGESTION = "sum(report.lines)\n    count = len(report.lines)\n    return total / count\n"
SHOWN = "sum(report.lines)"
LATER_LINES = ["count = len(report.lines)", "return total / count"]
INDENT = "    "  # what the editor puts on a new line


@contextmanager
def fake_llm_process():
    """The fake LLM as its own process, so its threads do not steal the client's time."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm_server", "--latency", str(LATENCY)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("READY "):
            raise RuntimeError(f"the fake LLM did not start: {line!r}")
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(5)


def control(url: str, action: str, payload: dict | None = None):
    """The fake's control API: GET for what it saw, POST to script it."""
    if action in ("requests", "stats"):
        request = urllib.request.Request(f"{url}/_fake/{action}")
    else:
        data = json.dumps(payload or {}).encode()
        request = urllib.request.Request(f"{url}/_fake/{action}", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def requests_made(url: str) -> int:
    return int(control(url, "stats")["requests"])


def pause_points(line: str, count: int = 3) -> list[int]:
    """Indexes of keys after which the typist pauses: word boundaries near 1/4, 1/2, 3/4."""
    points = []
    for part in range(1, count + 1):
        index = len(line) * part // (count + 1)
        while line[index - 1] != " ":
            index += 1
        points.append(index - 1)  # the key typed just before the pause is the space
    return points


async def one_run(tmp: Path, url: str) -> dict[str, list[float]]:
    control(url, "reset")
    control(url, "config", {"latency": LATENCY})
    control(url, "reply", {"text": ELSEWHERE})
    options = {
        "provider": "openai-compatible",
        "baseUrl": url + "/v1",
        "promptMode": "fim",
        "model": "qwen-coder-turbo",
    }
    figures: dict[str, list[float]] = {"line": [], "pauses": [], "through": [], "shown": []}
    async with running_server(tmp, clean_env(tmp), init_options=options) as client:
        client.feature("qwen-lsp/status")(lambda params: None)  # a status bar would show it
        uri = open_file(client, tmp / "report.py", "python", PREFIX)
        typist = Typist(client, uri, PREFIX, len(PREFIX))
        loop = asyncio.get_running_loop()

        # -- the line, with three pauses ----------------------------------------------
        # A first request off the clock: the SDK's import and the first connection are paid
        # once per session, not on a pause.
        await typist.answer(typist.ask(manual=True))
        pauses = set(pause_points(LINE))
        before = requests_made(url)
        at = loop.time()
        at_pauses = []
        last = None
        for index, char in enumerate(LINE):
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            last = typist.key(char)
            at += KEY_INTERVAL
            if index in pauses:
                at += PAUSE  # the typist rests on a schedule, whatever the server does
                at_pauses.append(last)
        await typist.answer(last)  # the user stops at the end of the line too
        await typist.settle()
        await asyncio.sleep(0.2)
        figures["line"].append(requests_made(url) - before)
        for asked in at_pauses:
            if asked.texts and asked.answered is not None:
                figures["pauses"].append((asked.answered - asked.sent) * 1000)
            else:
                figures["pauses"].append(float("inf"))

        # -- a pause for a multi-line suggestion, then typing exactly that ---------------
        control(url, "reply", {"text": SUGGESTION})
        typist.key("\n" + INDENT)  # Enter: the editor indents the new line
        await asyncio.sleep(KEY_INTERVAL)
        asked = await typist.type_text("total = ", interval=KEY_INTERVAL)
        if await typist.answer(asked[-1], timeout=5) != [SHOWN]:
            raise RuntimeError("the pause before the suggestion brought no suggestion")
        before = requests_made(url)
        keys: list = []
        keys += await typist.type_text(SHOWN, interval=KEY_INTERVAL)
        for line in LATER_LINES:
            await asyncio.sleep(KEY_INTERVAL)
            keys.append(typist.key("\n" + INDENT))  # Enter: the editor indents the line
            keys += await typist.type_text(line, interval=KEY_INTERVAL)
        await typist.settle()
        await asyncio.sleep(0.5)
        figures["through"].append(requests_made(url) - before)
        answered = [k for k in keys if k.texts is not None]
        figures["shown"].append(sum(1 for k in answered if k.texts) / max(len(keys), 1) * 100)
    return figures


def row(name: str, value: float, unit: str, target: str, ok: bool) -> None:
    shown = "none" if value == float("inf") else f"{value:9.0f}"
    print(f"{name:<52} {shown:>9} {unit:<3} target {target:<10} {'ok' if ok else 'MISSED'}")


async def main_async(runs: int) -> None:
    totals: dict[str, list[float]] = {"line": [], "pauses": [], "through": [], "shown": []}
    with tempfile.TemporaryDirectory() as name, fake_llm_process() as url:
        for run in range(runs):
            tmp = Path(name) / f"run{run}"
            tmp.mkdir()
            figures = await one_run(tmp, url)
            for key, values in figures.items():
                totals[key].extend(values)
    assert len(LINE) == 200
    print(
        f"qwen-lsp typing benchmark: real server over stdio, fake LLM answering in "
        f"{LATENCY * 1000:.0f} ms, {runs} run(s)"
    )
    print(
        f"a {len(LINE)}-character line, one key every {KEY_INTERVAL * 1000:.0f} ms, "
        f"three {PAUSE * 1000:.0f} ms pauses at word boundaries, a request on every key"
    )
    for run, count in enumerate(totals["line"], 1):
        row(f"backend requests for the line (run {run})", count, "", "<= 5", count <= 5)
    for index, ms in enumerate(totals["pauses"], 1):
        row(f"pause {index}: last key to suggestion", ms, "ms", "<= 400 ms", ms <= 400)
    finite = [ms for ms in totals["pauses"] if ms != float("inf")]
    if finite:
        print(f"{'  (median of the pauses)':<52} {statistics.median(finite):9.0f} ms")
    for run, count in enumerate(totals["through"], 1):
        row(f"requests while typing the suggestion (run {run})", count, "", "0", count == 0)
    for run, share in enumerate(totals["shown"], 1):
        print(f"{f'  (keys that showed the rest of it, run {run})':<52} {share:9.0f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main_async(args.runs))


if __name__ == "__main__":
    main()
