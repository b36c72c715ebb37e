"""Inline completion (LSP 3.18) and, for clients without it, plain completion items.

Which one is offered depends on what the client declares at initialize. A request the user
triggered by hand (inline `Invoked`, or a completion with trigger kind `Invoked`) is answered
without the typing debounce; the ones an editor sends on every key wait for it.
"""

from __future__ import annotations

import logging
import re

from lsprotocol import types

from qwen_lsp.engine import CompletionTarget, complete, relative_path
from qwen_lsp.lsp import status
from qwen_lsp.lsp.server import QwenLanguageServer
from qwen_lsp.model import Position, Suggestion

log = logging.getLogger(__name__)
_WORD_TAIL = re.compile(r"[A-Za-z0-9_$]+$")


def _target(ls: QwenLanguageServer, uri: str, position: types.Position) -> CompletionTarget | None:
    doc = ls.documents.get(uri)
    if doc is None:
        log.debug("completion asked for a document that is not open: %s", uri)
        return None
    ls.documents.touch(doc)
    return CompletionTarget(
        document=doc.source,
        position=Position(position.line, position.character),
        path=relative_path(doc.location, ls.roots),
        language_id=doc.language_id,
        key=uri,
        file=doc.path,
    )


async def _suggest(
    ls: QwenLanguageServer, uri: str, position: types.Position, *, manual: bool
) -> list[Suggestion]:
    await ls.wait_for_settings()
    target = _target(ls, uri, position)
    if target is None or ls.runtime is None:
        return []
    return await complete(ls.runtime, target, manual=manual)


def _range(s: Suggestion) -> types.Range:
    return types.Range(
        start=types.Position(s.start.line, s.start.character),
        end=types.Position(s.end.line, s.end.character),
    )


async def inline_completion(
    ls: QwenLanguageServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList | None:
    manual = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    suggestions = await _suggest(ls, params.text_document.uri, params.position, manual=manual)
    items = [types.InlineCompletionItem(insert_text=s.text, range=_range(s)) for s in suggestions]
    return types.InlineCompletionList(items=items)


async def completion(
    ls: QwenLanguageServer, params: types.CompletionParams
) -> types.CompletionList | None:
    context = params.context
    manual = context is not None and context.trigger_kind == types.CompletionTriggerKind.Invoked
    suggestions = await _suggest(ls, params.text_document.uri, params.position, manual=manual)
    doc = ls.documents.get(params.text_document.uri)
    if not suggestions or doc is None:
        return types.CompletionList(is_incomplete=True, items=[])
    # Clients filter items by the word before the cursor, so the item replaces that word.
    # (Offsets, not `character`: that counts in the negotiated encoding, not in characters.)
    source, line = doc.source, params.position.line
    cursor = source.offset_at(Position(line, params.position.character))
    line_prefix = source.text[source.line_start(line) : cursor]
    word = m.group(0) if (m := _WORD_TAIL.search(line_prefix)) else ""
    start = types.Position(params.position.line, params.position.character - len(word))
    items = []
    for rank, s in enumerate(suggestions):
        text = word + s.text
        items.append(
            types.CompletionItem(
                label=text.split("\n", 1)[0].strip() or text.strip(),
                kind=types.CompletionItemKind.Text,
                detail="qwen-lsp",
                documentation=text,
                filter_text=text,
                sort_text=f"0{rank}",
                text_edit=types.TextEdit(
                    range=types.Range(start=start, end=_range(s).end), new_text=text
                ),
                insert_text_format=types.InsertTextFormat.PlainText,
            )
        )
    return types.CompletionList(is_incomplete=True, items=items)


def register_for_client(ls: QwenLanguageServer, capabilities: types.ClientCapabilities) -> None:
    """Inline completion for clients that declare it, plain completion for the others."""
    text_document = capabilities.text_document
    if text_document is not None and text_document.inline_completion is not None:
        ls.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())(
            inline_completion
        )
    else:
        ls.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[]))(
            completion
        )
    status.attach(ls)
