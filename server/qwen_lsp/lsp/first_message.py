"""The editor's first message, read before pygls is loaded, and handed back to it unchanged.

An editor sends `initialize` as soon as it has started the server, which then spends most of a
second loading pygls and lsprotocol before it can read it. Read first (plain JSON-RPC framing:
headers, a blank line, `Content-Length` bytes), the message names the workspace folder, so the
symbol index's worker can list that folder while the server loads (`engine/workers.py`). The
bytes read are replayed to pygls first (`Replay`): it reads the same stream it would have read.
Nothing here answers or judges the message; whatever it holds, pygls handles it as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse

_MAX_HEADERS = 64 * 1024  # bytes of headers read before giving up on a message
_MAX_BODY = 16 * 1024 * 1024  # a larger first message is left to pygls


@dataclass(frozen=True)
class FirstMessage:
    raw: bytes  # every byte read, to replay
    message: dict[str, Any] | None  # the JSON body, when it was a whole JSON object


def read_first_message(stream: BinaryIO) -> FirstMessage:
    """Read one message from `stream`: its headers and body exactly, nothing after them."""
    raw = bytearray()
    length = None
    while True:
        line = stream.readline(_MAX_HEADERS)
        raw += line
        if not line or not line.endswith(b"\n") or len(raw) > _MAX_HEADERS:
            return FirstMessage(bytes(raw), None)  # the stream ended, or no framing
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return FirstMessage(bytes(raw), None)
    if length is None or not 0 <= length <= _MAX_BODY:
        return FirstMessage(bytes(raw), None)
    body = stream.read(length)
    raw += body
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return FirstMessage(bytes(raw), None)
    return FirstMessage(bytes(raw), message if isinstance(message, dict) else None)


def first_folder(message: dict[str, Any] | None) -> Path | None:
    """The first workspace folder an `initialize` names (as the server reads its folders),
    or None."""
    if not message or message.get("method") != "initialize":
        return None
    params = message.get("params")
    if not isinstance(params, dict):
        return None
    folders = params.get("workspaceFolders")
    uri = None
    if isinstance(folders, list) and folders and isinstance(folders[0], dict):
        uri = folders[0].get("uri")
    uri = uri or params.get("rootUri")
    if isinstance(uri, str) and uri:
        parts = urlparse(uri)
        if parts.scheme != "file" or parts.netloc:
            return None
        return Path(unquote(parts.path))
    root_path = params.get("rootPath")
    return Path(root_path) if isinstance(root_path, str) and root_path else None


class Replay:
    """`stream` with `head` read first: what pygls reads (`readline`, `read`), byte for byte."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def readline(self, limit: int = -1) -> bytes:
        if not self._head:
            return self._stream.readline(limit)
        end = self._head.find(b"\n") + 1 or len(self._head)
        if limit >= 0:
            end = min(end, limit)
        line, self._head = self._head[:end], self._head[end:]
        if not line.endswith(b"\n") and not self._head and (limit < 0 or len(line) < limit):
            line += self._stream.readline(-1 if limit < 0 else limit - len(line))
        return line

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size < 0:
            data, self._head = self._head, b""
            return data + self._stream.read()
        data, self._head = self._head[:size], self._head[size:]
        if len(data) < size:
            data += self._stream.read(size - len(data))
        return data
