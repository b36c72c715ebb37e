"""The completion use case: from a document and a cursor to suggestions, paying as little as
possible for them.

should we complete → typing-through reuse (the user typed the start of a suggestion: the rest,
no request) → an in-flight request this one continues (await it, no new request) → adaptive
debounce (none for a manual trigger; a newer keystroke cancels) → context → prompt (per mode)
→ the paid call (`engine/ask.py`: cache, breaker, budget, provider, prompt modes probed) →
post-process → remember the continuation for the next keys. A reached budget means no
answer, said once; every answer served without a request goes into the spend ledger.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from qwen_lsp import errors
from qwen_lsp.context.extract import CursorContext
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.ask import ModeProbe, Prompt, Question, Spending, cache_key, get_answer
from qwen_lsp.engine.completion.reuse import MAX_TYPED_AHEAD, Anchor, Remembered
from qwen_lsp.engine.completion.sessions import DocumentSession, Ticket
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import GenerationRequest, Position, PromptMode, Suggestion
from qwen_lsp.postprocess import FilterContext, SyntaxProbe, process
from qwen_lsp.prompts import CompletionPrompt, Snippet, build_completion_prompt
from qwen_lsp.spend import BudgetState

log = logging.getLogger(__name__)

FEATURE = "completion"
# Wires whose servers answer several candidates in one request (`n`).
_MULTI_CANDIDATE_PROVIDERS = ("openai", "openai-compatible")


@dataclass(frozen=True)
class CompletionTarget:
    """Where a completion is asked: the document, the cursor and what names the file."""

    document: SourceDocument
    position: Position
    path: str = ""  # relative to the workspace, as the model sees it
    language_id: str | None = None  # as the editor names it
    key: str = ""  # identifies the document across requests (its URI); default: `path`
    file: Path | None = None  # where the document is on disk, when it is a file
    feature: str = FEATURE  # what the spend ledger files its calls under ("eval" for eval)


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


def why_not_completed(runtime: Runtime, target: CompletionTarget) -> str | None:
    """Why no completion should be asked here, or None to go ahead."""
    settings = runtime.settings
    if not settings.completion.enabled:
        return "completions are turned off"
    if target.language_id in settings.completion.disabled_languages:
        return f"completions are off for {target.language_id}"
    refused = runtime.workspace.why_not_sent(target.file, target.path)
    if refused is not None:
        return refused
    if runtime.paused():
        return "waiting for the endpoint's rate limit to pass"
    return None


def cursor_context(runtime: Runtime, target: CompletionTarget) -> CursorContext:
    """The window around the cursor and the related code of the workspace, within
    `context.maxTokens` (see engine/workspace.py)."""
    return runtime.workspace.cursor_context(
        target.document, target.position, path=target.path, settings=runtime.settings.context
    )


def prompt_for(runtime: Runtime, mode: PromptMode, ctx: CursorContext) -> CompletionPrompt:
    settings = runtime.settings
    prompt = build_completion_prompt(
        mode,
        ctx,
        model=settings.completion_model,
        max_tokens=settings.completion.max_tokens,
        temperature=settings.completion.temperature,
        library=runtime.prompts,
        repo_name=ctx.repo_name,
        snippets=[Snippet(block.path, block.content) for block in ctx.snippets],
    )
    candidates = settings.completion.candidates
    if candidates > 1 and settings.provider in _MULTI_CANDIDATE_PROVIDERS:
        prompt = replace(prompt, request=replace(prompt.request, n=candidates))
    return prompt


def debounce_delay(runtime: Runtime, session: DocumentSession) -> float:
    """Seconds to wait after a keystroke: the setting, else learnt from the typing."""
    fixed = runtime.settings.completion.debounce_ms
    return fixed / 1000 if fixed is not None else session.rhythm.delay()


async def complete(
    runtime: Runtime, target: CompletionTarget, *, manual: bool = False
) -> list[Suggestion]:
    """Suggestions at the cursor; [] when there are none, a newer request superseded this
    one, or the provider failed (reported once). `manual`: the user asked (no debounce)."""
    reason = why_not_completed(runtime, target)
    if reason is not None:
        log.debug("no completion: %s", reason)
        return []
    unsuitable = unsuitable_file(runtime, target)
    if unsuitable is not None:
        runtime.tell_once(f"unsuitable:{target.path}", unsuitable)
        return []
    sessions = runtime.completions
    session = sessions.get(target.key or target.path)
    ticket = session.arrive(asyncio.get_running_loop().time(), manual)
    document = target.document
    text = document.text
    anchor = Anchor.at(text, document.offset_at(target.position))
    delay = 0.0 if manual else debounce_delay(runtime, session)
    log.debug(
        "completion asked (%s, debounce %.0f ms)", "manual" if manual else "typed", delay * 1000
    )

    served = await _reuse(runtime, session, ticket, anchor, delay)
    if served is not None:
        return _suggestions(served, target.position, from_cache=True, source=session.remembered)
    if ticket.superseded:
        return []
    if not manual and not await ticket.wait_until(ticket.arrived + delay):
        return []
    if document.text is not text:
        return []  # the document changed under this request; a newer one is on its way
    return await _ask(runtime, session, ticket, target, anchor)


async def _reuse(
    runtime: Runtime, session: DocumentSession, ticket: Ticket, anchor: Anchor, delay: float
) -> list[str] | None:
    """Suggestions from answers already paid for: the last one (typing-through), else the
    request in flight that this one continues. None: ask the model."""
    flight = session.flight
    typed = anchor.typed_since(flight.anchor) if flight is not None else None
    if flight is not None and (typed is None or len(typed) > MAX_TYPED_AHEAD):
        session.drop_flight()  # the document moved on: stop paying for that answer
        flight = None
    remembered = session.remembered
    served = _serve_remembered(remembered, anchor, ticket.manual)
    if served is None and flight is not None:
        remembered = await flight.join(ticket)
        if ticket.superseded:
            return None
        served = _serve_remembered(remembered, anchor, ticket.manual)
    if served is not None:
        _settle_saving(runtime, session, ticket, remembered, delay)
    return served


def _serve_remembered(
    remembered: Remembered | None, anchor: Anchor, manual: bool
) -> list[str] | None:
    if remembered is None:
        return None
    served = remembered.serve(anchor)
    if manual and not served:
        return None  # asked for on purpose: a fresh answer rather than nothing
    return served


async def _ask(
    runtime: Runtime,
    session: DocumentSession,
    ticket: Ticket,
    target: CompletionTarget,
    anchor: Anchor,
) -> list[Suggestion]:
    """Start a model request as a flight (newer requests may adopt it) and serve its answer."""
    document = target.document
    ctx = cursor_context(runtime, target)
    cursor = len(anchor.before)
    probe = SyntaxProbe.around(document, cursor, cursor - len(ctx.prefix), cursor + len(ctx.suffix))
    fetch = _fetch(runtime, session, ctx, probe, anchor, target.feature)
    flight = session.start_flight(anchor, fetch)
    remembered = await flight.join(ticket)
    served = remembered.serve(anchor) if remembered is not None else None
    from_cache = remembered is not None and remembered.from_cache
    return _suggestions(served or [], target.position, from_cache=from_cache, source=remembered)


async def _fetch(
    runtime: Runtime,
    session: DocumentSession,
    ctx: CursorContext,
    probe: SyntaxProbe | None,
    anchor: Anchor,
    feature: str = FEATURE,
) -> Remembered | None:
    sessions = runtime.completions
    settings = runtime.settings
    model = settings.completion_model
    question = Question(
        feature,
        ModeProbe(
            model,
            lambda mode: _prompt(runtime, mode, ctx),
            smaller=lambda mode: _prompt(runtime, mode, smaller_context(ctx)),
        ),
        timeout=settings.completion.timeout_ms / 1000,
    )
    try:
        with sessions.busy_while():
            answer = await get_answer(runtime, question, spending=_within_budget(runtime))
    except errors.EndpointPaused as exc:
        log.debug("no completion: %s", exc)  # said when the breaker opened
        return None
    except errors.QwenLspError as exc:
        runtime.tell(exc)
        sessions.changed()
        return None
    if answer is None:
        return None
    generation = answer.generation
    filter_ctx = FilterContext(
        prefix=ctx.prefix,
        suffix=ctx.suffix,
        language=ctx.language,
        # Only a chat answer is wrapped in prose and fences and written as if the hole were at
        # column 0; FIM and partial answers are raw continuations of the text before the cursor.
        from_chat=answer.mode is PromptMode.CHAT,
        syntax=probe,
    )
    continuations: dict[str, str | None] = {}
    for raw in generation.texts:
        processed = process(raw, filter_ctx)
        if processed is not None and processed.continuation not in continuations:
            continuations[processed.continuation] = processed.shown
    remembered = Remembered(
        anchor=anchor,
        continuations=tuple(continuations),
        shown=tuple(continuations.values()),
        model=answer.model,
        usage=generation.usage,
        from_cache=answer.cached,
        mode=answer.mode.value if answer.mode is not None else "",
    )
    session.remembered = remembered
    return remembered


def smaller_context(ctx: CursorContext) -> CursorContext:
    """`ctx` for a model that said the prompt is too long: no other files, and the nearest
    half of the prefix and of the suffix (cut at line starts, so the cursor's line stays)."""
    keep_prefix = ctx.prefix[len(ctx.prefix) // 2 :]
    if "\n" in keep_prefix:
        keep_prefix = keep_prefix[keep_prefix.index("\n") + 1 :]
    keep_suffix = ctx.suffix[: len(ctx.suffix) // 2]
    if "\n" in keep_suffix:
        keep_suffix = keep_suffix[: keep_suffix.rindex("\n") + 1]
    return replace(
        ctx,
        prefix=keep_prefix,
        suffix=keep_suffix,
        prefix_truncated=ctx.prefix_truncated or keep_prefix != ctx.prefix,
        suffix_truncated=ctx.suffix_truncated or keep_suffix != ctx.suffix,
        snippets=(),
    )


def _prompt(runtime: Runtime, mode: PromptMode, ctx: CursorContext) -> Prompt:
    prompt = prompt_for(runtime, mode, ctx)
    key = cache_key(
        runtime, prompt.request, mode=mode.value, template_version=prompt.template_version
    )
    return Prompt(prompt.request, key)


def _within_budget(runtime: Runtime) -> Spending:
    """Completion's spend policy: a reached limit means no completion, said once."""

    async def spending(budget: BudgetState, request: GenerationRequest) -> bool:
        if budget.allowed:
            return True
        runtime.incidents.report(
            "budget",
            f"qwen-lsp: {budget.reason}: completions are paused (answers already paid for "
            "still come). Raise spend.dailyLimit or spend.monthlyLimit to go on; "
            "`qwen-lsp stats` shows the spend.",
        )
        return False

    return spending


def _settle_saving(
    runtime: Runtime,
    session: DocumentSession,
    ticket: Ticket,
    remembered: Remembered | None,
    delay: float,
) -> None:
    """Count an answer served without a request as a saving once it stands."""
    if remembered is None:
        return

    def record() -> None:
        runtime.tally.record_saved(FEATURE, remembered.model, remembered.usage, "reuse")
        runtime.completions.changed()

    session.settle(ticket, record, delay)


def _suggestions(
    texts: list[str], at: Position, *, from_cache: bool, source: Remembered | None = None
) -> list[Suggestion]:
    model, mode = (source.model, source.mode) if source is not None else ("", "")
    return [
        Suggestion(text, at, at, from_cache=from_cache, model=model, mode=mode) for text in texts
    ]
