"""A client that types into a document as an editor does, for the typing tests and the
typing benchmark: one didChange per key, then an inline completion request, cancelling the
previous one with `$/cancelRequest` as VS Code does (or not, as Neovim does)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from lsprotocol import types
from pytest_lsp import LanguageClient


@dataclass
class Asked:
    """One completion request: when it was sent, its answer (None until it came, or when it
    was cancelled) and when that answer came (loop time)."""

    sent: float
    future: asyncio.Future = field(repr=False)
    texts: list[str] | None = None
    answered: float | None = None


def _texts(result: object) -> list[str]:
    if result is None:
        return []
    items = result.items if isinstance(result, types.InlineCompletionList) else result
    return [item.insert_text for item in items]  # type: ignore[union-attr]


class Typist:
    def __init__(self, client: LanguageClient, uri: str, text: str, cursor: int) -> None:
        self.client = client
        self.uri = uri
        self.text = text
        self.cursor = cursor
        self.version = 1
        self.asked: list[Asked] = []
        self._pending: tuple[str, Asked] | None = None

    @property
    def position(self) -> types.Position:
        before = self.text[: self.cursor]
        line = before.count("\n")
        column = len(before.rsplit("\n", 1)[-1].encode("utf-16-le")) // 2
        return types.Position(line=line, character=column)

    def insert(self, chars: str) -> None:
        """Type `chars` at the cursor as one change (a key, or an accepted suggestion)."""
        at = self.position
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=at, end=at), text=chars
                    )
                ],
            )
        )
        self.text = self.text[: self.cursor] + chars + self.text[self.cursor :]
        self.cursor += len(chars)

    def undo_to(self, text: str) -> None:
        """Delete back to `text` (a state this document had, with the cursor at its end)."""
        assert self.text.startswith(text) and self.cursor == len(self.text)
        start = self.position
        self.cursor = len(text)
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=self.position, end=start), text=""
                    )
                ],
            )
        )
        self.text = text

    def ask(self, *, manual: bool = False, cancel_previous: bool = True) -> Asked:
        """Request an inline completion at the cursor."""
        loop = asyncio.get_running_loop()
        if cancel_previous and self._pending is not None:
            msg_id, previous = self._pending
            if not previous.future.done():
                self.client.protocol.notify("$/cancelRequest", types.CancelParams(id=msg_id))
        kind = (
            types.InlineCompletionTriggerKind.Invoked
            if manual
            else types.InlineCompletionTriggerKind.Automatic
        )
        msg_id = str(uuid.uuid4())
        # pytest-lsp's send_request_async is a coroutine: the task sends it on the next turn
        # of the loop, after the didChange and any $/cancelRequest sent just now.
        future = asyncio.ensure_future(
            self.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION,
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=self.uri),
                    position=self.position,
                    context=types.InlineCompletionContext(trigger_kind=kind),
                ),
                msg_id=msg_id,
            )
        )
        asked = Asked(loop.time(), future)

        def done(f: asyncio.Future) -> None:
            if f.cancelled() or f.exception() is not None:
                return  # cancelled by us: no answer
            asked.texts = _texts(f.result())
            asked.answered = loop.time()

        future.add_done_callback(done)
        self._pending = (msg_id, asked)
        self.asked.append(asked)
        return asked

    def key(self, chars: str, **ask: bool) -> Asked:
        self.insert(chars)
        return self.ask(**ask)

    async def answer(self, asked: Asked, timeout: float = 10.0) -> list[str] | None:
        """Wait for `asked` to end; its suggestions, or None when it was cancelled."""
        try:
            await asyncio.wait_for(asyncio.shield(asked.future), timeout)
        except Exception:  # cancelled or failed: no suggestions
            return None
        return asked.texts

    async def settle(self) -> None:
        """Wait for every request to end."""
        for asked in self.asked:
            await self.answer(asked)

    async def type_text(
        self, text: str, *, interval: float, manual: bool = False, cancel_previous: bool = True
    ) -> list[Asked]:
        """Type `text` one key every `interval` seconds (on a fixed schedule, as a steady
        typist does), asking after each key."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        asked = []
        for index, char in enumerate(text):
            delay = start + index * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            asked.append(self.key(char, manual=manual, cancel_previous=cancel_previous))
        return asked
