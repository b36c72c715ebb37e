"""Files whose text never leaves this machine: sensitive names (`.env`, keys, credentials),
whatever the settings say, and the user's `exclude` globs. The secrets inside ordinary files
are the `redaction` package's part; reading files safely (links, ignore rules) is
`context/files.py`'s.

Sensitive names are matched without regard to case (`Secrets.YAML` is as secret as
`secrets.yaml`, and macOS and Windows file systems do not tell them apart), on the file's
name and, for files that are secrets only where they live (`.aws/credentials`, `.ssh/*`,
`.kube/config`), on the folders above it. A document without a file path (an untitled one, a
`git:` view of a file) is matched on the name or path it has.

Chosen near misses: `secret`/`secrets` count as a whole stem only (`secrets.yaml`, `SECRET`,
not `secretary.py` or `secret_sauce.py`); public keys (`id_rsa.pub`) and `.env` templates
meant to be committed (`.env.example`, `.env.sample`, `.env.template`, `.env.dist`) are not
sensitive; `README.env.md` and `environment.py` are ordinary files.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch, translate
from functools import lru_cache

# Whole file names, lower case.
_NAMES = frozenset(
    {
        ".env",
        ".envrc",
        ".flaskenv",
        "kubeconfig",
        ".git-credentials",
        ".gitcookies",
        ".netrc",
        "_netrc",
        ".pgpass",
        ".my.cnf",
        ".mylogin.cnf",
        ".s3cfg",
        ".boto",
        ".vault-token",
        ".dockercfg",
        ".npmrc",
        ".yarnrc",
        ".yarnrc.yml",
        ".pypirc",
        "pip.conf",
        ".terraformrc",
        "terraform.rc",
        ".htpasswd",
        "local.settings.json",
        "credentials",
        "secring.gpg",
        "secring.kbx",
    }
)
# Stems (the name before its first dot), whatever the extension: `secrets.yaml`, `SECRET`.
_STEMS = frozenset({"secret", "secrets", "credentials"})
# Name globs, lower case.
_GLOBS = (
    "*.env",  # prod.env, .env
    "*.kubeconfig",
    "kubeconfig.y*ml",
    "kubeconfig.json",
    "*.tfvars",
    "*.tfvars.json",
    "*.tfstate",
    "*.tfstate.*",  # terraform.tfstate.backup
    "client_secret*.json",
    "*secrets.json",
    "*secrets.yaml",
    "*secrets.yml",
    "*secrets.toml",
    "*credentials.json",
    "*credentials.yaml",
    "*credentials.yml",
    "service-account*.json",
    "service_account*.json",
    "*.key",
    "*.pem",
    "*.p8",
    "*.p12",
    "*.pfx",
    "*.ppk",
    "*.jks",
    "*.bks",
    "*.keystore",
    "*.keytab",
    "*.kdbx",
    "*private*.asc",
    "*private*.gpg",
    "*secret*.asc",
    "*secret*.gpg",
)
# Private keys by their ssh-keygen names, with any suffix (`id_rsa.old`, `id_ed25519_work`)
# except `.pub`: a public key is meant to be shared.
_KEY_NAMES = ("id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "id_xmss*", "identity")
# `.env` variants meant to be committed: names of settings, not their values.
_ENV_TEMPLATES = frozenset({"example", "sample", "template", "tmpl", "tpl", "dist"})
# Folders whose every file is private (public keys aside).
_FOLDERS = ((".ssh",), (".gnupg",), (".config", "gcloud"), (".azure",), (".password-store",))
# Files that are secrets in the folder they live in: the last parts of a path.
_TAILS = (
    (".aws", "credentials"),
    (".aws", "config"),
    (".docker", "config.json"),
    (".kube", "config"),
    (".config", "gh", "hosts.yml"),
    (".composer", "auth.json"),
    (".cargo", "credentials.toml"),
    (".gem", "credentials"),
)

_FOLDER_HEADS = frozenset(run[0] for run in _FOLDERS)
_TAIL_NAMES = frozenset(tail[-1] for tail in _TAILS)


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").lower().split("/") if p and p != "."]


def _is_env_file(name: str) -> bool:
    if name.endswith(".env"):
        return True
    if name.startswith(".env."):
        return name.rsplit(".", 1)[-1] not in _ENV_TEMPLATES
    return False


# Each list of globs as one pattern: a listing judges every file's name against all of them.
_GLOBS_MATCH = re.compile("|".join(f"(?:{translate(p)})" for p in _GLOBS)).match
_KEY_NAMES_MATCH = re.compile("|".join(f"(?:{translate(k)})" for k in _KEY_NAMES)).match


@lru_cache(maxsize=16_384)
def _sensitive_name(name: str) -> bool:
    # by name, remembered: a big repository repeats names (`__init__.py`, `index.ts`)
    if name in _NAMES or _is_env_file(name):
        return True
    if name.split(".", 1)[0] in _STEMS:
        return True
    if _GLOBS_MATCH(name):
        return True
    return not name.endswith(".pub") and _KEY_NAMES_MATCH(name) is not None


def _contains(parts: list[str], run: tuple[str, ...]) -> bool:
    size = len(run)
    return any(tuple(parts[i : i + size]) == run for i in range(len(parts) - size + 1))


def is_sensitive_path(path: str) -> bool:
    """Files never read into a prompt, whatever the settings say (`.env`, keys, credentials).

    `path` is a file path (relative or absolute, either slash) or the name of a document
    that has none; case does not matter."""
    parts = _parts(path)
    if not parts:
        return False
    name = parts[-1]
    if _sensitive_name(name):
        return True
    folders = parts[:-1]
    # the runs are looked for only where their first folder is: most paths have none of them
    if (
        not name.endswith(".pub")
        and not _FOLDER_HEADS.isdisjoint(folders)
        and any(_contains(folders, run) for run in _FOLDERS)
    ):
        return True
    return name in _TAIL_NAMES and any(tuple(parts[-len(tail) :]) == tail for tail in _TAILS)


def is_excluded(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether `path` (relative, with "/") matches an `exclude` glob, by path or by name."""
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch(path, p) or fnmatch(name, p) for p in patterns)
