"""End to end: what the fake LLM receives holds none of the secrets in the user's code."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.harness import clean_env, inline_texts, open_file, running_server

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
    assert "REDACTED_SECRET_1" in bodies


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
