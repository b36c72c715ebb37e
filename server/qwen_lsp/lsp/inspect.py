"""`workspace/executeCommand` `qwen-lsp.inspectPrompt`: the exact prompt a completion would
send at a position of an open document, with the tokens of each section. Sends nothing.

Arguments: `[uri, line, character]` (0-based, in the negotiated position encoding). Result:
`{"prompt", "mode", "model", "endpoint", "tokens", "counted", "sections": [{"name",
"tokens"}]}`; null for a document that is not open; an InvalidParams error for arguments of
the wrong shape.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from qwen_lsp.context.tokenizer import qwen_token_counter
from qwen_lsp.engine import CompletionTarget, inspect_prompt, relative_path
from qwen_lsp.lsp.server import QwenLanguageServer
from qwen_lsp.model import Position

log = logging.getLogger(__name__)

INSPECT_COMMAND = "qwen-lsp.inspectPrompt"


async def inspect_prompt_command(ls: QwenLanguageServer, *arguments: Any) -> dict | None:
    if (
        len(arguments) != 3
        or not isinstance(arguments[0], str)
        or not all(isinstance(a, int) and not isinstance(a, bool) and a >= 0 for a in arguments[1:])
    ):
        raise JsonRpcInvalidParams(f"{INSPECT_COMMAND} takes [uri, line, character]")
    uri, line, character = arguments
    await ls.wait_for_settings()
    doc = ls.documents.get(uri)
    if doc is None or ls.runtime is None:
        log.debug("%s for a document that is not open: %s", INSPECT_COMMAND, uri)
        return None
    target = CompletionTarget(
        document=doc.source,
        position=Position(line, character),
        path=relative_path(doc.location, ls.roots),
        language_id=doc.language_id,
        file=doc.path,
    )
    # The tokenizer loads once (0.3 s) in a thread; the prompt is built on the event loop,
    # where the documents and the index change.
    await asyncio.to_thread(qwen_token_counter)
    inspection = inspect_prompt(ls.runtime, target)
    return {
        "prompt": inspection.text,
        "mode": inspection.mode.value,
        "model": inspection.model,
        "endpoint": inspection.endpoint,
        "tokens": inspection.total,
        "counted": inspection.counted,
        "sections": [{"name": s.name, "tokens": s.tokens} for s in inspection.sections],
    }


def register(server: QwenLanguageServer) -> None:
    server.command(INSPECT_COMMAND)(inspect_prompt_command)
