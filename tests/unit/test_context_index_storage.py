"""The symbol index as stored on disk: private to the user and free of secrets, even though a
constant's signature is its value."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
from pathlib import Path

from tests.unit.test_context_index import build, git_repo, new_index

SECRETS = {
    "openai": "sk-proj-4f9Kq2LmX8vB7nR1tY6wZ3cD5eH0jS2aQ",
    "password": "c0rrect-Horse-battery-9431",
    "github": "ghp_0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2",
    "random": "dG9rZW4tNGY5S3EyTG1YOHZCN25SMXRZNnda",
    "default": "hunter2-Hunter2-xyz",
    "stripe": "sk_live_51HxQ2eLkjhgf8d7s6a5p4o3i2u1y",
    "url": "s3cretPassw0rd",
    "slack": "xoxb-1234567890-abcdefghijklmnop",
}
FILES = {
    "settings.py": f'''OPENAI_API_KEY = "{SECRETS["openai"]}"
DB_PASSWORD = "{SECRETS["password"]}"


class Vault:
    """Opens with {SECRETS["github"]}."""

    token = "{SECRETS["random"]}"

    def open(self, password="{SECRETS["default"]}"):
        return password
''',
    "web/keys.ts": f'''export const STRIPE_SECRET = "{SECRETS["stripe"]}";
export function connect(url = "postgres://admin:{SECRETS["url"]}@db.internal:5432/app") {{
  return url;
}}
''',
    "keys.go": f'package keys\n\nconst slackToken = "{SECRETS["slack"]}"\n',
}


def stored_text(store: Path) -> str:
    """Every byte stored (the database, its write-ahead log), as text."""
    return "".join(
        path.read_bytes().decode("latin-1") for path in store.rglob("*") if path.is_file()
    )


def test_no_planted_secret_reaches_the_stored_index(tmp_path: Path):
    root = git_repo(tmp_path / "repo", FILES)
    store = tmp_path / "cache" / "index"
    index = build(new_index(root, store))
    names = ("OPENAI_API_KEY", "DB_PASSWORD", "Vault", "open", "STRIPE_SECRET", "slackToken")
    assert all(index.lookup(name) for name in names)
    text = stored_text(store)
    assert "OPENAI_API_KEY" in text and "slackToken" in text  # the names are kept
    leaked = [kind for kind, secret in SECRETS.items() if secret in text]
    assert leaked == []

    restarted = new_index(root, store)
    assert restarted.load()
    [(path, constant)] = restarted.lookup("OPENAI_API_KEY")
    assert path == "settings.py" and constant.signature == 'OPENAI_API_KEY = "..."'
    build(restarted)  # entries re-read or reused, stored again: still nothing
    assert [kind for kind, secret in SECRETS.items() if secret in stored_text(store)] == []


def test_an_index_stored_by_an_earlier_version_with_secrets_is_replaced(tmp_path: Path):
    root = git_repo(tmp_path / "repo", FILES)
    store = tmp_path / "index"
    build(new_index(root, store)).close()
    [stored] = list(store.glob("*.sqlite"))
    planted = f'OPENAI_API_KEY = "{SECRETS["openai"]}"'
    with contextlib.closing(sqlite3.connect(stored)) as db, db:
        db.execute("UPDATE meta SET value = '2' WHERE key = 'format'")  # an older layout
        db.execute("UPDATE defs SET signature = ? WHERE name = 'OPENAI_API_KEY'", (planted,))
    stored.chmod(0o644)
    legacy = stored.with_suffix(".json")  # formats 1 and 2: JSON, 1 with values as written
    legacy.write_text(json.dumps({"format": 1, "files": {"settings.py": planted}}))
    assert SECRETS["openai"] in stored_text(store)

    index = new_index(root, store)
    assert not index.load()  # not trusted: read again from the files
    build(index)
    index.close()
    assert SECRETS["openai"] not in stored_text(store)
    assert not legacy.exists()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


def test_the_stored_index_is_private_whatever_the_umask(tmp_path: Path):
    root = git_repo(tmp_path / "repo", FILES)
    store = tmp_path / "cache" / "index"
    old = os.umask(0)
    try:
        build(new_index(root, store))
    finally:
        os.umask(old)
    for path in [store.parent, *store.parent.rglob("*")]:
        wanted = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == wanted, path
