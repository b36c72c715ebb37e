"""The dependency rule of DESIGN.md, checked on the source: imports point one way only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "qwen_lsp"

BASE = {"model", "config", "errors", "special_tokens", "log", "privacy"}
# Which parts of qwen_lsp each part may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "cli": {"*"},
    "__main__": {"cli"},
    "doctor": {"*"} - {"lsp", "cli"},
    "prompt_inspector": {"*"} - {"lsp", "cli"},
    "check": {"*"} - {"lsp", "cli"},
    "stats_report": {"engine", "spend", *BASE},  # `qwen-lsp stats`: reads the ledger
    "reporting": {*BASE},  # pure: findings in, report text out
    "lsp": {"engine", "context", "log", *BASE, "__init__"},
    "engine": {"context", "prompts", "postprocess", "providers", "cache", "spend", *BASE},
    "context": BASE,
    "prompts": {"context", *BASE},
    "postprocess": {"context", *BASE},
    "providers": BASE,
    "cache": BASE,
    "spend": BASE,
    "data": set(),
    "config": {"model", "errors"},
    "model": set(),
    "errors": set(),
    "special_tokens": set(),
    "privacy": set(),
    "log": set(),
    "__init__": set(),
}
PROTOCOL_LIBRARIES = {"pygls", "lsprotocol"}
SDKS = {"openai", "dashscope", "httpx", "httpx2"}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def part_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def test_every_part_has_a_rule():
    parts = {part_of(p) for p in PACKAGE.rglob("*.py")}
    assert parts <= set(ALLOWED), f"add a layering rule for {parts - set(ALLOWED)}"


def test_imports_point_one_way():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        part = part_of(path)
        for name in imports_of(path):
            top = name.split(".")[0]
            if top in PROTOCOL_LIBRARIES and part != "lsp":
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}: only lsp/ may")
            if top in SDKS and not (part == "providers" and path.stem in {"openai", "dashscope"}):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}: only its provider may")
            if top != "qwen_lsp" or name == "qwen_lsp":
                continue
            target = name.split(".")[1]
            allowed = ALLOWED[part]
            if target != part and "*" not in allowed and target not in allowed:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
            if "*" in allowed and target in {"lsp", "cli"} and part not in {"cli", "__main__"}:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert wrong == []


def reads_environment(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in {"environ", "getenv"} for alias in node.names)
        ):
            return True
    return False


def test_only_config_reads_the_environment():
    readers = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if reads_environment(path)
    ]
    assert readers == ["config.py"]


def test_starting_the_server_imports_no_sdk():
    code = (
        "import sys; import qwen_lsp.lsp.server, qwen_lsp.engine.completion, qwen_lsp.providers; "
        "print(sorted(m for m in ('openai', 'dashscope') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
