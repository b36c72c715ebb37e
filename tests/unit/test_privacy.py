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


SENSITIVE = [
    # every .env variant, and direnv's
    ".env",
    ".ENV",
    "config/.env.production",
    ".env.local",
    ".env.development.local",
    "prod.env",
    "deploy/Staging.ENV",
    ".envrc",
    # cluster, cloud and tool credentials
    "kubeconfig",
    "ops/cluster.kubeconfig",
    "home/.kube/config",
    "KUBECONFIG.yaml",
    "home/.aws/credentials",
    "home/.AWS/config",
    "home/.docker/config.json",
    ".dockercfg",
    ".git-credentials",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".my.cnf",
    ".s3cfg",
    ".vault-token",
    ".npmrc",
    ".pypirc",
    ".yarnrc.yml",
    "home/.config/gh/hosts.yml",
    "home/.config/gcloud/application_default_credentials.json",
    "infra/prod.tfvars",
    "infra/prod.tfvars.json",
    "terraform.tfstate",
    "terraform.tfstate.backup",
    "client_secret_1234-abc.apps.googleusercontent.com.json",
    "functions/local.settings.json",
    ".htpasswd",
    # secret/secrets as a whole stem, any extension or case
    "app/secrets.yaml",
    "Secrets.yaml",
    "secret.txt",
    "SECRETS",
    "config/secret",
    "k8s/app-secrets.yml",
    "credentials",
    "credentials.toml",
    "gcp-credentials.json",
    # private keys and keystores
    "deploy/server.pem",
    "tls/server.key",
    "AuthKey_ABC123.p8",
    "cert.p12",
    "cert.PFX",
    "putty.ppk",
    "release.jks",
    "android/app/upload.keystore",
    "home/.ssh/id_rsa",
    "id_dsa",
    "id_ecdsa",
    "ID_ED25519",
    "id_ed25519_work",
    "id_rsa.old",
    "home/.ssh/config",
    "home/.ssh/known_hosts",
    "home/.gnupg/private-keys-v1.d/ABC.key",
    "backup/private-key.asc",
    # Windows separators
    "C:\\Users\\me\\.aws\\credentials",
]
ORDINARY = [
    "src/environment.py",
    "env.py",
    "src/env/settings.py",
    "README.env.md",
    ".env.example",
    "config/.env.sample",
    ".env.template",
    "settings.env.example",
    "keyboard.py",
    "monkey.py",
    "key.py",
    "keys.md",
    "docs/keys.md",
    "secretary.py",
    "src/secret_sauce.py",
    "my_secret_handler.go",
    "tokenizer.json",
    "token.py",
    "id_rsa.pub",
    "id_ed25519.pub",
    "home/.ssh/id_rsa.pub",
    "config.json",
    "docker/config.json",
    "kube/config.go",
    "aws/credentials_test.go",
    "pem.py",
    "src/credential_store.py",
    "signature.asc",
    "",
]


@pytest.mark.parametrize("path", SENSITIVE)
def test_sensitive_file_names(path: str):
    assert is_sensitive_path(path)


@pytest.mark.parametrize("path", ORDINARY)
def test_near_misses_are_ordinary_files(path: str):
    assert not is_sensitive_path(path)
