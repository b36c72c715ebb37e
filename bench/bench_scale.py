"""Big workspaces (a benchmark, not a test): the symbol index of 1k, 10k and 100k files, with
the model answering instantly, so every millisecond is the server's own. Prints each figure
beside its target.

Workspace: the Python sources of the packages installed beside qwen-lsp (as the recall
benchmark takes them), copied again and again into `copyN/` folders of a temporary git work
tree until it holds the number of files asked for (hard links when the file system allows:
the bench never writes through them, a changed file is replaced).

For each size, the real server over stdio (the fake LLM of tests/fakes on 127.0.0.1):
- cold index: server spawned -> the indexing `$/progress` ends, with no stored index;
- completion round trips while it builds (one open file of the workspace, a new line typed
  before each request so the answer cache misses): p50 / max / the first one;
- server memory (RSS of the server's own process) when the index is ready;
- completion round trips after: p50 / max (the idle figure), paced as those while it builds;
- a branch switch: 1,000 files rewritten and reported as watched-file changes: the time to
  catch up and the round trips meanwhile;
- restart with the index on disk: spawned -> the indexing `$/progress` ends (and the part
  after `initialize` was answered, the index's own), the median of 5 restarts and the
  slowest; RSS then.

Run: python bench/bench_scale.py [--sizes 1k,10k,100k] [--requests N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from lsprotocol import types

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import SERVER_COMMAND, clean_env, inline_capabilities  # noqa: E402
from tests.fakes.llm_server import FakeLLM  # noqa: E402

INDEXING = "qwen-lsp: indexing the workspace"
SWITCHED = 1000  # files a branch switch touches
TARGET_RSS = 150.0  # MiB
TARGET_COLD_10K = 20.0  # seconds, on 2 cores
TARGET_RESTART = 1.0  # seconds
RESTARTS = 5  # restarts measured, for their median
PAUSE = 0.05  # seconds between two completions asked (a person types slower)
# Files of this name are the one the user types in: a module with cross-file imports.
TYPED_IN = ("rich/console.py", "_pytest/python.py", "click/core.py")


def sources() -> list[Path]:
    """Every installed package's Python source file, in a stable order."""
    site = Path(sysconfig.get_paths()["purelib"])
    found = []
    for path in sorted(site.rglob("*.py")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        relative = path.relative_to(site)
        if relative.parts[0].startswith(("_editable", "qwen_lsp")):
            continue
        found.append(path)
    return found


def build_workspace(root: Path, count: int) -> Path:
    """`count` files in copies of the installed sources, in a git work tree."""
    site = Path(sysconfig.get_paths()["purelib"])
    files = sources()
    root.mkdir(parents=True)
    made = 0
    copy = 0
    while made < count:
        for source in files:
            if made >= count:
                break
            target = root / f"copy{copy}" / source.relative_to(site)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
            made += 1
        copy += 1
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def typed_file(root: Path) -> Path:
    for name in TYPED_IN:
        candidate = root / "copy0" / name
        if candidate.is_file():
            return candidate
    return next(p for p in sorted((root / "copy0").rglob("*.py")) if p.stat().st_size > 2000)


def switch_branch(root: Path, count: int) -> list[Path]:
    """Rewrite `count` files as a checkout would (new files in their place: the hard links
    to the installed sources are never written through)."""
    changed = []
    for path in sorted(root.rglob("*.py"))[::7][:count]:
        text = path.read_bytes() + b"\n# switched branch\ndef switched_branch_marker():\n    pass\n"
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(text)
        os.replace(temporary, path)
        changed.append(path)
    return changed


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) of the server itself, and of its children that have ended
    (the build's workers, once the pool is shut down, with the git they ran)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    tick = os.sysconf("SC_CLK_TCK")
    return (utime + stime) / tick, (cutime + cstime) / tick


def load() -> str:
    """The machine's load average (1, 5, 15 min): the wall-clock figures depend on it."""
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Session:
    """One server on the workspace, with an open document to ask completions in."""

    def __init__(self, client, fake: FakeLLM, uri: str, text: str) -> None:
        self.client, self.fake, self.uri = client, fake, uri
        self.version = 1
        self.lines = text.split("\n")
        self.line = len(self.lines) // 2
        self.column = len(self.lines[self.line])

    async def ask(self) -> float:
        """Type a comment line at the top, then ask: the round trip in ms."""
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    version=self.version, uri=self.uri
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                        text=f"# {self.version}\n",
                    )
                ],
            )
        )
        self.line += 1
        started = time.perf_counter()
        await self.client.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri),
                position=types.Position(self.line, self.column),
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Invoked
                ),
            )
        )
        return (time.perf_counter() - started) * 1000


def indexing_ended(client, count: int) -> bool:
    ended = [
        reports
        for reports in client.progress_reports.values()
        if reports
        and isinstance(reports[0], types.WorkDoneProgressBegin)
        and reports[0].title == INDEXING
        and isinstance(reports[-1], types.WorkDoneProgressEnd)
    ]
    return len(ended) >= count


def last_index_message(client) -> str:
    for reports in reversed(list(client.progress_reports.values())):
        if (
            reports
            and isinstance(reports[0], types.WorkDoneProgressBegin)
            and reports[0].title == INDEXING
        ):
            return getattr(reports[-1], "message", "") or ""
    return ""


async def start_server(root: Path, env: dict[str, str], fake: FakeLLM, files: int):
    from pytest_lsp import ClientServerConfig

    client = await ClientServerConfig(server_command=SERVER_COMMAND, server_env=env).start()
    caps = inline_capabilities()
    caps.window = types.WindowClientCapabilities(work_done_progress=True)
    await client.initialize_session(
        types.InitializeParams(
            capabilities=caps,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
            initialization_options={
                "provider": "openai-compatible",
                "baseUrl": fake.openai_base_url,
                "model": "qwen2.5-coder-7b",
                "promptMode": "fim",
                # the whole workspace is indexed, whatever its size (the defaults stop at
                # 20,000 files and 600 s)
                "context": {"maxFiles": max(files, 20_000), "indexTimeLimit": 36_000},
            },
        )
    )
    return client


async def stop_server(client) -> None:
    await client.shutdown_session()
    await client.stop()


async def open_typed(client, fake: FakeLLM, path: Path) -> Session:
    text = path.read_text(encoding="utf-8")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(), language_id="python", version=1, text=text
            )
        )
    )
    return Session(client, fake, path.as_uri(), text)


async def asks_until(session: Session, done, timeout: float, pause: float = PAUSE) -> list[float]:
    """Round trips asked one after another (with `pause` between) until `done()`."""
    times = []
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        times.append(await session.ask())
        await asyncio.sleep(pause)
    return times


async def wait_for(done, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def measure(size: int, tmp: Path, fake: FakeLLM, requests: int) -> dict:
    root = build_workspace(tmp / f"ws{size}", size)
    env = clean_env(tmp / f"env{size}")
    # A checkout's bytecode is written (an installed package has it): a start then costs
    # what it costs an installed server, not compiling every module again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    (tmp / f"env{size}").mkdir()
    typed = typed_file(root)
    figures: dict = {"files": size, "load_start": load()}
    timeout = max(600.0, size / 20)

    # cold: spawn -> indexing ends, asking completions meanwhile
    started = time.perf_counter()
    client = await start_server(root, env, fake, size)
    session = await open_typed(client, fake, typed)
    during = await asks_until(session, lambda: indexing_ended(client, 1), timeout)
    if not await wait_for(lambda: indexing_ended(client, 1), timeout):
        raise SystemExit("the index was not built in time")
    figures["cold"] = time.perf_counter() - started
    figures["cold_message"] = last_index_message(client)
    figures["during"] = during
    figures["load_cold"] = load()
    await asyncio.sleep(0.5)
    pid = client._server.pid
    figures["rss_ready"] = rss_mib(pid)
    figures["cold_cpu"] = cpu_seconds(pid)  # the workers have ended: their time is counted
    after = []
    for _ in range(requests):  # paced as the ones during the build: the same kind of figure
        after.append(await session.ask())
        await asyncio.sleep(PAUSE)
    figures["after"] = after

    # a branch switch: 1,000 files rewritten, reported as watched-file changes
    changed = switch_branch(root, min(SWITCHED, size // 2))
    figures["switched"] = len(changed)
    started = time.perf_counter()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=p.as_uri(), type=types.FileChangeType.Changed) for p in changed
            ]
        )
    )
    switch_asks = await asks_until(session, lambda: indexing_ended(client, 2), timeout)
    caught_up = await wait_for(lambda: indexing_ended(client, 2), timeout)
    figures["switch"] = time.perf_counter() - started if caught_up else float("nan")
    figures["switch_message"] = last_index_message(client)
    figures["during_switch"] = switch_asks
    figures["rss_after"] = rss_mib(pid)
    await stop_server(client)

    # restart with the index on disk, a few times (a start's time varies with what else the
    # machine does): the median is the figure, the slowest is printed beside it
    restarts, initializes = [], []
    for _ in range(RESTARTS):
        await asyncio.sleep(1.0)  # the last server's processes have ended
        started = time.perf_counter()
        client = await start_server(root, env, fake, size)
        initializes.append(time.perf_counter() - started)
        if not await wait_for(functools.partial(indexing_ended, client, 1), timeout):
            raise SystemExit("the restarted index did not end")
        restarts.append(time.perf_counter() - started)
        figures["restart_message"] = last_index_message(client)
        figures["load_restart"] = load()
        await asyncio.sleep(0.5)
        figures["rss_restart"] = rss_mib(client._server.pid)
        figures["restart_cpu"] = cpu_seconds(client._server.pid)
        await stop_server(client)
    figures["restarts"] = restarts
    figures["initializes"] = initializes
    return figures


def line(name: str, value: float, unit: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    print(f"  {name:<46} {value:10.1f} {unit:<4} {target:<16} {verdict}")


def _target(value: float, target: float | None) -> tuple[str, bool | None]:
    if target is None:
        return "", None
    return f"<= {target:g} s", value <= target


def report(f: dict) -> None:
    size = f["files"]
    print(f"\n{size:,} files")
    print(f"  index at the end of the cold build: {f['cold_message']}")
    print(f"  load average: {f['load_start']} at the start, {f['load_cold']} after the cold build")
    # The time targets are for the 10k-file workspace (the restart's for up to it);
    # the other sizes print their figures beside none.
    cold_target = TARGET_COLD_10K if size == 10_000 else None
    restart_target = TARGET_RESTART if size <= 10_000 else None
    line(
        "cold index (spawn -> $/progress end)",
        f["cold"],
        "s",
        *_target(f["cold"], cold_target),
    )
    # The wall-clock figure counts whatever else the machine runs; the CPU time does not.
    # The server's own includes the completions the bench asks meanwhile.
    cores = os.cpu_count() or 1
    server_cpu, workers_cpu = f["cold_cpu"]
    line("  CPU time of the workers (cold)", workers_cpu, "s")
    line("  CPU time of the server (cold, with its answers)", server_cpu, "s")
    line(
        f"  the workers' time over {cores} cores (an idle machine)",
        workers_cpu / cores,
        "s",
        *_target(workers_cpu / cores, cold_target),
    )
    restart = statistics.median(f["restarts"])
    line(
        f"restart with the index on disk (median of {len(f['restarts'])})",
        restart,
        "s",
        *_target(restart, restart_target),
    )
    line("  the slowest restart", max(f["restarts"]), "s")
    initialize = statistics.median(f["initializes"])
    line("  of which spawn -> initialize answered", initialize, "s")
    pairs = zip(f["restarts"], f["initializes"], strict=True)
    index_only = statistics.median(r - i for r, i in pairs)
    line("  of which the index: initialize -> $/progress end", index_only, "s")
    line("  CPU time of the server (restart, from its start)", f["restart_cpu"][0], "s")
    line("  CPU time of the workers (restart)", f["restart_cpu"][1], "s")
    print(f"  load average after the restart: {f['load_restart']}")
    line(
        "server RSS when ready (cold)",
        f["rss_ready"],
        "MiB",
        f"<= {TARGET_RSS:g} MiB",
        f["rss_ready"] <= TARGET_RSS,
    )
    line(
        "server RSS after the branch switch",
        f["rss_after"],
        "MiB",
        f"<= {TARGET_RSS:g} MiB",
        f["rss_after"] <= TARGET_RSS,
    )
    line(
        "server RSS when ready (restart)",
        f["rss_restart"],
        "MiB",
        f"<= {TARGET_RSS:g} MiB",
        f["rss_restart"] <= TARGET_RSS,
    )
    idle = statistics.median(f["after"])
    line("completion after the build, p50", idle, "ms")
    line("completion after the build, max", max(f["after"]), "ms")
    during = f["during"]
    if during:
        p50 = statistics.median(during)
        line(
            f"completion while building, p50 (n={len(during)})",
            p50,
            "ms",
            f"<= {2 * idle:.1f} ms",
            p50 <= 2 * idle,
        )
        line("completion while building, max", max(during), "ms")
        line("completion while building, first", during[0], "ms")
        if len(during) > 1:
            line("completion while building, p90", percentile(during, 0.9), "ms")
    else:
        print("  (the build ended before a completion could be asked)")
    line(f"branch switch ({f['switched']} files) caught up", f["switch"], "s")
    switch = f["during_switch"]
    if switch:
        p50 = statistics.median(switch)
        line(
            f"completion during the switch, p50 (n={len(switch)})",
            p50,
            "ms",
            f"<= {2 * idle:.1f} ms",
            p50 <= 2 * idle,
        )
        line("completion during the switch, max", max(switch), "ms")
    print(f"  after the switch: {f['switch_message']}")
    print(f"  after the restart: {f['restart_message']}")


async def main_async(sizes: list[int], requests: int, keep: Path | None) -> None:
    print(f"qwen-lsp big-workspace benchmark ({os.cpu_count()} cores)")
    with FakeLLM() as fake, tempfile.TemporaryDirectory(dir=keep) as name:
        fake.reply("value + 1")
        for size in sizes:
            figures = await measure(size, Path(name), fake, requests)
            report(figures)
            sys.stdout.flush()


def parse_size(text: str) -> int:
    text = text.strip().lower()
    return int(float(text[:-1]) * 1000) if text.endswith("k") else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k,100k", help="workspace sizes, in files")
    parser.add_argument("--requests", type=int, default=50, help="completions after the build")
    parser.add_argument("--keep", type=Path, help="folder for the temporary workspaces")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    asyncio.run(main_async(sizes, args.requests, args.keep))


if __name__ == "__main__":
    main()
