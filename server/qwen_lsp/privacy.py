"""Files whose text never leaves this machine: sensitive names (`.env`, keys, credentials),
whatever the settings say, and the user's `exclude` globs. The secrets inside ordinary files
are the `redaction` package's part."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import PurePosixPath

SENSITIVE_NAMES = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "*.jks",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "secrets.*",
    "*secrets.json",
    "*secrets.yaml",
    "*secrets.yml",
    "credentials",
    "credentials.*",
    "*credentials.json",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".htpasswd",
    "*.tfvars",
    "*.tfstate",
)


def is_sensitive_path(path: str) -> bool:
    """Files never read into a prompt, whatever the settings say (`.env`, keys, credentials)."""
    name = PurePosixPath(path.replace("\\", "/")).name
    return any(fnmatch(name, pattern) for pattern in SENSITIVE_NAMES)


def is_excluded(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether `path` (relative, with "/") matches an `exclude` glob, by path or by name."""
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch(path, p) or fnmatch(name, p) for p in patterns)


def is_never_read(path: str, exclude: tuple[str, ...]) -> bool:
    """Files whose text never goes into a prompt: excluded ones and sensitive ones."""
    return is_sensitive_path(path) or is_excluded(path, exclude)
