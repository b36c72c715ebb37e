"""The editor's first message, read before pygls loads (`lsp/first_message.py`): pygls must
then read the very bytes it would have read, whatever the message holds, and the workspace
folder is taken as the server takes it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from qwen_lsp.lsp.first_message import Replay, first_folder, read_first_message


def framed(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return (
        b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc\r\n\r\n" % len(body) + body
    )


def initialize(**params) -> dict:
    return {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}


def read_all_as_pygls(stream) -> bytes:
    """What pygls's reader takes: header lines, then `read(n)` of each body."""
    out = b""
    while True:
        length = None
        while True:
            line = stream.readline()
            out += line
            if not line:
                return out
            if line == b"\r\n":
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        out += stream.read(length)


@pytest.mark.parametrize(
    "stream",
    [
        framed(initialize(rootUri="file:///w")) + framed({"jsonrpc": "2.0", "method": "x"}),
        framed(initialize()),  # the whole stream is one message
        b"Content-Length: 5\r\n\r\nnot json" + framed({"jsonrpc": "2.0", "method": "x"}),
        b"garbage without framing\r\n" + framed({"jsonrpc": "2.0", "method": "x"}),
        b"Content-Length: 99999999999\r\n\r\n" + framed({"jsonrpc": "2.0", "method": "x"}),
        b"",
    ],
    ids=["two messages", "one", "bad json", "no framing", "too long", "empty"],
)
def test_pygls_reads_the_same_bytes_after_the_first_message_was_read(stream: bytes):
    source = io.BytesIO(stream)
    first = read_first_message(source)
    assert stream.startswith(first.raw)
    assert read_all_as_pygls(Replay(first.raw, source)) == read_all_as_pygls(io.BytesIO(stream))


def test_the_first_message_is_read_to_its_end_and_no_further():
    rest = framed({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    source = io.BytesIO(framed(initialize(rootUri="file:///w")) + rest)
    first = read_first_message(source)
    assert first.message["method"] == "initialize"
    assert source.read() == rest
    replay = Replay(first.raw, io.BytesIO(b"tail"))
    assert replay.read(-1) == first.raw + b"tail"


@pytest.mark.parametrize(
    ("params", "folder"),
    [
        (
            {"workspaceFolders": [{"uri": "file:///a%20b/w", "name": "w"}], "rootUri": "file:///r"},
            "/a b/w",
        ),
        ({"workspaceFolders": [], "rootUri": "file:///r"}, "/r"),
        ({"workspaceFolders": None, "rootUri": None, "rootPath": "/p"}, "/p"),
        ({"rootUri": "https://example.invalid/w"}, None),
        ({"rootUri": "file://server/share/w"}, None),  # a network share: not listed ahead
        ({}, None),
    ],
)
def test_the_folder_is_the_first_the_server_would_index(params: dict, folder: str | None):
    found = first_folder(initialize(**params))
    assert found == (Path(folder) if folder else None)


def test_only_an_initialize_names_a_folder():
    assert (
        first_folder(
            {"jsonrpc": "2.0", "method": "initialized", "params": {"rootUri": "file:///w"}}
        )
        is None
    )
    assert first_folder(None) is None
    assert first_folder({"method": "initialize", "params": "not an object"}) is None
