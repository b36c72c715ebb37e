"""The one paid call, shared by every feature that asks a model something.

`get_answer` goes: answer cache (a hit is recorded as a saving and sends nothing) → circuit
breaker (open: nothing is sent, `EndpointPaused`) → spend policy (the budget, and whatever else
the feature adds) → the provider, within the feature's deadline → the spend ledger, through the
runtime's in-memory `Tally` so budgets see the call at once → the answer cache, written off the
response path. A request cancelled after it went out is billed for the prompt the endpoint
read; one cancelled before it went out (the SDK still loading) is not. Prompt modes are probed
here for a `ModeProbe`: only an `UnsupportedMode` answer (the mode or endpoint does not exist)
moves on to the next mode the wire offers, and the mode that worked is remembered (a forced
mode is the only one tried); a `PromptTooLong` answer is asked once more with the probe's
smaller prompt, in the same mode. When every mode is refused, or the key is (`AuthError`),
nothing more is sent for that model until the settings change (`Runtime.halt`). Every failure
of the endpoint is recorded once, through `Runtime.fail`, without telling the user: each
feature tells in its own way (`Runtime.tell`, an error answer, a report).

What differs between features stays with them, as arguments: a `Spending` policy decides what
a reached budget means (completion: no answer; a code action: ask the user; review: stop the
run), and an `accept` callback reads the answer, so one that fails the feature's checks is
never stored (and a stored one that fails them is asked again). Retries are the caller's: each
attempt is one `get_answer`, so the breaker sees every failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from qwen_lsp import errors
from qwen_lsp.cache import answer_key
from qwen_lsp.context.budget import request_tokens
from qwen_lsp.model import Generation, GenerationRequest, PromptMode, Usage
from qwen_lsp.spend import BudgetState

if TYPE_CHECKING:
    from qwen_lsp.engine.runtime import Runtime
    from qwen_lsp.providers import Provider

log = logging.getLogger(__name__)

T = TypeVar("T")

# May this request be paid for? Called right before it is sent, with what the spend limits
# say. True: send it; False: send nothing (`get_answer` returns None); raising stops the caller.
Spending = Callable[[BudgetState, GenerationRequest], Awaitable[bool]]


@dataclass(frozen=True)
class Prompt:
    """A request and the cache key of its answer (None: never cached, like doctor's probe)."""

    request: GenerationRequest
    key: str | None


@dataclass(frozen=True)
class ModeProbe:
    """A request per prompt mode: the modes the wire offers for `model` are tried in turn,
    the remembered one first (only the forced one when `promptMode` is set)."""

    model: str
    prompt_for: Callable[[PromptMode], Prompt]
    # The same question with less context, for an endpoint that said the prompt is too long.
    smaller: Callable[[PromptMode], Prompt] | None = None


@dataclass(frozen=True)
class Question:
    """What a feature asks: `feature` names it in the spend ledger ("completion", "action",
    "review", ...); `timeout` is the provider's deadline for the whole request, in seconds."""

    feature: str
    prompt: Prompt | ModeProbe
    timeout: float


@dataclass(frozen=True)
class Answer(Generic[T]):
    """An answer and what it cost. `value` is what `accept` made of it (else the generation);
    money is in the currency of `model`'s price."""

    generation: Generation
    value: T
    model: str
    cached: bool
    mode: PromptMode | None = None  # the prompt mode it was asked in (a ModeProbe)
    cost: float = 0.0  # paid for it
    saved: float = 0.0  # what a cached answer would have cost


def cache_key(
    runtime: Runtime, request: GenerationRequest, *, mode: str, template_version: str
) -> str:
    """The answer cache key of `request` at this endpoint; `mode` and `template_version` name
    whatever else shapes the answer (the prompt mode or the action, the templates)."""
    return answer_key(
        provider=runtime.settings.provider,
        base_url=runtime.loaded.base_url,
        mode=mode,
        template_version=template_version,
        request=request,
    )


def is_cached(runtime: Runtime, prompt: Prompt) -> bool:
    """Whether an answer to `prompt` is stored (a preview: nothing is recorded)."""
    return prompt.key is not None and runtime.cache.get(prompt.key) is not None


async def within_budget(budget: BudgetState, request: GenerationRequest) -> bool:
    """The plain spend policy: send while the spend limits allow it."""
    return budget.allowed


async def get_answer(
    runtime: Runtime,
    question: Question,
    *,
    spending: Spending = within_budget,
    accept: Callable[[Generation], Any] | None = None,
) -> Answer[Any] | None:
    """The answer to `question`, from the cache or one paid call (one per prompt mode tried);
    None when `spending` refused the call.

    Raises `ConfigError` when no provider can be made (no key), `EndpointPaused` when the
    breaker is open, the provider's `ProviderError` (already recorded), and whatever `spending`
    or `accept` raise. An answer `accept` refuses was paid for but is not stored.
    """
    if isinstance(question.prompt, ModeProbe):
        return await _probe(runtime, question, question.prompt, spending, accept)
    try:
        return await _once(runtime, question, question.prompt, None, spending, accept, None)
    except (errors.UnsupportedMode, errors.PromptTooLong) as exc:
        runtime.fail(exc, tell=False)
        raise


async def _probe(
    runtime: Runtime,
    question: Question,
    probe: ModeProbe,
    spending: Spending,
    accept: Callable[[Generation], Any] | None,
) -> Answer[Any] | None:
    settings = runtime.settings
    provider = runtime.provider()
    last_error: errors.UnsupportedMode | None = None
    for mode in runtime.candidate_modes(provider, probe.model):
        prompt = probe.prompt_for(mode)
        try:
            try:
                answer = await _once(runtime, question, prompt, mode, spending, accept, provider)
            except errors.PromptTooLong as exc:
                if probe.smaller is None:
                    runtime.fail(exc, tell=False)
                    raise
                # The mode works, the prompt was too long for this model: once more, smaller.
                log.info("%s: prompt too long, asking again with less context", probe.model)
                smaller = probe.smaller(mode)
                answer = await _once(runtime, question, smaller, mode, spending, accept, provider)
        except errors.UnsupportedMode as exc:
            log.info("%s does not take prompt mode %s: %s", probe.model, mode.value, exc)
            last_error = exc
            continue
        if answer is not None and not answer.cached and settings.forced_mode is None:
            runtime.modes.remember(settings.provider, runtime.loaded.base_url, probe.model, mode)
        return answer
    error = last_error or errors.UnsupportedMode(f"no prompt mode offered for {probe.model}")
    runtime.halt(error, model=probe.model)
    runtime.fail(error, tell=False)
    raise error


async def _once(
    runtime: Runtime,
    question: Question,
    prompt: Prompt,
    mode: PromptMode | None,
    spending: Spending,
    accept: Callable[[Generation], Any] | None,
    provider: Provider | None,
) -> Answer[Any] | None:
    """One request: cache, breaker, spend policy, provider, ledger, cache."""
    found = _from_cache(runtime, question.feature, prompt, mode, accept)
    if found is not None:
        return found
    halted = runtime.halted(prompt.request.model)
    if halted is not None:
        raise errors.EndpointPaused(halted, retry_in=0.0, rate_limited=False, halted=True)
    breaker = runtime.breaker
    if breaker.is_open():
        retry_in = breaker.retry_in()
        raise errors.EndpointPaused(
            f"no request sent: the circuit breaker is open for {retry_in:.1f} s",
            retry_in=retry_in,
            rate_limited=breaker.rate_limited,
        )
    provider = provider or runtime.provider()
    request = prompt.request
    if not await spending(runtime.budget(), request):
        return None
    generation = await _send(runtime, question, provider, request, mode)
    model = generation.model or request.model
    cost = runtime.tally.record_call(question.feature, model, generation.usage)
    runtime.succeed()
    value = accept(generation) if accept is not None else generation
    if prompt.key is not None:
        runtime.cache.set(prompt.key, generation, background=True)
    return Answer(generation, value, model, cached=False, mode=mode, cost=cost)


def _from_cache(
    runtime: Runtime,
    feature: str,
    prompt: Prompt,
    mode: PromptMode | None,
    accept: Callable[[Generation], Any] | None,
) -> Answer[Any] | None:
    if prompt.key is None:
        return None
    generation = runtime.cache.get(prompt.key)
    if generation is None:
        return None
    try:
        value = accept(generation) if accept is not None else generation
    except errors.QwenLspError as exc:
        # Stored by an older version, or under checks since made stricter: ask again.
        log.info("a cached answer was refused (%s); asking the model again", exc)
        return None
    model = generation.model or prompt.request.model
    saved = runtime.tally.record_saved(feature, model, generation.usage, "cache")
    return Answer(generation, value, model, cached=True, mode=mode, saved=saved)


async def _send(
    runtime: Runtime,
    question: Question,
    provider: Provider,
    request: GenerationRequest,
    mode: PromptMode | None,
) -> Generation:
    log.debug(
        "asking %s for %s%s",
        request.model,
        question.feature,
        f" in {mode.value} mode" if mode is not None else "",
    )
    # Loading the SDK and building its client can take half a second on the first request; a
    # request cancelled meanwhile never went out, so it is not billed.
    await provider.prepare()
    try:
        return await provider.generate(request, timeout=question.timeout)
    except asyncio.CancelledError:
        # The request went out and was abandoned: providers bill the prompt they read.
        read = Usage(request_tokens(request), 0)
        runtime.tally.record_call(question.feature, request.model, read)
        raise
    except (errors.UnsupportedMode, errors.PromptTooLong):
        raise  # recorded by the caller, once no other prompt mode or size is left to try
    except errors.ProviderError as exc:
        runtime.fail(exc, tell=False)
        raise
