"""Acceptance counted locally, over the real server: an inline item carries the accept
command; an accepted suggestion counts, and its retained characters are measured from the
document's own changes after `spend.retentionDelayMs`; a dismissed one counts as shown only;
`qwen-lsp stats` and the status notification show it; `spend.countAcceptance` off counts
nothing."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.e2e.harness import clean_env, eventually, open_file, running_server

MODEL = "qwen-coder-turbo"  # in the shipped price table (CNY)
PREFIX = "def mean(values):\n    total = "
SUGGESTION = "sum(values)"


def _options(fake, **spend: Any) -> dict[str, Any]:
    return {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "promptMode": "fim",
        "model": MODEL,
        "spend": {"retentionDelayMs": 300, **spend},
    }


def stats(tmp_path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "stats", "--format", "json"],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def ask(client, uri: str, position: types.Position) -> types.InlineCompletionItem:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position,
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert result is not None and result.items
    return result.items[0]


def insert(client, uri: str, version: int, at: types.Position, text: str) -> None:
    """What an editor sends when the user accepts (or types) `text` at `at`."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text=text
                )
            ],
        )
    )


def replace(client, uri: str, version: int, start: types.Position, end: types.Position, text: str):
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=start, end=end), text=text
                )
            ],
        )
    )


async def test_accepted_counts_retained_chars_follow_edits_dismissed_do_not(fake_llm, tmp_path):
    fake_llm.reply(SUGGESTION)
    seen: list[Any] = []
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        c.feature("qwen-lsp/status")(lambda params: seen.append(params))
        commands = c.advertised.execute_command_provider.commands
        assert "qwen-lsp.accepted" in commands
        uri = open_file(c, tmp_path / "a.py", "python", PREFIX)
        cursor = types.Position(line=1, character=len("    total = "))
        item = await ask(c, uri, cursor)
        assert item.insert_text == SUGGESTION
        assert item.command is not None and item.command.command == "qwen-lsp.accepted"
        # Accepted: the editor inserts the text, then runs the item's command.
        insert(c, uri, 2, cursor, item.insert_text)
        counted = await c.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=item.command.command, arguments=item.command.arguments
            )
        )
        assert counted is True
        # The user types before it (it moves) and rewrites its last 7 characters.
        insert(c, uri, 3, types.Position(line=0, character=0), "# stats\n")
        end = len("    total = sum(values)")
        replace(
            c,
            uri,
            4,
            types.Position(line=2, character=end - 7),
            types.Position(line=2, character=end),
            "x)",
        )
        # Dismissed: shown at another place, never accepted.
        fake_llm.reply("len(values)")
        insert(c, uri, 5, types.Position(line=2, character=len("    total = sum(x)")), "\n    n = ")
        other = await ask(c, uri, types.Position(line=3, character=len("    n = ")))
        assert other.command is not None
        # A command for a suggestion never shown is refused.
        refused = await c.workspace_execute_command_async(
            types.ExecuteCommandParams(command="qwen-lsp.accepted", arguments=["s999"])
        )
        assert refused is False
        await asyncio.sleep(0.8)  # past spend.retentionDelayMs: the accepted one is measured
        assert await eventually(lambda: any(_retained(s) for s in seen), timeout=5)
        shown = await c.workspace_execute_command_async(
            types.ExecuteCommandParams(command="qwen-lsp.showStats")
        )
    [today] = _plain(seen[-1])["acceptance"]  # the status bar's figures
    assert (today["model"], today["shown"], today["accepted"]) == (MODEL, 2, 1)
    assert today["acceptanceRate"] == 0.5 and today["retainedChars"] == len("sum()")
    assert today["currency"] == "CNY" and today["costPer1000RetainedChars"] > 0
    [listed] = shown["acceptance"]  # the editor's "show stats" command
    assert (listed["shown"], listed["accepted"]) == (2, 1)
    assert "Suggestions, all time" in shown["text"]
    report = stats(tmp_path)
    [row] = report["acceptance"]
    assert row["model"] == MODEL
    assert (row["shown"], row["accepted"]) == (2, 1)
    assert row["acceptanceRate"] == 0.5
    assert row["acceptedChars"] == len(SUGGESTION)
    assert row["retainedChars"] == len("sum()")  # of "sum(values)", now "sum(x)"
    assert row["currency"] == "CNY" and row["cost"] > 0
    assert abs(row["costPer1000RetainedChars"] - row["cost"] / 5 * 1000) < 1e-9


def _plain(value: Any) -> Any:
    """Custom notifications' params arrive as namedtuples: plain data for comparing."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _retained(status: Any) -> bool:
    return any(model["retainedChars"] for model in _plain(status).get("acceptance") or [])


async def test_counting_off_counts_nothing(fake_llm, tmp_path):
    fake_llm.reply(SUGGESTION)
    env = clean_env(tmp_path)
    options = _options(fake_llm, countAcceptance=False)
    async with running_server(tmp_path, env, init_options=options) as c:
        uri = open_file(c, tmp_path / "a.py", "python", PREFIX)
        item = await ask(c, uri, types.Position(line=1, character=len("    total = ")))
        assert item.command is None
    assert stats(tmp_path)["acceptance"] == []
