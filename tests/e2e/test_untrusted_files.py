"""The real server over stdio: a repository's files are untrusted input. "Write unit tests" does
not read a test file that is a link leading out of the workspace; no code action (Explain
included) is offered or run on a secrets file, whatever its URI scheme; a file git ignores
gets no completion unless the user opts in with `privacy.sendIgnoredFiles`."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from lsprotocol import types

from tests.e2e.harness import clean_env, inline_texts, open_file, running_server
from tests.e2e.test_actions import (
    _tell_code_actions_from_commands,
    action_capabilities,
    list_actions,
    options_for,
    pick,
    serve,
    warnings_since,
)
from tests.e2e.test_context import indexing_done
from tests.gitrepo import git

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

CODE = "def add(a, b):\n    return a + b\n"
WHOLE = types.Range(types.Position(0, 0), types.Position(1, 16))


def open_item(client, uri: str, language_id: str, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=1, text=text
            )
        )
    )


async def explain(client, uri: str) -> str | None:
    arguments = [
        {
            "uri": uri,
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 16}},
        }
    ]
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="qwen-lsp.explain", arguments=arguments)
    )


@pytest.fixture
def outside(tmp_path: Path):
    """A file outside the workspace (tmp_path is the workspace), removed afterwards."""
    path = tmp_path.parent / f"credentials-{uuid.uuid4().hex}.py"
    path.write_text("AWS_SECRET = 'PLANTED-OUTSIDE-MARKER'\n", encoding="utf-8")
    yield path
    path.unlink()


@pytest.mark.parametrize("opened", [False, True], ids=["on-disk", "open-in-editor"])
async def test_write_unit_tests_never_reads_a_test_file_linked_outside(
    fake_llm, tmp_path: Path, outside: Path, opened: bool
):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_ops.py").symlink_to(outside)
    fake_llm.reply("```python\ndef test_add():\n    assert add(1, 2) == 3\n```")
    async with serve(tmp_path, fake_llm) as client:
        if opened:  # the editor shows the link's target: its text is the secret
            open_item(
                client,
                (tmp_path / "tests" / "test_ops.py").as_uri(),
                "python",
                outside.read_text(encoding="utf-8"),
            )
        uri = open_file(client, tmp_path / "calc" / "ops.py", "python", CODE)
        at = types.Range(types.Position(1, 4), types.Position(1, 4))
        action = pick(await list_actions(client, uri, at), "AI: Write unit tests")
        shown = len(client.messages)
        assert (await client.code_action_resolve_async(action)).edit is None
        [warning] = warnings_since(client, shown)
        assert "tests/test_ops.py" in warning and "outside the workspace" in warning
    assert fake_llm.requests == []


SECRET_DOCUMENTS = {
    ".env.local": lambda root: (root / ".env.local").as_uri(),
    "id_ed25519": lambda root: (root / "keys" / "id_ed25519").as_uri(),
    "server.key": lambda root: (root / "tls" / "server.key").as_uri(),
    "untitled .env": lambda root: "untitled:.env",
    "git: .env": lambda root: (
        "git:" + quote(str(root / ".env")) + "?" + quote(f'{{"path":"{root / ".env"}","ref":"~"}}')
    ),
}


@pytest.mark.parametrize("name", list(SECRET_DOCUMENTS))
async def test_no_code_action_for_a_secrets_document(fake_llm, tmp_path: Path, name: str):
    fake_llm.reply("It adds two numbers.")
    async with serve(tmp_path, fake_llm) as client:
        control = open_file(client, tmp_path / "ops.py", "python", CODE)
        assert pick(await list_actions(client, control, WHOLE), "AI: Explain")  # not vacuous
        uri = SECRET_DOCUMENTS[name](tmp_path)
        open_item(client, uri, "python", CODE)
        assert await list_actions(client, uri, WHOLE) == []
        shown = len(client.messages)
        assert await explain(client, uri) is None  # run without being offered: refused too
        assert "nothing was sent" in warnings_since(client, shown)[0]
        completion = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(1, 4),
                context=types.CompletionContext(trigger_kind=types.CompletionTriggerKind.Invoked),
            )
        )
        assert completion is None or not completion.items
    assert fake_llm.requests == []


def ignored_workspace(root: Path) -> str:
    git(root, "init", "-q")
    (root / ".gitignore").write_text("scratch/\n", encoding="utf-8")
    return "def total(values):\n    return sum(values) + PLANTED_IGNORED\n"


@pytest.mark.parametrize("send_ignored", [False, True], ids=["default", "opted-in"])
async def test_a_gitignored_open_file_is_sent_only_when_the_user_opts_in(
    fake_llm, tmp_path: Path, send_ignored: bool
):
    text = ignored_workspace(tmp_path)
    options = {**options_for(fake_llm), "promptMode": "fim"}
    if send_ignored:
        options["privacy"] = {"sendIgnoredFiles": True}
    fake_llm.reply("pass")
    env = clean_env(tmp_path)
    async with running_server(tmp_path, env, init_options=options) as client:
        _tell_code_actions_from_commands(client)
        uri = open_file(client, tmp_path / "scratch" / "notes.py", "python", text)
        await inline_texts(client, uri, types.Position(1, 4))
        listed = await list_actions(client, uri, WHOLE)
        await asyncio.sleep(0.05)
    bodies = "".join(str(r.body) for r in fake_llm.requests)
    if send_ignored:
        assert "PLANTED_IGNORED" in bodies
        assert any(a.title.startswith("AI: Explain") for a in listed)
    else:
        assert fake_llm.requests == []
        assert listed == []


async def test_review_on_save_skips_a_gitignored_file(fake_llm, tmp_path: Path):
    text = ignored_workspace(tmp_path)
    fake_llm.reply('{"findings": []}')
    async with serve(tmp_path, fake_llm, review={"onSave": True}) as client:
        uri = open_file(client, tmp_path / "scratch" / "notes.py", "python", text)
        answer = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="qwen-lsp.reviewFile", arguments=[{"uri": uri}])
        )
        assert answer == {"findings": 0}
        kept = open_file(client, tmp_path / "kept.py", "python", text)
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="qwen-lsp.reviewFile", arguments=[{"uri": kept}])
        )
    bodies = [str(r.body) for r in fake_llm.requests]
    assert len(bodies) == 1 and "kept.py" in bodies[0]


async def test_a_gitignored_file_gets_nothing_before_the_index_is_built(fake_llm, tmp_path: Path):
    """The editor is slow to answer workspace/configuration, so the index is not started yet:
    the folder's ignore rules already apply to a code action asked for in the meantime."""
    text = ignored_workspace(tmp_path)
    fake_llm.reply("It adds.")
    async with running_server(
        tmp_path,
        clean_env(tmp_path),
        init_options=options_for(fake_llm),
        capabilities=action_capabilities(),
        configuration={},
        configuration_delay=1.0,
    ) as client:
        _tell_code_actions_from_commands(client)
        uri = open_file(client, tmp_path / "scratch" / "notes.py", "python", text)
        listed = await list_actions(client, uri, WHOLE)
        started = bool(client.progress_reports)
        kept = open_file(client, tmp_path / "kept.py", "python", text)
        assert pick(await list_actions(client, kept, WHOLE), "AI: Explain")  # not vacuous
        await indexing_done(client)  # the late answer is in: the session can end cleanly
    assert not started  # asked before the index was made
    assert listed == []
    assert fake_llm.requests == []
