"""The real server over stdio, in a real git workspace: a cross-file call's prompt carries
the callee's definition in Qwen's repo-level FIM form; the index is built in the background
with $/progress, follows edits, saves and file events, and is read back after a restart; the
prompt inspector command shows what would be sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.harness import clean_env, inline_capabilities, inline_texts, running_server
from tests.unit.context_repos import checkout

INDEXING = "qwen-lsp: indexing the workspace"


def capabilities() -> types.ClientCapabilities:
    caps = inline_capabilities()
    caps.window = types.WindowClientCapabilities(work_done_progress=True)
    return caps


def options(fake) -> dict:
    return {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "model": "qwen2.5-coder-7b",
        "promptMode": "fim",
        "exclude": ["legacy/*"],
    }


async def indexing_done(client: LanguageClient, count: int = 1, timeout: float = 20.0) -> list[str]:
    """The end messages of the first `count` indexing progresses, once they have ended."""
    for _ in range(int(timeout / 0.05)):
        ended = [
            reports[-1].message or ""
            for reports in client.progress_reports.values()
            if reports
            and isinstance(reports[0], types.WorkDoneProgressBegin)
            and reports[0].title == INDEXING
            and isinstance(reports[-1], types.WorkDoneProgressEnd)
        ]
        if len(ended) >= count:
            return ended
        await asyncio.sleep(0.05)
    raise AssertionError("the workspace index was not built")


def open_document(client: LanguageClient, path: Path, language_id: str) -> str:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=path.as_uri(),
                language_id=language_id,
                version=1,
                text=path.read_text(encoding="utf-8"),
            )
        )
    )
    return path.as_uri()


def last_prompt(fake) -> str:
    return fake.requests[-1].body["prompt"]


@pytest.mark.parametrize(
    ("language", "language_id", "home", "signature"),
    [
        (
            "python",
            "python",
            "shapes/geometry.py",
            "def area(rect: Rect, *, rounded: bool = False) -> float:",
        ),
        ("go", "go", "geometry/geometry.go", "func Area(r Rect, rounded bool) float64"),
    ],
)
async def test_a_cross_file_call_sends_the_callees_definition_in_repo_level_fim(
    fake_llm, tmp_path: Path, language: str, language_id: str, home: str, signature: str
):
    repo = checkout(language, tmp_path)
    env = clean_env(tmp_path)
    fake_llm.reply("rect")
    async with running_server(
        repo.root, env, init_options=options(fake_llm), capabilities=capabilities()
    ) as client:
        [summary] = await indexing_done(client)
        assert f"{language}: " in summary and "read" in summary
        uri = open_document(client, repo.root / repo.path, language_id)
        position = types.Position(repo.position.line, repo.position.character)
        assert await inline_texts(client, uri, position) == ["rect"]
    prompt = last_prompt(fake_llm)
    assert prompt.startswith(f"<|repo_name|>{language}\n<|file_sep|>")
    related, current = prompt.rsplit(f"<|file_sep|>{repo.path}\n", 1)
    assert f"<|file_sep|>{home}\n" in related and signature in related
    before, after = repo.text[: _offset(repo)], repo.text[_offset(repo) :]
    assert current == f"<|fim_prefix|>{before}<|fim_suffix|>{after}<|fim_middle|>"
    assert "IGNORED" not in prompt


def _offset(repo) -> int:
    lines = repo.text.split("\n")
    return sum(len(line) + 1 for line in lines[: repo.position.line]) + repo.position.character


class Caller:
    """The file with the cross-file call: each `ask` types a comment line at its top first,
    so every completion is a new question (not a suggestion reused) and sends a prompt."""

    def __init__(self, client: LanguageClient, fake, uri: str, position: types.Position):
        self.client, self.fake, self.uri = client, fake, uri
        self.line, self.character = position.line, position.character
        self.version = 1

    async def ask(self) -> str:
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
        sent = len(self.fake.requests)
        self.fake.reply("rect")
        position = types.Position(self.line, self.character)
        assert await inline_texts(self.client, self.uri, position) == ["rect"]
        assert len(self.fake.requests) == sent + 1
        return last_prompt(self.fake)


async def test_the_index_follows_edits_saves_and_file_events(fake_llm, tmp_path: Path):
    repo = checkout("python", tmp_path)
    env = clean_env(tmp_path)
    geometry = repo.root / "shapes/geometry.py"
    async with running_server(
        repo.root, env, init_options=options(fake_llm), capabilities=capabilities()
    ) as client:
        await indexing_done(client)
        main = open_document(client, repo.root / repo.path, "python")
        caller = Caller(client, fake_llm, main, repo.position)

        # typed (unsaved) in another open document: indexed once typing pauses
        buffer = geometry.read_text(encoding="utf-8")
        geometry_uri = open_document(client, geometry, "python")
        prompt = await caller.ask()
        assert "def area(" in prompt and "class Rect:" in prompt
        buffer = edit(client, geometry_uri, buffer, "def area(", "def surface(", version=2)
        await asyncio.sleep(1.2)  # the re-index waits for a pause in typing (1 s)
        for _ in range(10):  # a loaded machine may run the timer late
            if "def area(" not in (prompt := await caller.ask()):
                break
            await asyncio.sleep(0.5)
        assert "def area(" not in prompt

        # changed and saved: the index reads the disk at once, without waiting for a pause
        buffer = edit(client, geometry_uri, buffer, "class Rect:", "class Box:", version=3)
        geometry.write_text(buffer, encoding="utf-8")
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(geometry_uri)
            )
        )
        assert "class Rect:" not in await caller.ask()

        # a file created outside the editor, then deleted
        extra = repo.root / "shapes/extra.py"
        extra.write_text("def legacy_helper(rect, FROM_A_NEW_FILE): ...\n", encoding="utf-8")
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=extra.as_uri(), type=types.FileChangeType.Created)]
            )
        )
        assert "FROM_A_NEW_FILE" in await caller.ask()
        extra.unlink()
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=extra.as_uri(), type=types.FileChangeType.Deleted)]
            )
        )
        assert "FROM_A_NEW_FILE" not in await caller.ask()


def edit(client: LanguageClient, uri: str, text: str, old: str, new: str, *, version: int) -> str:
    """Replace `old` by `new` in an open document, as an editor's incremental change."""
    index = text.index(old)
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        types.Position(line, column), types.Position(line, column + len(old))
                    ),
                    text=new,
                )
            ],
        )
    )
    return text.replace(old, new, 1)


async def test_a_restart_reads_the_stored_index(fake_llm, tmp_path: Path):
    repo = checkout("python", tmp_path)
    env = clean_env(tmp_path)  # the same cache folder for both servers
    for expected in ("3 read, 0 unchanged", "0 read, 3 unchanged"):
        async with running_server(
            repo.root, env, init_options=options(fake_llm), capabilities=capabilities()
        ) as client:
            [summary] = await indexing_done(client)
            assert expected in summary


async def test_the_first_build_uses_the_settings_pulled_after_initialized(fake_llm, tmp_path: Path):
    """`exclude` only in the editor's workspace/configuration answer, which comes late: the
    index is built after it was read, so excluded files are never read."""
    repo = checkout("python", tmp_path)
    init = {k: v for k, v in options(fake_llm).items() if k != "exclude"}
    async with running_server(
        repo.root,
        clean_env(tmp_path),
        init_options=init,
        capabilities=capabilities(),
        configuration={"qwen-lsp": {"exclude": ["legacy/*"]}},
        configuration_delay=1.0,
    ) as client:
        [summary] = await indexing_done(client)
        assert "3 read" in summary, summary


async def test_the_inspect_command_shows_the_prompt_with_tokens_per_section(
    fake_llm, tmp_path: Path
):
    repo = checkout("python", tmp_path)
    env = clean_env(tmp_path)
    async with running_server(
        repo.root, env, init_options=options(fake_llm), capabilities=capabilities()
    ) as client:
        await indexing_done(client)
        uri = open_document(client, repo.root / repo.path, "python")
        position = types.Position(repo.position.line, repo.position.character)
        shown = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="qwen-lsp.inspectPrompt",
                arguments=[uri, position.line, position.character],
            )
        )
        fake_llm.reply("rect")
        await inline_texts(client, uri, position)
        sent = last_prompt(fake_llm)
        with pytest.raises(Exception, match="uri, line, character"):
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="qwen-lsp.inspectPrompt", arguments=[uri])
            )
        missing = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="qwen-lsp.inspectPrompt",
                arguments=[(repo.root / "nope.py").as_uri(), 0, 0],
            )
        )
    assert shown["prompt"] == sent  # exactly what a completion sends
    assert shown["mode"] == "fim" and shown["counted"] == "exact"
    sections = {s["name"]: s["tokens"] for s in shown["sections"]}
    assert sections["related code: shapes/geometry.py (definition)"] > 20
    assert sections["prefix"] > 20 and "suffix" in sections and "repository" in sections
    assert abs(sum(sections.values()) - shown["tokens"]) <= 3  # the parts add up
    assert missing is None
