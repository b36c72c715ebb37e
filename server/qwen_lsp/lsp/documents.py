"""Open documents: our own text copy and tree-sitter tree per URI, kept by incremental sync."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.model import Position

log = logging.getLogger(__name__)


@dataclass
class OpenDocument:
    uri: str
    language_id: str
    source: SourceDocument
    path: Path | None
    version: int


class DocumentStore:
    def __init__(self) -> None:
        self._docs: dict[str, OpenDocument] = {}
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
        doc = OpenDocument(item.uri, item.language_id, source, path, item.version)
        self._docs[item.uri] = doc
        return doc

    def change(self, params: types.DidChangeTextDocumentParams) -> None:
        doc = self._docs.get(params.text_document.uri)
        if doc is None:
            log.debug("didChange for a document that is not open: %s", params.text_document.uri)
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = change.range.start, change.range.end
                doc.source.apply_change(
                    Position(start.line, start.character),
                    Position(end.line, end.character),
                    change.text,
                )
            else:
                doc.source.replace(change.text)
        doc.version = params.text_document.version

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)
