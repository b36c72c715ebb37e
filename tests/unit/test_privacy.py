"""Secrets never leave in a prompt; ordinary code keeps its text."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from qwen_lsp.model import GenerationRequest, Message
from qwen_lsp.privacy import is_sensitive_path
from qwen_lsp.providers.redacting import redact_request
from qwen_lsp.redaction import PLACEHOLDER_STEMS, redact_secrets

DATA = Path(__file__).resolve().parents[1] / "data" / "secrets"
SECRETS = [line for line in (DATA / "secrets.txt").read_text().splitlines() if line]
PLANTED = sorted(DATA.glob("planted.*"))


def test_the_corpus_plants_at_least_30_secrets_across_languages():
    assert len(SECRETS) >= 30
    assert len({p.suffix for p in PLANTED}) >= 8
    text = "".join(p.read_text() for p in PLANTED)
    assert all(secret in text for secret in SECRETS)


@pytest.mark.parametrize("path", PLANTED, ids=lambda p: p.name)
def test_no_planted_secret_survives(path: Path):
    result = redact_secrets(path.read_text())
    leaked = [secret for secret in SECRETS if secret in result.text]
    assert leaked == []
    assert PLACEHOLDER_STEMS[0] in result.text and result.found


@pytest.mark.parametrize(
    "line",
    [
        "password = get_password(user)",
        'token_type = "bearer"',
        "api_key = os.environ['OPENAI_API_KEY']",
        'API_KEY = "<your key here>"',
        'DASHSCOPE_API_KEY = "sk-xxxxxxxxxxxxxxxxxxxxxxxx"',
        "const secret = process.env.SECRET;",
        'hex_digits = "0123456789abcdefABCDEF"',
        'MODEL = "qwen3-coder-480b-a35b-instruct"',
        'key = "display_name"',
        'url = "https://example.com/path/to/page?query=1"',
        "export PATH=/usr/local/bin:$PATH",
    ],
)
def test_ordinary_code_is_left_alone(line: str):
    assert redact_secrets(line).text == line


def test_false_positives_on_real_code_are_rare():
    """The standard library's top-level modules: 150k lines of ordinary Python."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    changed = total = 0
    for path in sorted(stdlib.glob("*.py")):
        text = path.read_text(encoding="utf-8", errors="replace")
        total += text.count("\n")
        result = redact_secrets(text)
        changed += sum(
            a != b for a, b in zip(text.splitlines(), result.text.splitlines(), strict=True)
        )
    assert total > 100_000
    assert changed / total < 0.0001, f"{changed} of {total} lines changed"


def test_every_prompt_part_is_redacted_before_it_goes_out():
    key = "sk-proj-Xb7Rk2PqL9vT4mN8sW1zY6cA3dF5gH0jK2lM4nP6qR8"
    fim = GenerationRequest(model="m", prompt=f'<|fim_prefix|>KEY = "{key}"\n<|fim_middle|>')
    assert key not in redact_request(fim).prompt
    chat = GenerationRequest(
        model="m",
        messages=(
            Message("user", f"the suffix: token = '{key}'"),
            Message("assistant", f"OPENAI_API_KEY={key}\n", partial=True),
        ),
    )
    cleaned = redact_request(chat)
    assert all(key not in m.content for m in cleaned.messages)
    assert cleaned.messages[-1].partial
    plain = GenerationRequest(model="m", prompt="def add(a, b):\n    return ")
    assert redact_request(plain) is plain


@pytest.mark.parametrize(
    ("path", "sensitive"),
    [
        (".env", True),
        ("config/.env.production", True),
        ("deploy/server.pem", True),
        ("home/.ssh/id_rsa", True),
        ("id_ed25519.pub", True),
        ("app/secrets.yaml", True),
        ("gcp-credentials.json", True),
        ("src/environment.py", False),
        ("docs/keys.md", False),
        ("src/secret_sauce.py", False),
    ],
)
def test_sensitive_file_names(path: str, sensitive: bool):
    assert is_sensitive_path(path) is sensitive
