"""Writes what is derived from the server's typed settings schema: the VS Code extension's
`qwen-lsp.*` settings and its Restricted Mode list, and the trust column of the README's table.

The server's `Settings` dataclasses (server/qwen_lsp/config.py) are the one source of truth:
names, types, defaults, allowed values, bounds, descriptions and trust classes. This script
turns them into

- `contributes.configuration` of editors/vscode/package.json, so VS Code's settings UI,
  validation and completion in settings.json match the server exactly. Keys that never come
  from an editor (the API key, the user-file-only trusted folders) are left out;
  `qwen-lsp.server.path`, the extension's own setting, comes first;
- `capabilities.untrustedWorkspaces` of package.json: in Restricted Mode a folder's own
  settings (.vscode/settings.json travels with the repository, like a project file) cannot
  set `server.path` nor any setting whose trust class is not `free`;
- the settings table of README.md: one row per key, in the README's order (a new key is added
  at the end with the schema's default and doc, a removed one is dropped), its `trust` column
  always the schema's; the other cells are the README's own words.

tests/clients/test_vscode_settings.py fails when either file is out of date.

    python editors/vscode/scripts/sync_settings.py          # rewrite package.json and README.md
    python editors/vscode/scripts/sync_settings.py --check  # exit 1 when one is out of date
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from qwen_lsp.config import (
    Settings,
    camel,
    env_name,
    schema_keys,
    setting_field,
    trust_label,
    trust_of,
)

PACKAGE_JSON = Path(__file__).resolve().parents[1] / "package.json"
README = Path(__file__).resolve().parents[3] / "README.md"
PREFIX = "qwen-lsp."

# Keys an editor never sends: a key lives in SecretStorage, trusted folders in the user file.
NOT_FROM_EDITOR = {"apiKey", "trustedFolders"}

# The extension's own settings an untrusted folder may not choose: which program runs.
CLIENT_RESTRICTED = ["server.path"]
UNTRUSTED_DESCRIPTION = (
    "In an untrusted folder, its own settings can set only the free settings of the server: "
    "not the server command, where code and keys go, what it costs, which files are read or "
    "written, nor what is kept private, so a cloned repository cannot turn them against you."
)

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


def restricted() -> list[str]:
    """What Restricted Mode keeps from a folder's own settings: every contributed setting that
    is not free, in the schema's order, after the extension's own."""
    keys = [key for key in schema_keys() if key not in NOT_FROM_EDITOR and trust_of(key) != "free"]
    return [PREFIX + key for key in CLIENT_RESTRICTED + keys]


def updated_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    manifest = json.loads(json.dumps(manifest))
    manifest["contributes"]["configuration"]["properties"] = properties()
    manifest["capabilities"]["untrustedWorkspaces"] = {
        "supported": "limited",
        "description": UNTRUSTED_DESCRIPTION,
        "restrictedConfigurations": restricted(),
    }
    return manifest


# -- the README's settings table ------------------------------------------------------------

TABLE_HEADER = "| key | default | environment | trust | meaning |"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _new_row(key: str) -> list[str]:
    """Cells of a key the README does not have yet: the schema's default (as JSON, like the
    rows written by hand) and doc."""
    f = setting_field(key)[0]
    value = _default(f)
    default = "unset" if value is None else f"`{json.dumps(value)}`"
    doc = f.metadata.get("doc", "")
    return [f"`{key}`", default, f"`{env_name(key)}`", trust_label(key), doc]


def updated_readme(text: str) -> str:
    """README.md with its settings table's rows matching the schema and its trust column
    generated; everything else as it was."""
    lines = text.split("\n")
    try:
        start = lines.index(TABLE_HEADER)
    except ValueError:
        raise SystemExit(f"{README}: no settings table (a line {TABLE_HEADER!r})") from None
    end = start + 2
    while end < len(lines) and lines[end].startswith("| "):
        end += 1
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 : end]:
        cells = line[2:-2].split(" | ")
        if len(cells) != 5 or not cells[0].startswith("`"):
            raise SystemExit(f"{README}: cannot read the settings table row {line!r}")
        rows[cells[0].strip("`")] = cells
    keys = schema_keys()
    table = [TABLE_HEADER, "|---|---|---|---|---|"]
    for key in [k for k in rows if k in keys] + [k for k in keys if k not in rows]:
        cells = rows.get(key) or _new_row(key)
        cells[3] = trust_label(key)
        table.append(_row(cells))
    return "\n".join(lines[:start] + table + lines[end:])


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when stale")
    args = parser.parse_args(argv)
    stale = 0
    current = PACKAGE_JSON.read_text("utf-8")
    outputs = [
        (PACKAGE_JSON, current, render(updated_manifest(json.loads(current)))),
        (README, README.read_text("utf-8"), updated_readme(README.read_text("utf-8"))),
    ]
    for path, now, wanted in outputs:
        if now == wanted:
            continue
        if args.check:
            print(f"{path} is out of date: run {Path(__file__).name}", file=sys.stderr)
            stale = 1
        else:
            path.write_text(wanted, "utf-8")
            print(f"updated {path}")
    return stale


if __name__ == "__main__":
    sys.exit(main())
