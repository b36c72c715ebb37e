"""The real server over stdio against the fake LLM: what a user sees at the cursor in the cases
a review of the completion path found wrong. Each test asserts the suggestion shown (or the
requests paid for), never a duration."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from tests.e2e.harness import (
    clean_env,
    cursor_of,
    eventually,
    inline_texts,
    open_file,
    running_server,
)


def _fim(fake, **extra) -> dict:
    return {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "model": "qwen2.5-coder-7b",
        "promptMode": "fim",
        "completion": {"timeoutMs": 20000},
        **extra,
    }


def _partial(fake) -> dict:
    return {
        "provider": "dashscope",
        "baseUrl": fake.dashscope_base_url,
        "model": "qwen3-coder-flash",
        "promptMode": "partial",
        "completion": {"timeoutMs": 20000},
    }


async def test_a_partial_mode_answer_that_returns_to_column_0_stays_out_of_the_function(
    fake_llm, tmp_path: Path
):
    # Partial mode (the default DashScope setup) continues the text before the cursor as it
    # is: `def g():` at column 0 is the next function, not a line of this one.
    env = clean_env(tmp_path, DASHSCOPE_API_KEY="test-key")
    text, position = cursor_of("def f(x):\n    y = x * 2\n    █\n")
    fake_llm.reply("return y\n\n\ndef g():\n    return 2\n")
    async with running_server(tmp_path, env, init_options=_partial(fake_llm)) as client:
        uri = open_file(client, tmp_path / "f.py", "python", text)
        assert await inline_texts(client, uri, position) == ["return y"]


async def test_a_partial_mode_answer_at_column_0_keeps_its_own_indentation(
    fake_llm, tmp_path: Path
):
    env = clean_env(tmp_path, DASHSCOPE_API_KEY="test-key")
    text, position = cursor_of("def f(x):\n    return x\n\n\n█\n")
    fake_llm.reply("def g(y):\n    return y * 2\n")
    async with running_server(tmp_path, env, init_options=_partial(fake_llm)) as client:
        uri = open_file(client, tmp_path / "f.py", "python", text)
        assert await inline_texts(client, uri, position) == ["def g(y):\n    return y * 2"]


async def test_mid_line_the_space_before_the_code_after_the_cursor_is_kept(
    fake_llm, tmp_path: Path
):
    text, position = cursor_of("def run(started, ready):\n    if █and ready:\n        return 1\n")
    fake_llm.reply("started ")
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_fim(fake_llm)) as c:
        uri = open_file(c, tmp_path / "run.py", "python", text)
        assert await inline_texts(c, uri, position) == ["started "]


async def test_after_a_settings_change_the_old_models_answer_is_not_served(
    fake_llm, tmp_path: Path
):
    text, position = cursor_of("def add(a, b):\n    return █\n")
    log_file = tmp_path / "logs" / "qwen-lsp.log"
    settings = {"qwen-lsp": _fim(fake_llm)}
    async with running_server(
        tmp_path, clean_env(tmp_path), init_options=_fim(fake_llm), configuration=settings
    ) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        fake_llm.reply("a + b")
        assert await inline_texts(client, uri, position) == ["a + b"]
        assert await inline_texts(client, uri, position) == ["a + b"]  # from memory
        assert len(fake_llm.requests) == 1

        # another model, then the same model on another endpoint (one DashScope serves FIM
        # for on its compatible mode)
        changes = (
            {"model": "qwen2.5-coder-7b-instruct"},
            {"baseUrl": fake_llm.compatible_base_url},
        )
        for change in changes:
            settings["qwen-lsp"].update(change)
            client.set_configuration(settings)
            changes = log_file.read_text().count("settings changed:")
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=None)
            )
            assert await eventually(
                lambda n=changes: log_file.read_text().count("settings changed:") > n
            )
            answer = f"a - b  # {change}"
            fake_llm.reply(answer)
            sent = len(fake_llm.requests)
            assert await inline_texts(client, uri, position) == [answer]
            assert len(fake_llm.requests) == sent + 1
    assert fake_llm.requests[1].body["model"] == "qwen2.5-coder-7b-instruct"
    assert fake_llm.requests[2].path.startswith("/compatible-mode/")


async def test_a_change_read_before_the_request_runs_is_not_asked_at_the_old_position(
    fake_llm, tmp_path: Path
):
    # The editor asks for a completion, then sends the next key, while the server still
    # waits for the editor's settings (right after start): the server must not ask the model
    # with the new text at the old position (a paid request for the wrong place).
    text, position = cursor_of("def add(a, b):\n    return █\n")
    fake_llm.reply("a + b")
    async with running_server(
        tmp_path,
        clean_env(tmp_path),
        init_options=_fim(fake_llm),
        configuration={"qwen-lsp": _fim(fake_llm)},
        configuration_delay=1.5,
    ) as c:
        uri = open_file(c, tmp_path / "ops.py", "python", text)
        asked = asyncio.ensure_future(
            c.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=position,
                    context=types.InlineCompletionContext(
                        trigger_kind=types.InlineCompletionTriggerKind.Invoked
                    ),
                )
            )
        )
        await asyncio.sleep(0.2)  # the request is read; the next key comes behind it
        c.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(0, 0), types.Position(0, 0)),
                        text="# 2\n",
                    )
                ],
            )
        )
        result = await asked
        assert result is not None and not result.items  # that place is gone
        await asyncio.sleep(0.3)  # a request for the old place would have gone out by now
        assert not fake_llm.requests
        # asked again at the place the cursor moved to: the new text, at the new place
        moved = types.Position(position.line + 1, position.character)
        assert await inline_texts(c, uri, moved) == ["a + b"]
    [request] = fake_llm.requests
    prefix = request.body["prompt"].split("<|fim_prefix|>", 1)[1].split("<|fim_suffix|>")[0]
    assert prefix == "# 2\ndef add(a, b):\n    return "


async def test_plain_completion_invoked_while_typing_waits_for_the_pause(fake_llm, tmp_path: Path):
    # Clients without inline completion report completion while typing an identifier with
    # trigger kind Invoked too: each key must not be a paid request.
    from tests.e2e.harness import plain_capabilities

    fake_llm.reply("total")
    text = "def report(orders):\n    "
    async with running_server(
        tmp_path,
        clean_env(tmp_path),
        init_options=_fim(fake_llm, completion={"timeoutMs": 20000, "debounceMs": 300}),
        capabilities=plain_capabilities(),
    ) as client:
        uri = open_file(client, tmp_path / "report.py", "python", text)
        keys = "summary_of_orders"
        pending = []
        for version, char in enumerate(keys, start=2):
            text += char
            line = text.count("\n")
            column = len(text.rsplit("\n", 1)[-1])
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
            pending.append(
                client.text_document_completion_async(
                    types.CompletionParams(
                        text_document=types.TextDocumentIdentifier(uri=uri),
                        position=types.Position(line, column),
                        context=types.CompletionContext(
                            trigger_kind=types.CompletionTriggerKind.Invoked
                        ),
                    )
                )
            )
            await asyncio.sleep(0.03)
        await asyncio.gather(*pending)
        await asyncio.sleep(0.5)  # a request kept for a later key would have gone out by now
    # a request at the pause, for the whole word; none for each of its first letters (a
    # stray one only if the machine stalled a key past the debounce)
    assert 1 <= len(fake_llm.requests) <= 2
    assert fake_llm.requests[-1].body["prompt"].split("<|fim_suffix|>")[0].endswith(keys)


async def test_with_the_suggest_widget_open_the_suggestion_extends_the_selected_item(
    fake_llm, tmp_path: Path
):
    # VS Code sends the item selected in its suggest widget and shows an inline suggestion
    # only when it starts with that item over the item's range.
    text, position = cursor_of("import os\n\nfolder = os.pa█\n")
    fake_llm.reply(".join(root, 'cache')")
    item = types.Range(types.Position(2, 12), position)
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_fim(fake_llm)) as c:
        uri = open_file(c, tmp_path / "paths.py", "python", text)
        result = await c.text_document_inline_completion_async(
            types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=position,
                context=types.InlineCompletionContext(
                    trigger_kind=types.InlineCompletionTriggerKind.Automatic,
                    selected_completion_info=types.SelectedCompletionInfo(range=item, text="path"),
                ),
            )
        )
    [suggestion] = result.items
    assert suggestion.insert_text == "path.join(root, 'cache')"
    assert suggestion.range == item
    prompt = fake_llm.requests[-1].body["prompt"]
    assert "folder = os.path<|fim_suffix|>" in prompt


async def test_the_provider_is_readied_after_initialized_without_a_request(
    fake_llm, tmp_path: Path
):
    # The first completion of a session must not pay for importing the SDK and building its
    # client: that happens in the background once the server is ready, sending nothing.
    log_file = tmp_path / "logs" / "qwen-lsp.log"
    async with running_server(tmp_path, clean_env(tmp_path), init_options=_fim(fake_llm)):
        assert await eventually(
            lambda: (
                log_file.exists() and "warmed up for the first completion" in log_file.read_text()
            ),
            timeout=30,
        )
    line = next(x for x in log_file.read_text().splitlines() if "warmed up" in x)
    assert "openai" in line and "qwen_lsp.engine.completion.complete" in line
    assert not fake_llm.requests
