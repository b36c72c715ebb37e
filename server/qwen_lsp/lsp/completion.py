"""Inline completion (LSP 3.18) and, for clients without it, plain completion items.

Which one is offered depends on what the client declares at initialize. An inline request
the user triggered by hand (`Invoked`) is answered without the typing debounce; the ones an
editor sends on every key wait for it. Plain completion always waits: clients report the
completion they ask while the user types an identifier as `Invoked` too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from lsprotocol import types

from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine import (
    CompletionTarget,
    complete,
    relative_path,
    suggestions_shown,
    warm_up,
)
from qwen_lsp.lsp import convert
from qwen_lsp.lsp.documents import DISPATCHED_VERSION
from qwen_lsp.lsp.server import QwenLanguageServer
from qwen_lsp.model import Position, Suggestion

log = logging.getLogger(__name__)


async def _suggest(
    ls: QwenLanguageServer,
    uri: str,
    cursor: Position,
    *,
    manual: bool,
    selected: types.SelectedCompletionInfo | None = None,
) -> list[Suggestion]:
    version = DISPATCHED_VERSION.get()
    await ls.wait_for_settings()
    doc, runtime = ls.documents.get(uri), ls.runtime
    if doc is None:
        log.debug("completion asked for a document that is not open: %s", uri)
        return []
    if runtime is None:
        return []
    if version is None:
        version = doc.version
    if doc.version != version:
        # The position was given in an earlier text: asking now would send the new text at
        # the old place. The editor asks again for the change it sent.
        log.debug("completion asked in version %d, document now at %d", version, doc.version)
        return []
    ls.documents.touch(doc)
    source = doc.source
    if selected is not None:
        source, cursor = _with_selected_item(source, selected)
    target = CompletionTarget(
        document=source,
        position=cursor,
        path=relative_path(doc.location, ls.roots),
        language_id=doc.language_id,
        key=uri,
        file=doc.path,
    )
    suggestions = await complete(runtime, target, manual=manual)
    if doc.version != version or ls.documents.get(uri) is not doc:
        return []  # the document moved on while the model answered: not for this text
    return suggestions


def _with_selected_item(
    source: SourceDocument, selected: types.SelectedCompletionInfo
) -> tuple[SourceDocument, Position]:
    """The document as it would be with the suggest widget's selected item accepted, and
    the cursor after that item."""
    start = source.offset_at(convert.position(selected.range.start))
    end = source.offset_at(convert.position(selected.range.end))
    text = source.text[:start] + selected.text + source.text[end:]
    accepted = SourceDocument(text, source.language, encoding=source.encoding)  # type: ignore[arg-type]
    return accepted, accepted.position_at(start + len(selected.text))


async def inline_completion(
    ls: QwenLanguageServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    context = params.context
    manual = context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    cursor = convert.position(params.position)
    uri = params.text_document.uri
    selected = context.selected_completion_info
    suggestions = await _suggest(ls, uri, cursor, manual=manual, selected=selected)
    if selected is not None:
        # VS Code shows an inline suggestion beside its suggest widget only when it extends
        # the selected item: the item's text, then the suggestion, over the item's range.
        start, end = convert.position(selected.range.start), convert.position(selected.range.end)
        suggestions = [
            dataclasses.replace(s, text=selected.text + s.text, start=start, end=end)
            for s in suggestions
        ]
    doc, runtime = ls.documents.get(uri), ls.runtime
    ids: list[str | None] = []
    if doc is not None and runtime is not None and suggestions:
        language = doc.source.language or doc.language_id
        ids = suggestions_shown(runtime, uri, suggestions, language)  # sent back on accept
    return types.InlineCompletionList(items=convert.inline_items(suggestions, ids))


async def completion(
    ls: QwenLanguageServer, params: types.CompletionParams
) -> types.CompletionList | None:
    cursor = convert.position(params.position)
    suggestions = await _suggest(ls, params.text_document.uri, cursor, manual=False)
    doc = ls.documents.get(params.text_document.uri)
    if not suggestions or doc is None:
        return types.CompletionList(is_incomplete=True, items=[])
    items = convert.completion_items(suggestions, doc.source, cursor)
    return types.CompletionList(is_incomplete=True, items=items)


def _register_for_client(ls: QwenLanguageServer, params: types.InitializeParams) -> None:
    """Inline completion for clients that declare it, plain completion for the others."""
    text_document = params.capabilities.text_document
    if text_document is not None and text_document.inline_completion is not None:
        ls.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())(
            inline_completion
        )
    else:
        ls.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[]))(
            completion
        )


class WarmUp:
    """The background task that readies the first completion (kept so it is not collected)."""

    task: asyncio.Task[None] | None = None


def _warm_up(ls: QwenLanguageServer) -> None:
    """Once the editor's settings are read: ready the first completion in the background."""
    if ls.runtime is not None:
        ls.state(WarmUp).task = asyncio.get_running_loop().create_task(warm_up(ls.runtime))


def register(server: QwenLanguageServer) -> None:
    server.add_state(WarmUp())
    server.on_initialize.append(_register_for_client)
    server.on_initialized.append(_warm_up)
