"""A client that sends nonsense gets empty results or proper JSON-RPC errors, never a crash."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from tests.e2e.harness import clean_env, inline_texts, open_file, running_server


def _options(fake) -> dict:
    return {"provider": "openai-compatible", "baseUrl": fake.openai_base_url, "promptMode": "fim"}


def _change(uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str):
    return types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[
            types.TextDocumentContentChangePartial(
                range=types.Range(
                    start=types.Position(line=start[0], character=start[1]),
                    end=types.Position(line=end[0], character=end[1]),
                ),
                text=text,
            )
        ],
    )


async def test_unknown_closed_and_out_of_range_requests(fake_llm, tmp_path: Path):
    fake_llm.reply("x")
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        ghost = (tmp_path / "never-opened.py").as_uri()
        assert await inline_texts(c, ghost, types.Position(line=0, character=0)) == []
        uri = open_file(c, tmp_path / "a.py", "python", "s = '😀'\nprint(s)\n")
        # past the last line, past the end of a line, inside the emoji's surrogate pair
        for line, character in ((99, 0), (0, 500), (0, 6)):
            await inline_texts(c, uri, types.Position(line=line, character=character))
        # an edit whose range lies past the end of the document, and a reversed one
        c.text_document_did_change(_change(uri, 2, (50, 3), (60, 0), "tail = 1\n"))
        c.text_document_did_change(_change(uri, 3, (1, 5), (0, 2), ""))
        c.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        assert await inline_texts(c, uri, types.Position(line=0, character=0)) == []
        # the server is alive and still works
        uri = open_file(c, tmp_path / "b.py", "python", "def f():\n    return ")
        assert await inline_texts(c, uri, types.Position(line=1, character=11)) == ["x"]
    assert c.error is None


async def test_a_file_over_max_file_size_is_not_completed_and_said_once(fake_llm, tmp_path):
    options = {**_options(fake_llm), "maxFileSize": 1000}
    async with running_server(tmp_path, clean_env(tmp_path), init_options=options) as c:
        uri = open_file(c, tmp_path / "big.py", "python", "x = 1\n" * 1000)
        for _ in range(3):
            assert await inline_texts(c, uri, types.Position(line=10, character=0)) == []
        await asyncio.sleep(0.2)
        said = [m.message for m in c.messages if "maxFileSize" in m.message]
    assert fake_llm.requests == []
    assert len(said) == 1 and "big.py" in said[0]


async def test_binary_content_is_not_completed(fake_llm, tmp_path: Path):
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        uri = open_file(c, tmp_path / "blob.py", "python", "abc\x00\x01\x02def\x00" * 50)
        assert await inline_texts(c, uri, types.Position(line=0, character=3)) == []
    assert fake_llm.requests == []


async def test_a_flood_of_requests_is_survived_with_bounded_memory(fake_llm, tmp_path: Path):
    fake_llm.reply("value")
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_options(fake_llm)) as c:
        text = "def f(value):\n    return \n" * 200
        uri = open_file(c, tmp_path / "flood.py", "python", text)
        pid = c._server.pid

        def rss() -> int:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
            return 0

        await inline_texts(c, uri, types.Position(line=1, character=11))
        before = rss()
        requests = [
            inline_texts(c, uri, types.Position(line=(i % 200) * 2 + 1, character=11))
            for i in range(1000)
        ]
        results = await asyncio.wait_for(asyncio.gather(*requests, return_exceptions=True), 120)
        after = rss()
        assert await inline_texts(c, uri, types.Position(line=1, character=11)) == ["value"]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert all("cancel" in str(e).lower() for e in errors), errors[:3]
    assert after - before < 50_000, f"RSS grew by {after - before} KiB"
