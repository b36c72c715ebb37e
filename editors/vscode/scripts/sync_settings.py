"""Writes the VS Code extension's `qwen-lsp.*` settings from the server's typed settings schema.

The server's `Settings` dataclasses (server/qwen_lsp/config.py) are the one source of truth:
names, types, defaults, allowed values, bounds and descriptions. This script turns them into
`contributes.configuration` of editors/vscode/package.json, so VS Code's settings UI, validation
and completion in settings.json match the server exactly. Keys that never come from an editor
(the API key, the user-file-only trusted folders) are left out; `qwen-lsp.server.path`, the
extension's own setting, comes first. tests/clients/test_vscode_settings.py fails when the file
is out of date.

    python editors/vscode/scripts/sync_settings.py          # rewrite package.json
    python editors/vscode/scripts/sync_settings.py --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from qwen_lsp.config import Settings, camel

PACKAGE_JSON = Path(__file__).resolve().parents[1] / "package.json"
PREFIX = "qwen-lsp."

# Keys an editor never sends: a key lives in SecretStorage, trusted folders in the user file.
NOT_FROM_EDITOR = {"apiKey", "trustedFolders"}

# What an untrusted folder's own settings may not choose (VS Code's Restricted Mode): where code
# and keys go, which program runs, and which files are read or written outside the project.
RESTRICTED = [
    "server.path",
    "provider",
    "baseUrl",
    "privacy.localOnly",
    "privacy.sendIgnoredFiles",
    "spend.priceFile",
    "cache.dir",
    "logFile",
]

CLIENT_SETTINGS: dict[str, dict[str, Any]] = {
    "server.path": {
        "type": "string",
        "default": "",
        "markdownDescription": (
            "Command that starts the server (`--stdio` is appended), for example "
            "`~/.venv/bin/qwen-lsp`; `~` and `${workspaceFolder}` are expanded. "
            "Empty: `qwen-lsp` from `PATH`."
        ),
    },
}


def _is_optional(annotation: Any) -> bool:
    origin = get_origin(annotation)
    return (origin is Union or origin is types.UnionType) and type(None) in get_args(annotation)


def _inner(annotation: Any) -> Any:
    return next(a for a in get_args(annotation) if a is not type(None))


def _json_type(annotation: Any) -> dict[str, Any]:
    """The JSON schema of one leaf setting's Python type."""
    if _is_optional(annotation):
        schema = _json_type(_inner(annotation))
        schema["type"] = [schema["type"], "null"]
        return schema
    origin = get_origin(annotation)
    if origin is Literal:
        return {"type": "string", "enum": list(get_args(annotation))}
    if origin is tuple:
        item = get_args(annotation)[0]
        if dataclasses.is_dataclass(item):
            return {"type": "array", "items": _record_schema(item)}
        return {"type": "array", "items": _json_type(item)}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if annotation in simple:
        return {"type": simple[annotation]}
    raise TypeError(f"no JSON schema for setting type {annotation!r}")


def _record_schema(cls: type) -> dict[str, Any]:
    """A table in a list (`actions.custom` entries): its keys, required ones marked."""
    hints = get_type_hints(cls)
    properties = {}
    required = []
    for f in dataclasses.fields(cls):
        properties[camel(f.name)] = {
            **_json_type(hints[f.name]),
            "markdownDescription": f.metadata.get("doc", ""),
        }
        if f.metadata.get("required"):
            required.append(camel(f.name))
    return {"type": "object", "properties": properties, "required": required}


def _number(value: Any) -> Any:
    """2.0 as 2: how JavaScript writes it, so npm rewriting package.json changes nothing."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _default(f: dataclasses.Field[Any]) -> Any:
    value = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
    return list(value) if isinstance(value, tuple) else _number(value)


def _leaves(cls: type, prefix: str = "") -> list[tuple[str, dataclasses.Field[Any], Any]]:
    hints = get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        key = prefix + camel(f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            out.extend(_leaves(hints[f.name], key + "."))
        else:
            out.append((key, f, hints[f.name]))
    return out


def properties() -> dict[str, dict[str, Any]]:
    """Every contributed `qwen-lsp.*` setting, in the schema's order."""
    props = {PREFIX + key: dict(value) for key, value in CLIENT_SETTINGS.items()}
    for key, f, annotation in _leaves(Settings):
        if key in NOT_FROM_EDITOR:
            continue
        schema = _json_type(annotation)
        schema["default"] = _default(f)
        if "min" in f.metadata:
            schema["minimum"] = _number(f.metadata["min"])
        if "max" in f.metadata:
            schema["maximum"] = _number(f.metadata["max"])
        schema["markdownDescription"] = f.metadata.get("doc", "")
        props[PREFIX + key] = schema
    return props


def updated_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    manifest = json.loads(json.dumps(manifest))
    manifest["contributes"]["configuration"]["properties"] = properties()
    untrusted = manifest["capabilities"]["untrustedWorkspaces"]
    untrusted["restrictedConfigurations"] = [PREFIX + key for key in RESTRICTED]
    return manifest


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when stale")
    args = parser.parse_args(argv)
    current = PACKAGE_JSON.read_text("utf-8")
    wanted = render(updated_manifest(json.loads(current)))
    if args.check:
        if current != wanted:
            print(f"{PACKAGE_JSON} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        PACKAGE_JSON.write_text(wanted, "utf-8")
        print(f"updated {PACKAGE_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
