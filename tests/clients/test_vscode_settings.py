"""The VS Code extension's settings and the README's settings table mirror the server's schema.

`editors/vscode/package.json` contributes `qwen-lsp.*` settings, and lists the ones Restricted
Mode keeps from an untrusted folder, generated from the server's typed settings by
`editors/vscode/scripts/sync_settings.py`, which also writes the trust column of the README's
settings table; a setting added or reclassified without running it fails here. And what the
extension sends (every contributed value, in VS Code's JSON shapes: arrays, null) must validate
on the server without a single complaint.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from qwen_lsp.config import Settings, schema_keys, trust_of, validate

REPO = Path(__file__).resolve().parents[2]
EXTENSION = REPO / "editors" / "vscode"
PREFIX = "qwen-lsp."


def _sync_script() -> ModuleType:
    path = EXTENSION / "scripts" / "sync_settings.py"
    spec = importlib.util.spec_from_file_location("sync_settings", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _manifest() -> dict[str, Any]:
    return json.loads((EXTENSION / "package.json").read_text("utf-8"))


def _server_properties() -> dict[str, dict[str, Any]]:
    props = _manifest()["contributes"]["configuration"]["properties"]
    return {k[len(PREFIX) :]: v for k, v in props.items() if not k.startswith(PREFIX + "server.")}


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for dotted, value in flat.items():
        *parents, leaf = dotted.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def test_package_json_is_generated_from_the_current_schema():
    sync = _sync_script()
    current = (EXTENSION / "package.json").read_text("utf-8")
    assert current == sync.render(sync.updated_manifest(json.loads(current))), (
        "editors/vscode/package.json does not match the server's settings: "
        "run `python editors/vscode/scripts/sync_settings.py`"
    )


def test_every_editor_setting_of_the_server_is_contributed_and_no_secret_is():
    contributed = set(_server_properties())
    assert contributed == set(schema_keys()) - {"apiKey", "trustedFolders"}
    assert not any("apikey" in key.lower() for key in contributed)


def test_what_vscode_sends_validates_on_the_server_without_complaint():
    # VS Code sends JSON: lists for tuples, null for unset optional values.
    defaults = {key: schema["default"] for key, schema in _server_properties().items()}
    settings, problems = validate(_nested(defaults))
    assert problems == []
    assert settings == Settings()


def test_enums_and_bounds_match_what_the_server_enforces():
    props = _server_properties()
    assert props["provider"]["enum"] == ["dashscope", "openai", "openai-compatible"]
    assert props["completion.maxTokens"]["minimum"] == 1
    assert props["completion.maxTokens"]["maximum"] == 4096
    for key, schema in props.items():
        if "maximum" in schema:
            _, problems = validate(_nested({key: schema["maximum"] + 1}))
            assert problems, f"{key}: the server accepted a value above the contributed maximum"
        if "enum" in schema:
            _, problems = validate(_nested({key: "not-a-choice"}))
            assert problems, f"{key}: the server accepted a value outside the contributed enum"


def test_an_untrusted_folder_can_set_only_the_free_settings():
    untrusted = _manifest()["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    restricted = set(untrusted["restrictedConfigurations"])
    for key in ("server.path", "provider", "baseUrl", "cache.dir", "logFile", "exclude"):
        assert PREFIX + key in restricted
    for key in ("privacy.localOnly", "spend.dailyLimit", "review.promptDir", "model"):
        assert PREFIX + key in restricted
    assert restricted == {PREFIX + "server.path"} | {
        PREFIX + key for key in _server_properties() if trust_of(key) != "free"
    }
    assert PREFIX + "language" not in restricted


def _readme_table() -> dict[str, list[str]]:
    lines = (REPO / "README.md").read_text("utf-8").splitlines()
    start = lines.index("| key | default | environment | trust | meaning |")
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("| "):
            break
        cells = line[2:-2].split(" | ")
        rows[cells[0].strip("`")] = cells
    return rows


def test_readme_settings_table_is_generated_from_the_current_schema():
    sync = _sync_script()
    current = (REPO / "README.md").read_text("utf-8")
    assert current == sync.updated_readme(current), (
        "the README's settings table does not match the server's settings: "
        "run `python editors/vscode/scripts/sync_settings.py`"
    )
    table = _readme_table()
    assert sorted(table) == sorted(schema_keys())
    assert table["cache.dir"][3] == "user-only"
    assert table["model"][3] == "trusted-only"
    assert table["exclude"][3].startswith("narrow-only")
    assert table["language"][3] == "free"


def test_the_readme_table_gains_a_row_for_a_new_key_and_loses_a_removed_one():
    sync = _sync_script()
    current = (REPO / "README.md").read_text("utf-8")
    row = next(line for line in current.splitlines() if line.startswith("| `language` |"))
    stale = current.replace(row, "| `gone` | `1` | `QWEN_LSP_GONE` | free | Removed. |")
    table = sync.updated_readme(stale).split("| key | default |", 1)[1].split("\n\n", 1)[0]
    assert "`gone`" not in table
    last = table.rstrip().splitlines()[-1]
    assert last.startswith('| `language` | `"auto"` | `QWEN_LSP_LANGUAGE` | free | ')
