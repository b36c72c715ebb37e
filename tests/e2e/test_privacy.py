"""End to end: what the fake LLM receives holds none of the secrets in the user's code."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from qwen_lsp.privacy import is_sensitive_path
from qwen_lsp.redaction import PLACEHOLDER_STEMS
from tests.e2e.harness import clean_env, inline_texts, open_file, running_server

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

DATA = Path(__file__).resolve().parents[1] / "data" / "secrets"
SECRETS = [line for line in (DATA / "secrets.txt").read_text().splitlines() if line]
LANGUAGE_IDS = {
    ".py": "python",
    ".ts": "typescript",
    ".go": "go",
    ".java": "java",
    ".rs": "rust",
    ".c": "c",
    ".yaml": "yaml",
    ".env": "dotenv",
}


@pytest.mark.parametrize(
    ("provider", "mode"), [("openai-compatible", "fim"), ("dashscope", "partial")]
)
async def test_planted_secrets_never_reach_the_endpoint(fake_llm, tmp_path, provider, mode):
    from lsprotocol import types

    base = fake_llm.dashscope_base_url if provider == "dashscope" else fake_llm.openai_base_url
    options = {"provider": provider, "baseUrl": base, "promptMode": mode}
    env = clean_env(tmp_path, DASHSCOPE_API_KEY="sk-test-key-for-the-fake")
    fake_llm.reply("pass")
    sent = 0
    async with running_server(tmp_path, env, init_options=options) as client:
        for planted in sorted(DATA.glob("planted.*")):
            text = planted.read_text()
            # The secrets before the cursor and after it: the middle of the file.
            lines = text.split("\n")
            middle = len(lines) // 2
            name = "settings.env.example" if planted.suffix == ".env" else planted.name
            uri = open_file(client, tmp_path / "src" / name, LANGUAGE_IDS[planted.suffix], text)
            await inline_texts(client, uri, types.Position(line=middle, character=0))
            sent += 1
        await asyncio.sleep(0.1)
    assert len(fake_llm.requests) == sent
    bodies = "".join(str(request.body) for request in fake_llm.requests)
    leaked = [secret for secret in SECRETS if secret in bodies]
    assert leaked == []
    assert f"{PLACEHOLDER_STEMS[0]}1" in bodies


async def test_a_dotenv_file_is_never_sent(fake_llm, tmp_path: Path):
    from lsprotocol import types

    options = {
        "provider": "openai-compatible",
        "baseUrl": fake_llm.openai_base_url,
        "promptMode": "fim",
    }
    async with running_server(tmp_path, clean_env(tmp_path), init_options=options) as client:
        uri = open_file(client, tmp_path / ".env", "dotenv", "DATABASE_URL=postgres://x\nAPI_")
        assert await inline_texts(client, uri, types.Position(line=1, character=4)) == []
    assert fake_llm.requests == []


@pytest.mark.parametrize(
    ("provider", "mode"), [("openai-compatible", "fim"), ("dashscope", "partial")]
)
async def test_generated_secrets_never_reach_the_endpoint(fake_llm, tmp_path: Path, provider, mode):
    """Every file of the generated corpus, completed in its middle (so the cursor cuts blocks
    like a Kubernetes Secret's data in two, sent in separate messages in partial mode): the
    prompts hold none of the planted values."""
    from lsprotocol import types

    from tests.secrets_corpus import build_corpus

    seed = int.from_bytes(os.urandom(4), "big")  # a fresh corpus each run, named on failure
    corpus = build_corpus(seed)
    base = fake_llm.dashscope_base_url if provider == "dashscope" else fake_llm.openai_base_url
    options = {"provider": provider, "baseUrl": base, "promptMode": mode}
    env = clean_env(tmp_path, DASHSCOPE_API_KEY="sk-test-key-for-the-fake")
    fake_llm.reply("pass")
    async with running_server(tmp_path, env, init_options=options) as client:
        for index, f in enumerate(corpus):
            # A file the server never reads (.npmrc) gets another name: its text still tests
            # the redactor.
            name = f"renamed/{index}.txt" if is_sensitive_path(f.name) else f.name
            uri = open_file(client, tmp_path / "repo" / name, f.language, f.text)
            middle = f.text.count("\n") // 2
            await inline_texts(client, uri, types.Position(line=middle, character=0))
    bodies = json.dumps([request.body for request in fake_llm.requests])
    assert len(fake_llm.requests) == len(corpus)
    leaked = [f"{f.name}: {p.shape}" for f in corpus for p in f.planted if p.value in bodies]
    assert leaked == [], f"corpus seed {seed}"


async def test_an_action_that_echoes_a_redacted_line_writes_the_real_value(
    fake_llm, tmp_path: Path
):
    """The model sees a placeholder where the password is and answers the fixed function with
    it: the edit applied to the file holds the user's password, never the placeholder."""
    from lsprotocol import types

    from tests.e2e.test_actions import (
        apply_text_edits,
        edits_by_file,
        list_actions,
        pick,
        selection_of,
        serve,
    )

    password = "Pw9-" + os.urandom(6).hex()
    drawn = (
        "import db\n\n\ndef connect(host):\n"
        f'    password = "{password}"\n'
        '    return db.connect(host, "admin", passwrd█)\n'
    )
    text, cursor = selection_of(drawn)
    expected = text.replace("passwrd)", "password)")
    diagnostic = types.Diagnostic(
        range=types.Range(types.Position(5, 37), types.Position(5, 44)),
        message="undefined name 'passwrd'",
        source="pyflakes",
        severity=types.DiagnosticSeverity.Error,
    )
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / "app" / "db_conn.py", "python", text)
        action = pick(await list_actions(client, uri, cursor, [diagnostic]), "AI: Fix")

        # First answer: not code, refused. It shows what the model was sent.
        fake_llm.reply("```python\nnot code (\n```")
        assert (await client.code_action_resolve_async(action)).edit is None
        prompt = fake_llm.requests[-1].body["messages"][-1]["content"]
        assert password not in json.dumps(fake_llm.requests[-1].body)
        [redacted_line] = [line for line in prompt.split("\n") if "password = " in line]
        assert PLACEHOLDER_STEMS[0] in redacted_line

        # The model echoes the redacted line in its fix.
        reply = (
            "```python\ndef connect(host):\n"
            f"{redacted_line}\n"
            '    return db.connect(host, "admin", password)\n```'
        )
        fake_llm.reply(reply)
        resolved = await client.code_action_resolve_async(action)
    per_uri, _ = edits_by_file(resolved.edit)
    fixed = apply_text_edits(text, per_uri[uri])
    assert fixed == expected
    assert PLACEHOLDER_STEMS[0] not in json.dumps(per_uri[uri], default=str)
