"""The real server over stdio, with a client that cannot resolve code actions (Emacs's eglot
1.9, as Debian 12 ships it, declares no `codeAction.resolveSupport`).

Each listed action then carries the command `qwen-lsp.runAction`: listing stays free, running
the command makes the one model call and sends the edit with `workspace/applyEdit`; a refused
answer, an edit the editor declines and an editor that takes no edits each end in a message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.harness import clean_env, open_file, running_server
from tests.e2e.test_actions import (
    DOCUMENT,
    _tell_code_actions_from_commands,
    action_capabilities,
    apply_text_edits,
    edits_by_file,
    list_actions,
    options_for,
    pick,
    selection_of,
    warnings_since,
)

RUN_ACTION = "qwen-lsp.runAction"


def eglot_capabilities(*, apply_edit: bool = True) -> types.ClientCapabilities:
    """What eglot 1.9 declares: code action literals without resolveSupport or dataSupport,
    applyEdit, documentChanges without resource operations, no work-done progress."""
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=["quickfix", "refactor", "refactor.rewrite", "source"]
                    )
                ),
                is_preferred_support=True,
            ),
            completion=types.CompletionClientCapabilities(),
        ),
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=apply_edit,
            configuration=False,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        ),
    )


@asynccontextmanager
async def serve(
    root: Path,
    fake,
    capabilities: types.ClientCapabilities,
    *,
    answer: types.ApplyWorkspaceEditResult | None = None,
) -> AsyncIterator[LanguageClient]:
    """The real server; the client records each workspace/applyEdit in `client.applied` and
    answers it with `answer` (applied, by default)."""
    async with running_server(
        root, clean_env(root), init_options=options_for(fake), capabilities=capabilities
    ) as client:
        _tell_code_actions_from_commands(client)
        client.applied = []  # type: ignore[attr-defined]

        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            client.applied.append(params)  # type: ignore[attr-defined]
            return answer or types.ApplyWorkspaceEditResult(applied=True)

        client.feature(types.WORKSPACE_APPLY_EDIT)(apply_edit)
        yield client


async def run(client: LanguageClient, action: types.CodeAction) -> Any:
    assert action.command is not None
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=action.command.command, arguments=action.command.arguments
        )
    )


async def test_listing_is_free_and_running_the_command_applies_the_edit(fake_llm, tmp_path: Path):
    text, selection = selection_of(DOCUMENT.drawn)
    async with serve(tmp_path, fake_llm, eglot_capabilities()) as client:
        assert RUN_ACTION in client.advertised.execute_command_provider.commands
        uri = open_file(client, tmp_path / DOCUMENT.name, DOCUMENT.language, text)
        actions = await list_actions(client, uri, selection)
        assert len(fake_llm.requests) == 0  # listing is free
        editing = [a for a in actions if not a.title.startswith("AI: Explain")]
        assert editing and all(a.command.command == RUN_ACTION for a in editing)
        assert all(a.edit is None and a.data is None for a in editing)
        action = pick(actions, DOCUMENT.title)

        fake_llm.reply(DOCUMENT.broken)
        shown = len(client.messages)
        assert await run(client, action) is None
        assert len(fake_llm.requests) == 1 and client.applied == []  # changes nothing
        [message] = warnings_since(client, shown)
        assert "refused" in message and "nothing was changed" in message

        fake_llm.reply(DOCUMENT.reply)
        await run(client, action)
        assert len(fake_llm.requests) == 2  # the one paid call
        [applied] = client.applied
        assert applied.label == DOCUMENT.title
        per_uri, created = edits_by_file(applied.edit)
        assert list(per_uri) == [uri] and created == []
        assert apply_text_edits(text, per_uri[uri]) == DOCUMENT.expected


async def test_a_client_that_resolves_gets_no_command(fake_llm, tmp_path: Path):
    text, selection = selection_of(DOCUMENT.drawn)
    async with serve(tmp_path, fake_llm, action_capabilities()) as client:
        uri = open_file(client, tmp_path / DOCUMENT.name, DOCUMENT.language, text)
        action = pick(await list_actions(client, uri, selection), DOCUMENT.title)
    assert action.command is None and action.data is not None


async def test_an_edit_the_editor_declines_is_reported(fake_llm, tmp_path: Path):
    text, selection = selection_of(DOCUMENT.drawn)
    declined = types.ApplyWorkspaceEditResult(applied=False, failure_reason="buffer is read-only")
    async with serve(tmp_path, fake_llm, eglot_capabilities(), answer=declined) as client:
        uri = open_file(client, tmp_path / DOCUMENT.name, DOCUMENT.language, text)
        action = pick(await list_actions(client, uri, selection), DOCUMENT.title)
        fake_llm.reply(DOCUMENT.reply)
        shown = len(client.messages)
        await run(client, action)
        assert len(client.applied) == 1
        [message] = warnings_since(client, shown)
    assert "did not apply" in message and "buffer is read-only" in message


async def test_an_editor_that_takes_no_edits_is_told_before_anything_is_spent(
    fake_llm, tmp_path: Path
):
    text, selection = selection_of(DOCUMENT.drawn)
    async with serve(tmp_path, fake_llm, eglot_capabilities(apply_edit=False)) as client:
        uri = open_file(client, tmp_path / DOCUMENT.name, DOCUMENT.language, text)
        action = pick(await list_actions(client, uri, selection), DOCUMENT.title)
        shown = len(client.messages)
        await run(client, action)
        [message] = warnings_since(client, shown)
    assert "workspace/applyEdit" in message and fake_llm.requests == []


async def test_damaged_arguments_get_a_message(fake_llm, tmp_path: Path):
    async with serve(tmp_path, fake_llm, eglot_capabilities()) as client:
        shown = len(client.messages)
        params = types.ExecuteCommandParams(command=RUN_ACTION, arguments=[{"title": "AI: Fix"}])
        assert await client.workspace_execute_command_async(params) is None
        [message] = warnings_since(client, shown)
    assert "damaged" in message and fake_llm.requests == []


async def test_a_new_test_file_is_made_on_disk_for_a_client_without_create(
    fake_llm, tmp_path: Path
):
    """documentChanges without resource operations (eglot): no CreateFile, which it would
    fail on; the file exists on disk and the edit fills it."""
    text = "def add(a, b):\n    return a + b\n"
    async with serve(tmp_path, fake_llm, eglot_capabilities()) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        at = types.Position(line=1, character=4)
        action = pick(await list_actions(client, uri, types.Range(at, at)), "AI: Write unit tests")
        fake_llm.reply(
            "```python\nfrom ops import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n```"
        )
        await run(client, action)
        [applied] = client.applied
    test_file = tmp_path / "tests" / "test_ops.py"
    per_uri, created = edits_by_file(applied.edit)
    assert created == [] and list(per_uri) == [test_file.as_uri()]
    assert test_file.is_file()
    assert "def test_add" in apply_text_edits("", per_uri[test_file.as_uri()])


async def test_running_the_command_shows_progress(fake_llm, tmp_path: Path):
    text, selection = selection_of(DOCUMENT.drawn)
    capabilities = eglot_capabilities()
    capabilities.window = types.WindowClientCapabilities(work_done_progress=True)
    fake_llm.reply(DOCUMENT.reply)
    async with serve(tmp_path, fake_llm, capabilities) as client:
        uri = open_file(client, tmp_path / DOCUMENT.name, DOCUMENT.language, text)
        await run(client, pick(await list_actions(client, uri, selection), DOCUMENT.title))
        assert len(client.applied) == 1
    [reports] = [
        r
        for r in client.progress_reports.values()
        if r and isinstance(r[0], types.WorkDoneProgressBegin) and r[0].title == DOCUMENT.title
    ]
    assert reports[0].cancellable and isinstance(reports[-1], types.WorkDoneProgressEnd)
