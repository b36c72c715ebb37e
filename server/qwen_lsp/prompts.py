"""Prompt templates and the completion prompts built from them, one shape per prompt mode.

Templates are files under `prompts/` (shipped inside the package), rendered by replacing
`{{name}}` placeholders in one pass so that code containing braces is never re-expanded.
A template's version is the hash of its text, so editing a template invalidates exactly the
cached answers it shaped. The stable part of a prompt (related code) comes first and the
cursor window last, so providers' prompt caches apply.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qwen_lsp.context.extract import CursorContext
from qwen_lsp.model import GenerationRequest, Message, PromptMode
from qwen_lsp.special_tokens import (
    END_OF_TEXT,
    FILE_SEP,
    FIM_MIDDLE,
    FIM_PREFIX,
    FIM_SUFFIX,
    HOLE,
    IM_END,
    QWEN_STOP_TOKENS,
    REPO_NAME,
)

FIM_FORMAT_VERSION = "qwen-fim-1"

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def packaged_prompts_dir() -> Path:
    """`qwen_lsp/prompt_templates` in an installed wheel, the repository's `prompts/` in a
    checkout."""
    inside = Path(__file__).parent / "prompt_templates"
    return inside if inside.is_dir() else Path(__file__).resolve().parents[2] / "prompts"


@dataclass(frozen=True)
class Template:
    name: str
    text: str

    @property
    def version(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:12]

    def render(self, values: dict[str, str]) -> str:
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), self.text)


class PromptLibrary:
    """Finds templates by name (`completion/chat.system`), user folders before the packaged one."""

    def __init__(self, override_dirs: Sequence[Path] = ()) -> None:
        self._dirs = (*override_dirs, packaged_prompts_dir())

    def get(self, name: str) -> Template:
        return _load(self._dirs, name)


@lru_cache(maxsize=64)
def _load(dirs: tuple[Path, ...], name: str) -> Template:
    for directory in dirs:
        path = directory / f"{name}.md"
        if path.is_file():
            return Template(name, path.read_text(encoding="utf-8").rstrip("\n"))
    raise FileNotFoundError(f"prompt template {name!r} not found in {', '.join(map(str, dirs))}")


@dataclass(frozen=True)
class Snippet:
    """Code from another file, for the repo-level prompt."""

    path: str
    content: str


@dataclass(frozen=True)
class CompletionPrompt:
    request: GenerationRequest
    mode: PromptMode
    template_version: str


def fim_prompt(
    ctx: CursorContext, *, repo_name: str | None = None, snippets: Iterable[Snippet] = ()
) -> str:
    """Qwen's FIM string: file level, or repo level when a repo name or snippets are given."""
    body = f"{FIM_PREFIX}{ctx.prefix}{FIM_SUFFIX}{ctx.suffix}{FIM_MIDDLE}"
    snippets = list(snippets)
    if repo_name is None and not snippets:
        return body
    parts = [f"{REPO_NAME}{repo_name or 'repository'}\n"]
    parts.extend(f"{FILE_SEP}{s.path}\n{s.content}\n" for s in snippets)
    parts.append(f"{FILE_SEP}{ctx.path}\n{body}")
    return "".join(parts)


def related_section(snippets: Iterable[Snippet]) -> str:
    """The chat modes' compact form of the same snippets."""
    blocks = [f"--- {s.path}\n{s.content}\n" for s in snippets]
    return "Related code from the repository:\n" + "".join(blocks) + "\n" if blocks else ""


def build_completion_prompt(
    mode: PromptMode,
    ctx: CursorContext,
    *,
    model: str,
    max_tokens: int,
    temperature: float,
    library: PromptLibrary,
    repo_name: str | None = None,
    snippets: Sequence[Snippet] = (),
) -> CompletionPrompt:
    """The request for a completion at `ctx` in `mode`."""
    language = ctx.language or "text"
    values = {
        "language": language,
        "path": ctx.path or "untitled",
        "prefix": ctx.prefix,
        "suffix": ctx.suffix,
        "hole": HOLE,
        "related": related_section(snippets),
    }
    sampling = {"model": model, "max_tokens": max_tokens, "temperature": temperature}
    if mode is PromptMode.FIM:
        prompt = fim_prompt(ctx, repo_name=repo_name, snippets=snippets)
        request = GenerationRequest(prompt=prompt, stop=QWEN_STOP_TOKENS, **sampling)
        return CompletionPrompt(request, mode, FIM_FORMAT_VERSION)
    name = "partial" if mode is PromptMode.PARTIAL else "chat"
    system = library.get(f"completion/{name}.system")
    user = library.get(f"completion/{name}.user")
    messages = [
        Message("system", system.render(values)),
        Message("user", user.render(values)),
    ]
    if mode is PromptMode.PARTIAL:
        messages.append(Message("assistant", ctx.prefix, partial=True))
    request = GenerationRequest(messages=tuple(messages), stop=(IM_END, END_OF_TEXT), **sampling)
    return CompletionPrompt(request, mode, f"{system.version}.{user.version}")
