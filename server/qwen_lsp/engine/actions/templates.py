"""The templates of code actions, from the project, the user or the package.

An action's prompt is `actions/system.md` (or `actions/explain.system.md`) plus
`actions/<action>.md`, each looked up first in the project's `.qwen-lsp/prompts/`, then in
the user's `<config dir>/qwen-lsp/prompts/`, then among the shipped templates. A project's
templates travel with someone else's repository, so they are read through the workspace's
door (`context/files.py`): a regular file, not too large, that really lives inside that
workspace (a link out of it, into .git/ or to a secrets file is ignored; git's ignore rules
do not apply, a user may keep `.qwen-lsp/` out of git). Templates have no include directive:
the only text that reaches the model is the template's own and the placeholders the server
fills in. Overrides are read afresh for every action (nothing next to a model call), so an
edited template applies at once, and a template's version (the hash of its text) is part of
the answer's cache key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.context.files import MISSING, ReadPolicy, Refusal, WorkspaceFiles
from qwen_lsp.prompts import PromptLibrary, Template

log = logging.getLogger(__name__)

MAX_TEMPLATE_BYTES = 64 * 1024
PROJECT_PROMPTS = Path(".qwen-lsp") / "prompts"
_PACKAGED = PromptLibrary()


@dataclass(frozen=True)
class PromptSources:
    """Where users keep their own templates."""

    workspace: Path | None = None  # its `.qwen-lsp/prompts/` overrides, confined to it
    user_dir: Path | None = None  # `<config dir>/qwen-lsp/prompts/`, the user's own


def load_template(sources: PromptSources, name: str) -> Template:
    """The template `name` ("actions/fix"): project override, user override, or shipped."""
    if sources.workspace is not None:
        text = _read_project(sources.workspace, name)
        if text is not None:
            return Template(name, text)
    if sources.user_dir is not None:
        text = _read_user(sources.user_dir, name)
        if text is not None:
            return Template(name, text)
    return _PACKAGED.get(name)


def _read_project(workspace: Path, name: str) -> str | None:
    door = WorkspaceFiles(workspace, ReadPolicy(max_file_size=MAX_TEMPLATE_BYTES))
    got = door.read(PROJECT_PROMPTS / f"{name}.md", ignored_ok=True)
    if isinstance(got, Refusal):
        if got.kind != MISSING:
            log.warning("ignoring prompt template %s; using the shipped one", got)
        return None
    return got.rstrip("\n")


def _read_user(folder: Path, name: str) -> str | None:
    """The user's own template: their folder, their links."""
    path = folder / f"{name}.md"
    try:
        if not path.is_file():
            return None
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            log.warning("ignoring prompt template %s: over %d bytes", path, MAX_TEMPLATE_BYTES)
            return None
        return path.read_text(encoding="utf-8").rstrip("\n")
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read prompt template %s (%s); using the shipped one", path, exc)
        return None
