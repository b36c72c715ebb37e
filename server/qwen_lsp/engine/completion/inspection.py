"""The prompt inspector's use case: the exact prompt a completion would send at a position,
cut into sections with their token counts. Sends nothing.

Shared by `qwen-lsp prompt FILE:LINE:COL` and the `qwen-lsp.inspectPrompt` command. The
prompt goes through the same context and prompt code as a completion, in the mode the server
would use (forced by settings, else remembered for the endpoint, else the first the wire
offers), with secrets redacted as they would be at the door to the model. Tokens are counted
with Qwen's tokenizer when it is installed, else estimated (`counted` says which).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.tokenizer import qwen_token_counter
from qwen_lsp.engine.completion.complete import CompletionTarget, cursor_context, prompt_for
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import PromptMode
from qwen_lsp.prompts import related_section
from qwen_lsp.providers import create_provider
from qwen_lsp.providers.redacting import redact_request
from qwen_lsp.special_tokens import FILE_SEP, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, REPO_NAME


@dataclass(frozen=True)
class Section:
    name: str  # "repository", "related code: pkg/geometry.py", "prefix", "suffix", ...
    tokens: int


@dataclass(frozen=True)
class PromptInspection:
    mode: PromptMode
    model: str
    endpoint: str
    text: str  # the raw FIM prompt, or the chat messages one after the other
    sections: tuple[Section, ...]
    total: int
    counted: str  # "exact" (Qwen's tokenizer) or "estimated"


def inspect_prompt(
    runtime: Runtime, target: CompletionTarget, *, exact: bool = True
) -> PromptInspection:
    """The prompt a completion at `target` would send, and the tokens of each of its parts."""
    counter = qwen_token_counter() if exact else None
    count: Callable[[str], int] = counter or estimate_tokens
    ctx = cursor_context(runtime, target)
    provider = create_provider(runtime.endpoint(1.0))  # knowing the modes needs no key
    model = runtime.settings.completion_model
    mode = runtime.candidate_modes(provider, model)[0]
    request = redact_request(prompt_for(runtime, mode, ctx).request)
    related = [
        (f"related code: {block.path} ({', '.join(block.sources)})", block)
        for block in ctx.snippets
    ]
    sections: list[Section] = []
    if request.prompt is not None:
        text = request.prompt
        if ctx.repo_name is not None:
            sections.append(Section("repository", count(f"{REPO_NAME}{ctx.repo_name}\n")))
        # The current file's excerpt opens that file's own block (it is named once).
        sections.extend(
            Section(
                name,
                count(
                    f"{block.content}\n\n"
                    if block.path == ctx.path
                    else f"{FILE_SEP}{block.path}\n{block.content}\n"
                ),
            )
            for name, block in related
        )
        if ctx.repo_name is not None:
            sections.append(Section(f"current file: {ctx.path}", count(f"{FILE_SEP}{ctx.path}\n")))
        sections.append(Section("prefix", count(FIM_PREFIX + ctx.prefix)))
        sections.append(Section("suffix", count(FIM_SUFFIX + ctx.suffix + FIM_MIDDLE)))
    else:
        text = "\n".join(
            f"--- {m.role}{' (partial: the model continues it)' if m.partial else ''}\n{m.content}"
            for m in request.messages
        )
        parts = [
            Section("related code", count(related_section(block for _, block in related)))
            if related
            else None,
            Section("prefix", count(ctx.prefix)),
            Section("suffix", count(ctx.suffix)),
        ]
        shown = [part for part in parts if part is not None]
        whole = sum(count(m.content) for m in request.messages)
        sections.append(
            Section("instructions and template", max(whole - sum(s.tokens for s in shown), 0))
        )
        sections.extend(shown)
    total = (
        count(text)
        if request.prompt is not None
        else sum(count(m.content) for m in request.messages)
    )
    return PromptInspection(
        mode=mode,
        model=request.model,
        endpoint=runtime.loaded.base_url or runtime.settings.provider,
        text=text,
        sections=tuple(sections),
        total=total,
        counted="exact" if counter is not None else "estimated",
    )
