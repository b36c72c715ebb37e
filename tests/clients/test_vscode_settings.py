"""The VS Code extension's settings mirror the server's schema, and the server accepts them.

`editors/vscode/package.json` contributes `qwen-lsp.*` settings generated from the server's
typed settings by `editors/vscode/scripts/sync_settings.py`; a setting added to the server
without running it fails here. And what the extension sends (every contributed value, in VS
Code's JSON shapes: arrays, null) must validate on the server without a single complaint.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

from qwen_lsp.config import Settings, schema_keys, validate

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


def test_an_untrusted_folder_cannot_choose_the_server_or_the_endpoint():
    restricted = _manifest()["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
    for key in ("server.path", "provider", "baseUrl"):
        assert PREFIX + key in restricted
