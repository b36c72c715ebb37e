"""The real server over stdio on a workspace big enough that indexing takes a while: the
indexing `$/progress` counts files done of files found, a completion is answered while the
index is still being built (the build runs in worker processes, started with the server), and
a workspace over the limits says once what was left out."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path

from lsprotocol import types
from pytest_lsp import ClientServerConfig

from tests.e2e.harness import SERVER_COMMAND, clean_env, inline_texts, open_file, running_server
from tests.e2e.test_context import INDEXING, capabilities, indexing_done

FILES = 600


def big_workspace(root: Path, files: int, deeper: int = 0) -> Path:
    for i in range(files):
        path = root / f"pkg{i % 20}" / f"module_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"def helper_{i}_{j}(value: int, other: int = 0) -> int:\n"
            f'    """Return a value derived from {j}."""\n'
            f"    return value * {j} + other\n\n\n"
            for j in range(30)
        )
        path.write_text(body, encoding="utf-8")
    for i in range(deeper):
        path = root / "vendor" / "deep" / f"extra_{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def extra_{i}():\n    return {i}\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def indexing_reports(client) -> list:
    return next(
        reports
        for reports in client.progress_reports.values()
        if reports
        and isinstance(reports[0], types.WorkDoneProgressBegin)
        and reports[0].title == INDEXING
    )


def options(fake, **context) -> dict:
    return {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "promptMode": "fim",
        **({"context": context} if context else {}),
    }


async def test_a_completion_is_answered_while_the_index_builds_and_progress_counts_files(
    fake_llm, tmp_path: Path
):
    root = big_workspace(tmp_path / "repo", FILES)
    (root / "main.py").write_text("", encoding="utf-8")  # on disk when the editor starts
    fake_llm.reply("value + 1")
    async with running_server(
        root, clean_env(tmp_path), init_options=options(fake_llm), capabilities=capabilities()
    ) as client:
        uri = open_file(
            client, root / "main.py", "python", "from pkg1.module_1 import helper_1_2\n"
        )
        for _ in range(200):  # the build has begun: its progress is shown
            if any(r and r[0].title == INDEXING for r in client.progress_reports.values()):
                break
            await asyncio.sleep(0.02)
        for _ in range(5):  # on a loaded machine the first one may miss its deadline
            if await inline_texts(client, uri, types.Position(1, 0)) == ["value + 1"]:
                break
        else:
            raise AssertionError("no completion was answered")
        answered_during_build = not isinstance(
            indexing_reports(client)[-1], types.WorkDoneProgressEnd
        )
        [summary] = await indexing_done(client, timeout=120)
    assert answered_during_build  # the answer did not wait for the index
    found = FILES + 1  # and main.py
    assert f"{found} files, {found} read" in summary
    counts = [
        tuple(map(int, m.groups()))
        for r in indexing_reports(client)
        if isinstance(r, types.WorkDoneProgressReport) and r.message
        if (m := re.fullmatch(r"repo: (\d+) of (\d+) files", r.message))
    ]
    assert counts and counts[-1] == (found, found)
    assert all(total == found for _, total in counts)
    done = [d for d, _ in counts]
    assert done == sorted(done) and len(set(done)) > 1  # it counted up as files were read


async def test_a_workspace_over_the_limits_says_once_what_was_left_out(fake_llm, tmp_path: Path):
    root = big_workspace(tmp_path / "repo", 40, deeper=10)
    async with running_server(
        root,
        clean_env(tmp_path),
        init_options=options(fake_llm, maxFiles=40),
        capabilities=capabilities(),
    ) as client:
        [summary] = await indexing_done(client)
        assert "10 over context.maxFiles left out" in summary
        # a checkout: many files change at once, the folder is indexed again
        changed = sorted(root.rglob("*.py"))[:25]
        for path in changed:
            path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(uri=p.as_uri(), type=types.FileChangeType.Changed)
                    for p in changed
                ]
            )
        )
        await indexing_done(client, count=2)
    told = [m.message for m in client.messages if "left out" in m.message]
    assert len(told) == 1
    assert "10 files over context.maxFiles (40)" in told[0]


def index_workers_of(pid: int) -> list[int]:
    """The server's index worker processes: its children started by multiprocessing's spawn
    (not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


async def until(condition, timeout: float = 30.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_the_folder_is_listed_while_the_server_starts(fake_llm, tmp_path: Path):
    # `initialize` is read before pygls is loaded: a worker lists the folder it names while the
    # server loads, and the first build's scan takes that listing (a restart's check of the
    # stored index is mostly this listing).
    root = big_workspace(tmp_path / "repo", 40)
    env = clean_env(tmp_path / "env")
    async with running_server(
        root, env, init_options=options(fake_llm), capabilities=capabilities()
    ) as client:
        [summary] = await indexing_done(client)
    assert "40 files, 40 read" in summary
    log = Path(env["QWEN_LSP_LOG_FILE"]).read_text(encoding="utf-8")
    assert f"listed {root.resolve()} (40 files) while the server started" in log


async def test_index_workers_stop_when_there_is_nothing_to_index(tmp_path: Path):
    client = await ClientServerConfig(
        server_command=SERVER_COMMAND, server_env=clean_env(tmp_path)
    ).start()
    try:
        pid = client._server.pid
        await client.initialize_session(
            types.InitializeParams(capabilities=capabilities(), root_uri=None)
        )
        assert await until(lambda: not index_workers_of(pid)), "workers kept with no folder"
    finally:
        await client.shutdown_session()
        await client.stop()


async def test_an_exit_while_the_index_builds_ends_the_server_quietly(fake_llm, tmp_path: Path):
    # The editor closes mid-build: the build's `$/progress` end, sent as its task is cancelled
    # after `exit`, met a closed stdout, and pygls reported each failed send by sending again,
    # one failure inside the other: seconds of CPU and thousands of log lines at every exit.
    root = big_workspace(tmp_path / "repo", 3 * FILES)
    env = clean_env(tmp_path / "env")
    async with running_server(
        root, env, init_options=options(fake_llm), capabilities=capabilities()
    ) as client:
        assert await until(
            lambda: any(r and r[0].title == INDEXING for r in client.progress_reports.values())
        )
        building = not isinstance(indexing_reports(client)[-1], types.WorkDoneProgressEnd)
    assert building  # the exit came while the build ran
    assert client._server.returncode == 0
    log = Path(env["QWEN_LSP_LOG_FILE"]).read_text(encoding="utf-8")
    assert "Error sending data" not in log and "Failed to report error" not in log
