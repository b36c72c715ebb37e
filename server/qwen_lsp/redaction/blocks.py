"""Rules over blocks of lines and whole texts: Kubernetes Secret data, Terraform variable
defaults, high-entropy strings assigned to anything."""

from __future__ import annotations

import base64
import re

from qwen_lsp.redaction.names import is_password, is_secret_name
from qwen_lsp.redaction.values import (
    HASH_PREFIX,
    NUMBERISH,
    Span,
    looks_random,
    quoted_secret,
    stand_in,
)

_K8S_SECRET = re.compile(r"^kind:\s*[\"']?Secret[\"']?\s*$", re.MULTILINE)
_K8S_DATA = re.compile(r"^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*$", re.MULTILINE)
_YAML_ENTRY = re.compile(
    r"^[ \t]+[\"']?[\w.\-]+[\"']?:[ \t]*"
    r"(?P<quote>[\"']?)(?P<value>[^\s\"'|>#][^\s\"']*)(?P=quote)[ \t]*$"
)
_K8S_BASE64_ENTRY = re.compile(
    r"^[ \t]+[\"']?[\w.\-]+[\"']?:[ \t]*(?P<value>[A-Za-z0-9+/]{8,}={0,2})[ \t]*$", re.MULTILINE
)
_TF_VARIABLE = re.compile(r"""^\s*variable\s+"(?P<name>[^"]+)"\s*\{""", re.MULTILINE)
_TF_DEFAULT = re.compile(r"""^\s*default\s*=\s*"(?P<value>[^"\n]+)"|^\s*\}""", re.MULTILINE)


def find_kubernetes_secret_data(text: str, spans: list[Span]) -> None:
    """Every value under `data:` or `stringData:` of a Kubernetes Secret: its keys are any
    names, and `data` holds base64 that hides a secret from every other rule."""
    if "kind:" not in text or not _K8S_SECRET.search(text):
        return
    for block in _K8S_DATA.finditer(text):
        indent = len(block.group("indent"))
        at = block.end() + 1
        while at < len(text):
            end = text.find("\n", at)
            end = len(text) if end == -1 else end
            line = text[at:end]
            if line.strip():
                entry = _YAML_ENTRY.match(line)
                if len(line) - len(line.lstrip()) <= indent or entry is None:
                    break
                value = entry.group("value")
                if len(value) >= 4 and not stand_in(value):
                    spans.append((at + entry.start("value"), at + entry.end("value"), "k8s-secret"))
            at = end + 1
    # Entries cut off from their block (the code after the cursor, sent in another message):
    # base64 values of a Secret are secrets wherever they stand.
    for entry in _K8S_BASE64_ENTRY.finditer(text):
        if _is_base64(entry.group("value")):
            spans.append((*entry.span("value"), "k8s-secret"))


def _is_base64(value: str) -> bool:
    if len(value) % 4:
        return False
    try:
        base64.b64decode(value, validate=True)
    except ValueError:
        return False
    return True


def find_terraform_defaults(text: str, spans: list[Span]) -> None:
    """variable "db_password" { default = "..." }: the name is on another line."""
    if "variable" not in text:
        return
    for variable in _TF_VARIABLE.finditer(text):
        name = variable.group("name")
        if not is_secret_name(name):
            continue
        found = _TF_DEFAULT.search(text, variable.end())
        value = None if found is None else found.group("value")
        if value is not None and quoted_secret(value, password=is_password(name)):
            spans.append((*found.span("value"), "terraform-default"))  # type: ignore[union-attr]


# -- any quoted string assigned to something, checked for entropy -----------------------------

_ANY_ASSIGNED_STRING = re.compile(
    r"""(?P<op>(?::=|=|:|=>)\s*)(?P<quote>["'])(?P<value>[A-Za-z0-9+/=_\-.]{20,})(?P=quote)"""
)


def find_random_assigned(text: str, spans: list[Span]) -> None:
    for match in _ANY_ASSIGNED_STRING.finditer(text):
        value = match.group("value")
        if (
            looks_random(value)
            and not HASH_PREFIX.match(value)
            and not NUMBERISH.match(value)
            and not _encoded_prose(value)
        ):
            spans.append((*match.span("value"), "high-entropy"))


def _encoded_prose(value: str) -> bool:
    """Base64 of plain words ("These aren't the droids..."): an example, not a key."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return False
    return decoded.isprintable() and decoded.count(" ") >= 2
