"""The completion use case: from a document and a cursor to suggestions.

should we complete → context → prompt (per mode) → cache → provider → post-process → cache
store (off the response path). Prompt modes are probed here: an `UnsupportedMode` answer
moves to the next mode the wire offers, and the mode that worked is remembered.
"""

from __future__ import annotations

import fnmatch
import logging
from dataclasses import dataclass

from qwen_lsp import errors
from qwen_lsp.cache import answer_key
from qwen_lsp.context.extract import CursorContext, extract_window
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import Generation, Position, PromptMode, Suggestion
from qwen_lsp.postprocess import FilterContext, postprocess
from qwen_lsp.privacy import is_sensitive_path
from qwen_lsp.prompts import CompletionPrompt, build_completion_prompt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompletionTarget:
    """Where a completion is asked: the document, the cursor and what names the file."""

    document: SourceDocument
    position: Position
    path: str = ""  # relative to the workspace, as the model sees it
    language_id: str | None = None  # as the editor names it


def is_excluded(path: str, patterns: tuple[str, ...]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(name, p) for p in patterns)


def unsuitable_file(runtime: Runtime, target: CompletionTarget) -> str | None:
    """Why this file gets no completions at all: said to the user once per file."""
    if target.document.size > runtime.settings.max_file_size:
        return (
            f"qwen-lsp: {target.path or 'this file'} is larger than maxFileSize "
            f"({runtime.settings.max_file_size} bytes): no completions there"
        )
    if "\x00" in target.document.text:
        return f"qwen-lsp: {target.path or 'this file'} looks binary: no completions there"
    return None


def skip_reason(runtime: Runtime, target: CompletionTarget) -> str | None:
    """Why no completion should be asked here, or None to go ahead."""
    settings = runtime.settings
    if not settings.completion.enabled:
        return "completions are turned off"
    if target.language_id in settings.completion.disabled_languages:
        return f"completions are off for {target.language_id}"
    if is_excluded(target.path, settings.exclude):
        return f"{target.path} matches the exclude setting"
    if is_sensitive_path(target.path):
        return f"{target.path} may hold secrets; its text is never sent"
    if runtime.paused():
        return "waiting for the endpoint's rate limit to pass"
    return None


def cursor_context(runtime: Runtime, target: CompletionTarget) -> CursorContext:
    return extract_window(
        target.document,
        target.position,
        max_tokens=runtime.settings.context.max_tokens,
        path=target.path,
    )


def prompt_for(runtime: Runtime, mode: PromptMode, ctx: CursorContext) -> CompletionPrompt:
    settings = runtime.settings
    return build_completion_prompt(
        mode,
        ctx,
        model=settings.completion_model,
        max_tokens=settings.completion.max_tokens,
        temperature=settings.completion.temperature,
        library=runtime.prompts,
    )


async def complete(runtime: Runtime, target: CompletionTarget) -> list[Suggestion]:
    """Suggestions at the cursor; [] when there are none or the provider failed (reported)."""
    reason = skip_reason(runtime, target)
    if reason is not None:
        log.debug("no completion: %s", reason)
        return []
    unsuitable = unsuitable_file(runtime, target)
    if unsuitable is not None:
        runtime.tell_once(f"unsuitable:{target.path}", unsuitable)
        return []
    try:
        provider = runtime.provider()
        ctx = cursor_context(runtime, target)
        generation, mode, cached = await _generate(runtime, provider, ctx)
    except errors.QwenLspError as exc:
        runtime.fail(exc)
        return []
    runtime.succeed()
    return _suggestions(generation, ctx, mode, target.position, cached)


async def _generate(runtime: Runtime, provider, ctx: CursorContext):
    settings = runtime.settings
    model = settings.completion_model
    modes = runtime.candidate_modes(provider, model)
    last_error: errors.UnsupportedMode | None = None
    for mode in modes:
        prompt = prompt_for(runtime, mode, ctx)
        key = answer_key(
            provider=settings.provider,
            base_url=runtime.loaded.base_url,
            mode=mode.value,
            template_version=prompt.template_version,
            request=prompt.request,
        )
        cached = runtime.cache.get(key)
        if cached is not None:
            runtime.ledger.record_saved("completion", cached.model or model, cached.usage)
            return cached, mode, True
        try:
            generation = await provider.generate(
                prompt.request, timeout=settings.completion.timeout_ms / 1000
            )
        except errors.UnsupportedMode as exc:
            log.info("%s does not take prompt mode %s: %s", model, mode.value, exc)
            last_error = exc
            continue
        runtime.ledger.record_call("completion", generation.model or model, generation.usage)
        runtime.cache.set(key, generation, background=True)
        if settings.forced_mode is None:
            runtime.modes.remember(settings.provider, runtime.loaded.base_url, model, mode)
        return generation, mode, False
    raise last_error or errors.UnsupportedMode(f"no prompt mode offered for {model}")


def _suggestions(
    generation: Generation, ctx: CursorContext, mode: PromptMode, at: Position, cached: bool
) -> list[Suggestion]:
    filter_ctx = FilterContext(
        prefix=ctx.prefix,
        suffix=ctx.suffix,
        language=ctx.language,
        from_chat=mode is not PromptMode.FIM,
    )
    seen: set[str] = set()
    out: list[Suggestion] = []
    for text in generation.texts:
        cleaned = postprocess(text, filter_ctx)
        if cleaned is None or cleaned in seen:
            continue
        seen.add(cleaned)
        out.append(Suggestion(cleaned, at, at, from_cache=cached))
    return out
