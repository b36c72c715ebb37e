"""Review on save through the real server: diagnostics published, and the quick fix applies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from lsprotocol import types

from tests.e2e.harness import clean_env, inline_capabilities, open_file, running_server

APP = """import os


def load(path):
    f = open(path)
    return f.read()
"""
SUGGESTION = "    with open(path) as f:\n        return f.read()"
FIXED = """import os


def load(path):
    with open(path) as f:
        return f.read()
"""
ANSWER = json.dumps(
    {
        "findings": [
            {
                "path": "app.py",
                "line": 5,
                "endLine": 6,
                "severity": "warning",
                "rule": "resource-leak",
                "message": "The file is never closed.",
                "suggestion": SUGGESTION,
            },
            {
                "path": "app.py",
                "line": 1,
                "endLine": 1,
                "severity": "info",
                "rule": "unused-import",
                "message": "os is not used.",
                "suggestion": None,
            },
        ]
    }
)


def capabilities() -> types.ClientCapabilities:
    caps = inline_capabilities()
    caps.window = types.WindowClientCapabilities(work_done_progress=True)
    caps.text_document.synchronization = types.TextDocumentSyncClientCapabilities(did_save=True)
    caps.text_document.code_action = types.CodeActionClientCapabilities()
    return caps


def options(fake, on_save: bool = True) -> dict:
    return {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "review": {"onSave": on_save},
    }


def save(client, uri: str) -> None:
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )


async def diagnostics_after_save(client, uri: str) -> list[types.Diagnostic]:
    save(client, uri)
    await asyncio.wait_for(
        client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), timeout=30
    )
    return list(client.diagnostics[uri])


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start = offsets[edit.range.start.line] + edit.range.start.character
        end = offsets[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


def review_progress(client) -> list[list]:
    """What each review's `$/progress` sent, in the order the reviews began (the symbol
    index reports its own)."""
    return [
        reports
        for reports in client.progress_reports.values()
        if reports
        and isinstance(reports[0], types.WorkDoneProgressBegin)
        and reports[0].title.startswith("Reviewing ")
    ]


async def until(condition, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


def ended(reports: list) -> bool:
    return isinstance(reports[-1], types.WorkDoneProgressEnd)


async def quick_fixes(client, uri: str, line: int) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(line, 6), types.Position(line, 6)),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.QuickFix]),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction) and a.kind == "quickfix"]


async def test_review_on_save_publishes_diagnostics_and_the_quick_fix_applies(
    fake_llm, tmp_path: Path
):
    fake_llm.reply(ANSWER)
    env = clean_env(tmp_path)
    async with running_server(
        tmp_path, env, init_options=options(fake_llm), capabilities=capabilities()
    ) as client:
        assert client.advertised.text_document_sync.save is not None
        uri = open_file(client, tmp_path / "app.py", "python", APP)
        unused, leak = await diagnostics_after_save(client, uri)  # in line order

        assert leak.source == unused.source == "qwen-lsp"
        assert leak.severity == types.DiagnosticSeverity.Warning
        assert unused.severity == types.DiagnosticSeverity.Information
        assert leak.code == "resource-leak" and leak.message == "The file is never closed."
        assert leak.range == types.Range(types.Position(4, 4), types.Position(5, 19))
        [request] = fake_llm.requests
        assert "def load(path):" in request.body["messages"][-1]["content"]
        [reports] = review_progress(client)
        assert [type(r) for r in reports] == [
            types.WorkDoneProgressBegin,
            types.WorkDoneProgressReport,
            types.WorkDoneProgressEnd,
        ]
        assert reports[0].title == "Reviewing app.py"
        assert (reports[1].message, reports[1].percentage) == ("1/1 chunks, 2 findings", 100)

        [fix] = await quick_fixes(client, uri, 4)
        assert fix.title == "Apply qwen-lsp suggestion (resource-leak)"
        assert fix.diagnostics[0].code == "resource-leak"
        assert apply(APP, fix.edit.changes[uri]) == FIXED
        assert await quick_fixes(client, uri, 0) == []  # that finding has no suggestion

        # Saving unchanged code again is answered from the cache: nothing more is paid.
        assert await diagnostics_after_save(client, uri) == [unused, leak]
        assert len(fake_llm.requests) == 1

        # Two lines typed above the function: the fix follows the code it flagged.
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                        text="# one\n# two\n",
                    )
                ],
            )
        )
        [moved] = await quick_fixes(client, uri, 6)
        assert apply("# one\n# two\n" + APP, moved.edit.changes[uri]) == "# one\n# two\n" + FIXED


async def test_no_review_on_save_unless_turned_on(fake_llm, tmp_path: Path):
    fake_llm.reply(ANSWER)
    env = clean_env(tmp_path)
    async with running_server(
        tmp_path, env, init_options=options(fake_llm, on_save=False), capabilities=capabilities()
    ) as client:
        uri = open_file(client, tmp_path / "app.py", "python", APP)
        save(client, uri)
        await asyncio.sleep(0.5)  # time for a review that must not happen
        assert client.diagnostics.get(uri) is None
        assert fake_llm.requests == []


async def test_review_file_command_reviews_on_demand(fake_llm, tmp_path: Path):
    fake_llm.reply(ANSWER)
    async with running_server(
        tmp_path,
        clean_env(tmp_path),
        init_options=options(fake_llm, on_save=False),
        capabilities=capabilities(),
    ) as client:
        uri = open_file(client, tmp_path / "app.py", "python", APP)
        save(client, uri)  # review.onSave is off: saving reviews nothing
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="qwen-lsp.reviewFile", arguments=[{"uri": uri}])
        )
        assert result == {"findings": 2}
        assert [d.code for d in client.diagnostics[uri]] == ["unused-import", "resource-leak"]
        assert len(fake_llm.requests) == 1


async def test_a_review_template_linked_to_a_secrets_file_is_refused_on_save(
    fake_llm, tmp_path: Path
):
    # The user's review.promptDir holds user.md -> a file of secrets: saving must send
    # nothing and say which template was refused, once.
    marker = "AWS_SECRET_ACCESS_KEY=planted-marker-90be"
    secrets = tmp_path / "stolen" / "environ"
    secrets.parent.mkdir()
    secrets.write_text(f"{marker}\n", encoding="utf-8")
    mine = tmp_path / "home" / "prompts"
    mine.mkdir(parents=True)
    (mine / "user.md").symlink_to(secrets)
    env = clean_env(tmp_path)
    Path(env["QWEN_LSP_CONFIG"]).write_text(
        f'[review]\npromptDir = "{mine.as_posix()}"\n', encoding="utf-8"
    )
    fake_llm.reply(ANSWER)
    async with running_server(
        tmp_path, env, init_options=options(fake_llm), capabilities=capabilities()
    ) as client:
        uri = open_file(client, tmp_path / "app.py", "python", APP)
        save(client, uri)
        await until(lambda: any(str(mine / "user.md") in m.message for m in client.messages))
        await asyncio.sleep(0.3)  # time for diagnostics or a second message that must not come
        assert client.diagnostics.get(uri) is None  # a review that did not run clears nothing
        told = [m.message for m in client.messages if str(mine / "user.md") in m.message]
        assert len(told) == 1
        assert told[0].startswith("qwen-lsp: review stopped: refused the prompt template")
        assert "it is a symbolic link" in told[0] and marker not in told[0]
        assert fake_llm.requests == []


async def test_a_review_that_cannot_run_ends_its_progress_and_says_why(fake_llm, tmp_path: Path):
    fake_llm.reply(ANSWER)
    prompts = tmp_path / "prompts"
    (prompts / "system.md").mkdir(parents=True)  # a template that cannot be read
    init = options(fake_llm)
    init["review"]["promptDir"] = str(prompts)
    async with running_server(
        tmp_path, clean_env(tmp_path), init_options=init, capabilities=capabilities()
    ) as client:
        uri = open_file(client, tmp_path / "app.py", "python", APP)
        save(client, uri)
        await until(lambda: any(ended(r) for r in review_progress(client)))
        await asyncio.sleep(0.3)  # time for a message or diagnostics that must (not) come
        [reports] = review_progress(client)
        assert isinstance(reports[0], types.WorkDoneProgressBegin) and ended(reports)
        told = [m.message for m in client.messages if "system.md" in m.message]
        assert len(told) == 1 and told[0].startswith("qwen-lsp: review stopped: refused")
        assert client.diagnostics.get(uri) is None
        assert fake_llm.requests == []
        # still serving: the prompt is readable again, and the next save reviews
        prompts.joinpath("system.md").rmdir()
        assert len(await diagnostics_after_save(client, uri)) == 2
    assert client.error is None


async def test_a_save_during_a_review_cancels_it_and_both_progresses_end(fake_llm, tmp_path: Path):
    fake_llm.reply(ANSWER)
    fake_llm.fault("hang", times=1)  # the first review waits on the model until cancelled
    async with running_server(
        tmp_path, clean_env(tmp_path), init_options=options(fake_llm), capabilities=capabilities()
    ) as client:
        uri = open_file(client, tmp_path / "app.py", "python", APP)
        save(client, uri)
        assert await asyncio.to_thread(fake_llm.wait_for_requests, 10)
        diagnostics = await diagnostics_after_save(client, uri)  # saved again: a new review
        assert [d.code for d in diagnostics] == ["unused-import", "resource-leak"]
        first, second = review_progress(client)
        await until(lambda: ended(first))
        assert ended(second) and not any(
            isinstance(r, types.WorkDoneProgressReport) for r in first
        )  # the cancelled review reported no chunk done
        assert await asyncio.to_thread(fake_llm.wait_for_disconnect, 5)  # its request closed
        assert len(fake_llm.requests) == 2
    assert client.error is None
