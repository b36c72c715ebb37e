"""Random sequences of LSP messages (hypothesis, fixed budget): the server never dies.

Each example starts the real server, plays a random sequence of opens, edits (in and out of
range, with multi-byte text), closes, completion requests and cancellations, then checks the
server still answers a well-formed request correctly.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.exceptions import JsonRpcMethodNotFound

from tests.e2e.harness import clean_env, inline_texts, open_file, running_server
from tests.fakes.llm_server import FakeLLM

TEXT = st.text(
    alphabet=st.sampled_from(list("abc def():\n\t{}[]'\"#=é中😀\r")), min_size=0, max_size=40
)
POSITION = st.tuples(st.integers(-2, 30), st.integers(-2, 60))
OPERATION = st.one_of(
    st.tuples(st.just("open"), st.integers(0, 2), TEXT),
    st.tuples(st.just("change"), st.integers(0, 3), POSITION, POSITION, TEXT),
    st.tuples(st.just("replace"), st.integers(0, 3), TEXT),
    st.tuples(st.just("close"), st.integers(0, 3)),
    st.tuples(st.just("inline"), st.integers(0, 3), POSITION),
    st.tuples(st.just("completion"), st.integers(0, 3), POSITION),
    st.tuples(st.just("cancelled"), st.integers(0, 3), POSITION),
)
LANGUAGES = [("python", "py"), ("typescript", "ts"), ("go", "go"), ("markdown", "md")]


def _position(pos: tuple[int, int]) -> types.Position:
    # negative numbers are not valid uinteger; the client library would refuse to send them
    return types.Position(line=max(pos[0], 0), character=max(pos[1], 0))


async def _play(fake: FakeLLM, tmp: Path, operations: list) -> None:
    options = {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "promptMode": "fim",
        "completion": {"timeoutMs": 10000},
    }
    async with running_server(tmp, clean_env(tmp), init_options=options) as client:
        uris = [(tmp / f"doc{i}.{LANGUAGES[i][1]}").as_uri() for i in range(4)]
        versions = [1] * 4
        for op in operations:
            kind, index = op[0], op[1]
            uri = uris[index]
            if kind == "open":
                language, suffix = LANGUAGES[index]
                open_file(client, tmp / f"doc{index}.{suffix}", language, op[2])
            elif kind in ("change", "replace"):
                versions[index] += 1
                change = (
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=_position(op[2]), end=_position(op[3])),
                        text=op[4],
                    )
                    if kind == "change"
                    else types.TextDocumentContentChangeWholeDocument(text=op[2])
                )
                client.text_document_did_change(
                    types.DidChangeTextDocumentParams(
                        text_document=types.VersionedTextDocumentIdentifier(
                            uri=uri, version=versions[index]
                        ),
                        content_changes=[change],
                    )
                )
            elif kind == "close":
                client.text_document_did_close(
                    types.DidCloseTextDocumentParams(
                        text_document=types.TextDocumentIdentifier(uri=uri)
                    )
                )
            elif kind == "inline":
                await inline_texts(client, uri, _position(op[2]))
            elif kind == "completion":
                # This client declares inline completion, so the server offers no plain
                # completion: a proper JSON-RPC error is the right answer, not a crash.
                with contextlib.suppress(JsonRpcMethodNotFound):
                    await client.text_document_completion_async(
                        types.CompletionParams(
                            text_document=types.TextDocumentIdentifier(uri=uri),
                            position=_position(op[2]),
                        )
                    )
            else:
                msg_id = str(uuid.uuid4())
                pending = asyncio.ensure_future(
                    client.protocol.send_request_async(
                        types.TEXT_DOCUMENT_INLINE_COMPLETION,
                        types.InlineCompletionParams(
                            text_document=types.TextDocumentIdentifier(uri=uri),
                            position=_position(op[2]),
                            context=types.InlineCompletionContext(
                                trigger_kind=types.InlineCompletionTriggerKind.Automatic
                            ),
                        ),
                        msg_id=msg_id,
                    )
                )
                client.protocol.notify("$/cancelRequest", types.CancelParams(id=msg_id))
                await asyncio.gather(pending, return_exceptions=True)
        # Still alive, and still right.
        fake.reply("a + b")
        uri = open_file(client, tmp / "final.py", "python", "def add(a, b):\n    return ")
        assert await inline_texts(client, uri, types.Position(line=1, character=11)) == ["a + b"]
        assert client.error is None


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    # Each example starts a server: shrinking a failure would take many minutes. The failing
    # sequence is printed as it is.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(operations=st.lists(OPERATION, min_size=5, max_size=40))
def test_random_message_sequences_never_break_the_server(fake_llm, operations):
    fake_llm.reset()
    fake_llm.reply("x")
    with tempfile.TemporaryDirectory() as name:
        asyncio.run(_play(fake_llm, Path(name), operations))
