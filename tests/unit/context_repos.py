"""Fixture repositories (tests/data/repos/<language>) as real git work trees, and the context
the engine builds in them at the cursor drawn in one of their files."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.config import load_settings
from qwen_lsp.context.extract import CursorContext
from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.workspace import Workspace
from qwen_lsp.model import Position

REPOS = Path(__file__).resolve().parents[1] / "data" / "repos"
CURSOR = "█"
# In every fixture: `legacy/` is left out by the exclude setting, and its .gitignore (kept as
# `gitignore` so it does not apply to this repository) names one more folder.
EXCLUDE = ("legacy/*",)


@dataclass
class Checkout:
    root: Path
    path: str  # the file with the cursor, relative to root
    text: str  # its text without the cursor mark
    position: Position


def checkout(language: str, destination: Path, *, git: bool = True) -> Checkout:
    """A copy of the fixture repository in `destination`, with its .gitignore in place and
    the cursor mark taken out of the file that held it."""
    root = destination / language
    shutil.copytree(REPOS / language, root)
    (root / "gitignore").rename(root / ".gitignore")
    if git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        text = file.read_text(encoding="utf-8")
        if CURSOR in text:
            index = text.index(CURSOR)
            before = text[:index]
            line = before.count("\n")
            column = index - (before.rfind("\n") + 1)
            text = text.replace(CURSOR, "", 1)
            file.write_text(text, encoding="utf-8")
            relative = file.relative_to(root).as_posix()
            return Checkout(root, relative, text, Position(line, column))
    raise AssertionError(f"no cursor mark in {REPOS / language}")


def indexed_workspace(root: Path, *, store: Path | None = None, **settings) -> Workspace:
    loaded = load_settings(root, cli={"exclude": list(EXCLUDE), **settings}, env={})
    workspace = Workspace(store)
    workspace.configure(loaded.settings)
    for index in workspace.set_folders([root]):
        for _ in index.refresh():
            pass
    return workspace


def context_at(checkout: Checkout, workspace: Workspace, max_tokens: int = 2048) -> CursorContext:
    document = SourceDocument(checkout.text, language_for(None, checkout.path), encoding="utf-32")
    workspace.opened(checkout.root / checkout.path, document)
    settings = load_settings(checkout.root, cli={"context": {"maxTokens": max_tokens}}, env={})
    return workspace.cursor_context(
        document, checkout.position, path=checkout.path, settings=settings.settings.context
    )


def related_text(ctx: CursorContext) -> str:
    return "\n".join(f"--- {block.path}\n{block.content}" for block in ctx.snippets)
