"""Acceptance counted locally: the `qwen-lsp.accepted` command an inline item carries (the
editor runs it when the user accepts the suggestion: VS Code through its language client,
Neovim 0.12's `vim.lsp.inline_completion` right after inserting it), and the document
changes that follow an accepted suggestion until its retained characters are measured (see
the engine's acceptance module). Arguments: `[id]`, or `[{"id": id, "acceptedChars": n}]`
from an editor that reports a partial accept (a word, a line).
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

from qwen_lsp.engine import document_changed, document_gone, suggestion_accepted
from qwen_lsp.lsp import convert
from qwen_lsp.lsp.server import QwenLanguageServer

log = logging.getLogger(__name__)


def accepted(ls: QwenLanguageServer, *arguments: Any) -> bool:
    """Count suggestion `id` as accepted; False when it is not known (or counting is off)."""
    runtime = ls.runtime
    first = arguments[0] if arguments else None
    chars: int | None = None
    if isinstance(first, dict):
        given = first.get("acceptedChars")
        chars = given if isinstance(given, int) and not isinstance(given, bool) else None
        first = first.get("id")
    if runtime is None or not isinstance(first, str):
        return False

    def read(uri: str) -> str | None:
        doc = ls.documents.get(uri)
        return doc.source.text if doc is not None else None

    counted = suggestion_accepted(runtime, first, read, chars)
    log.debug("suggestion %s accepted (%s)", first, "counted" if counted else "not known")
    return counted


def _did_change(ls: QwenLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    runtime = ls.runtime
    uri = params.text_document.uri
    doc = ls.documents.get(uri)
    if runtime is None or doc is None:
        return
    changes: list[Any] = []
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            start, end = convert.span(change.range)
            changes.append((start, end, change.text))
        else:
            changes.append((None, None, change.text))
    document_changed(runtime, uri, changes, doc.source.text)


def _did_close(ls: QwenLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    if ls.runtime is not None:
        document_gone(ls.runtime, params.text_document.uri)


def register(server: QwenLanguageServer) -> None:
    server.command(convert.ACCEPT_COMMAND)(accepted)
    server.listen(types.TEXT_DOCUMENT_DID_CHANGE, lambda params: _did_change(server, params))
    server.listen(types.TEXT_DOCUMENT_DID_CLOSE, lambda params: _did_close(server, params))
