"""Open documents: our own text copy and tree-sitter tree per URI, kept by incremental sync,
and where each document is: its file for `file:` URIs, else the path its URI names (an
untitled document's name, the file a `git:` view shows), which is what the engine judges
(`.env` is never sent, whatever the scheme)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lsprotocol import types
from pygls.uris import to_fs_path

from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.lsp import convert

log = logging.getLogger(__name__)

# Trees cost about 25 bytes per byte of source; only the documents a user is working in need
# one, so the least recently used beyond this many give theirs back (re-parsed on demand).
MAX_TREES = 16
# Trees are brought up to date this long after the last keystroke, off the completion path.
IDLE_PARSE_DELAY = 0.3

# The version of a request's document when the request was read. Its handler runs a turn of
# the loop later, after changes read in the meantime (the next key, sent right behind the
# request): a position is only good in the version it was given for. Set by the protocol.
DISPATCHED_VERSION: ContextVar[int | None] = ContextVar("dispatched_version", default=None)


@dataclass
class OpenDocument:
    uri: str
    language_id: str
    source: SourceDocument
    path: Path | None  # on disk: `file:` URIs only
    version: int
    parse_timer: asyncio.TimerHandle | None = None
    location: Path | None = None  # `path`, else what the URI names (see `uri_location`)


def uri_location(uri: str) -> Path | None:
    """The path a document's URI names: the file of a `file:` URI; for other schemes the
    URI's path without its query (`untitled:Untitled-1` -> `Untitled-1`,
    `git:/repo/.env?{...}` -> `/repo/.env`); None when it names none."""
    fs_path = to_fs_path(uri)
    if fs_path:
        return Path(fs_path)
    try:
        path = unquote(urlsplit(uri).path)
    except ValueError:
        return None
    return Path(path) if path.strip("/") else None


class DocumentStore:
    def __init__(self) -> None:
        self._docs: dict[str, OpenDocument] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self.encoding = "utf-16"

    def get(self, uri: str) -> OpenDocument | None:
        return self._docs.get(uri)

    def __len__(self) -> int:
        return len(self._docs)

    def open(self, item: types.TextDocumentItem) -> OpenDocument:
        fs_path = to_fs_path(item.uri)
        path = Path(fs_path) if fs_path else None
        language = language_for(item.language_id, str(path) if path else None)
        source = SourceDocument(item.text, language, encoding=self.encoding)
        doc = OpenDocument(
            item.uri, item.language_id, source, path, item.version, location=uri_location(item.uri)
        )
        self._docs[item.uri] = doc
        return doc

    def change(self, params: types.DidChangeTextDocumentParams) -> None:
        doc = self._docs.get(params.text_document.uri)
        if doc is None:
            log.debug("didChange for a document that is not open: %s", params.text_document.uri)
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                doc.source.apply_change(*convert.span(change.range), change.text)
            else:
                doc.source.replace(change.text)
        doc.version = params.text_document.version
        self._parse_when_idle(doc)

    def _parse_when_idle(self, doc: OpenDocument) -> None:
        if not doc.source.parsed:
            return  # nobody has needed this document's tree yet: do not make one
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if doc.parse_timer is not None:
            doc.parse_timer.cancel()
        doc.parse_timer = loop.call_later(IDLE_PARSE_DELAY, self._refresh, doc.uri)

    def _refresh(self, uri: str) -> None:
        doc = self._docs.get(uri)
        if doc is not None and doc.source.parsed:
            doc.parse_timer = None
            _ = doc.source.tree  # reading it parses the pending edits

    def close(self, uri: str) -> None:
        doc = self._docs.pop(uri, None)
        if doc is not None and doc.parse_timer is not None:
            doc.parse_timer.cancel()
        self._recent.pop(uri, None)

    def touch(self, doc: OpenDocument) -> None:
        """`doc` is being worked in: keep its tree, and let the oldest unused ones go."""
        self._recent[doc.uri] = None
        self._recent.move_to_end(doc.uri)
        while len(self._recent) > MAX_TREES:
            uri, _ = self._recent.popitem(last=False)
            if (old := self._docs.get(uri)) is not None:
                old.source.drop_tree()
