"""Start the real `qwen-lsp` over stdio with pytest-lsp, isolated from the user's setup."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

SERVER_COMMAND = [sys.executable, "-m", "qwen_lsp", "--stdio"]
_SCRUBBED_PREFIXES = ("QWEN_LSP_", "DASHSCOPE_", "OPENAI_")


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a server under test: no keys or settings of the machine's user."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env["QWEN_LSP_CONFIG"] = str(tmp / "no-user-config.toml")
    env.setdefault("QWEN_LSP_CACHE_DIR", str(tmp / "cache"))
    env.setdefault("QWEN_LSP_LOG_FILE", str(tmp / "logs" / "qwen-lsp.log"))
    env.update(extra)
    return env


def inline_capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities(),
            completion=types.CompletionClientCapabilities(),
        ),
        workspace=types.WorkspaceClientCapabilities(configuration=False),
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf16]
        ),
    )


def plain_capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            completion=types.CompletionClientCapabilities()
        )
    )


@asynccontextmanager
async def running_server(
    root: Path,
    env: dict[str, str],
    *,
    init_options: dict[str, Any] | None = None,
    capabilities: types.ClientCapabilities | None = None,
    configuration: dict[str, Any] | None = None,
    configuration_delay: float = 0.0,
) -> AsyncIterator[LanguageClient]:
    """A server for `root`; with `configuration`, the client answers workspace/configuration,
    `configuration_delay` seconds late (an editor slow to answer)."""
    client = await ClientServerConfig(server_command=SERVER_COMMAND, server_env=env).start()
    if configuration is not None:
        client.set_configuration(configuration)
        if configuration_delay:
            _answer_late(client, types.WORKSPACE_CONFIGURATION, configuration_delay)
        capabilities = capabilities or inline_capabilities()
        capabilities.workspace = types.WorkspaceClientCapabilities(configuration=True)
    try:
        result = await client.initialize_session(
            types.InitializeParams(
                capabilities=capabilities or inline_capabilities(),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                initialization_options=init_options,
            )
        )
        client.advertised = result.capabilities  # type: ignore[attr-defined]
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


def _answer_late(client: LanguageClient, method: str, delay: float) -> None:
    """The client answers `method` `delay` seconds late, still answering everything else."""
    features = client.protocol.fm.features
    answer = features[method]

    async def late(params: Any) -> Any:
        await asyncio.sleep(delay)
        return answer(params)

    features[method] = late


def open_file(client: LanguageClient, path: Path, language_id: str, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=1, text=text
            )
        )
    )
    return uri


def cursor_of(text: str, marker: str = "█") -> tuple[str, types.Position]:
    """Remove the cursor mark from `text`; the position where it stood (UTF-16)."""
    index = text.index(marker)
    before = text[:index]
    line = before.count("\n")
    column = len(before.rsplit("\n", 1)[-1].encode("utf-16-le")) // 2
    return text.replace(marker, "", 1), types.Position(line=line, character=column)


async def inline_texts(client: LanguageClient, uri: str, position: types.Position) -> list[str]:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position,
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    if result is None:
        return []
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    return [item.insert_text for item in items]


async def eventually(predicate, timeout: float = 10.0) -> bool:
    """Whether `predicate()` comes true within `timeout` seconds (polled every 50 ms)."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()
