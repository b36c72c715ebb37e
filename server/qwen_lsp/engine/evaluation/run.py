"""`qwen-lsp eval`'s run: each hole filled by each model through the editor's completion path,
scored, and summed up per model.

A hole is filled the way the editor would fill it: the file with the hole cut out is opened
in the model's own `Runtime` (the symbol index sees the cut text, as it sees an editor's
unsaved buffer) and `complete()` is asked at the hole's start as a manual trigger: the same
context engine, prompt mode probing, redaction, answer cache, spend ledger and
post-processing as a keystroke in the editor. Nothing here talks to a provider.

Models run side by side (each its own runtime, settings and breaker); the holes of one model
one after the other, so the context of a hole never depends on another hole's timing and a
rerun asks exactly the same questions (answered from the cache: no request).

Money: `requests`, `tokens` and `cost.total` are what this run paid for. `per_100` and
`per_1000_kept_chars` price every answer (paid now or taken from the cache, with the tokens
it cost when it was paid for), so a rerun shows the same comparison for nothing.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from qwen_lsp.config import LoadedSettings
from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.ask import cache_key
from qwen_lsp.engine.completion.complete import (
    CompletionTarget,
    complete,
    cursor_context,
    prompt_for,
)
from qwen_lsp.engine.completion.inspection import inspect_prompt
from qwen_lsp.engine.evaluation.holes import KINDS, Hole
from qwen_lsp.engine.evaluation.scoring import Score, TestRunner, score
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import Usage

PROVIDERS = ("dashscope", "openai", "openai-compatible")
# Consecutive holes without an answer because the endpoint failed: it is down, stop asking.
FAILURES_IN_A_ROW = 3

Progress = Callable[[int, int, str], None]  # done, total, what is being done


@dataclass(frozen=True)
class ModelSpec:
    """`provider:model[@baseUrl]`, as given on the command line."""

    spec: str
    provider: str
    model: str
    base_url: str | None = None

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        provider, sep, rest = text.strip().partition(":")
        if not sep or provider not in PROVIDERS:
            raise ValueError(
                f"model {text!r}: expected provider:model[@baseUrl] with provider one of "
                f"{', '.join(PROVIDERS)}"
            )
        model, at, base_url = rest.partition("@")
        if not model:
            raise ValueError(f"model {text!r}: no model name after {provider}:")
        if at and urlparse(base_url).scheme not in ("http", "https"):
            raise ValueError(f"model {text!r}: {base_url!r} is not an http(s) URL")
        return cls(text.strip(), provider, model, base_url if at else None)

    def overrides(self) -> dict[str, object]:
        """The settings this model runs with, over the user's."""
        raw: dict[str, object] = {"provider": self.provider, "model": self.model}
        if self.base_url:
            raw["baseUrl"] = self.base_url
        return raw


@dataclass(frozen=True)
class Filled:
    """One model's answer to one hole."""

    hole: Hole
    answer: str | None  # None: no answer (the endpoint failed, nothing survived filtering)
    latency_ms: float
    paid: bool  # a request went out for it in this run
    usage: Usage  # the tokens of the answer (what it cost when it was paid for)
    model: str  # as the endpoint named it
    score: Score | None
    tests_pass: bool | None = None
    error: str | None = None


@dataclass
class ModelRun:
    spec: ModelSpec
    filled: list[Filled] = field(default_factory=list)
    stopped: str | None = None  # why the run of this model ended early
    failed: bool = False  # ended by its endpoint failing


@dataclass(frozen=True)
class Estimate:
    spec: ModelSpec
    holes: int
    cached: int
    input_tokens: int
    output_tokens: int
    cost: float
    currency: str


class EvalSpend:
    """What this run paid, in one currency, against `--max-cost`."""

    def __init__(self, limit: float | None, currency: str) -> None:
        self.limit = limit
        self.currency = currency
        self.total = 0.0
        self.interrupted = False  # a signal asked the run to stop

    def stop_reason(self) -> str | None:
        if self.interrupted:
            return "interrupted"
        if self.limit is not None and self.total >= self.limit:
            return f"--max-cost {self.limit:g} {self.currency} reached"
        return None


def _document(text: str, hole: Hole) -> SourceDocument:
    return SourceDocument(text[: hole.start] + text[hole.end :], hole.language, encoding="utf-32")


def _target(root: Path, hole: Hole, document: SourceDocument) -> CompletionTarget:
    return CompletionTarget(
        document=document,
        position=document.position_at(hole.start),
        path=hole.path,
        language_id=hole.language,
        key=f"eval:{hole.id}",
        file=root / hole.path,
        feature="eval",  # its spend apart from the editor's completions (acceptance costs)
    )


def prepare(runtime: Runtime, root: Path) -> None:
    """Index the repository as the editor's server would (the stored index is reused), then
    take the index as stored: a freshly read index holds the secrets of signatures verbatim
    (redacted only in the request) where the stored one elides them, so the first run and a
    rerun would otherwise send different prompts for the same hole, and pay again."""
    workspace = runtime.workspace
    workspace.set_folders([root])
    for index in workspace.indexes:
        for _ in index.refresh():
            pass
        index.save()
    workspace.set_folders([])
    workspace.set_folders([root])


async def fill(runtime: Runtime, root: Path, hole: Hole, text: str) -> Filled:
    """Ask `runtime`'s model for `hole`, as the editor asks at a cursor. The file stays open
    with the hole cut (the next hole of the same file replaces its text, as an editor's
    buffer changes); `close` it once its holes are done."""
    document = _document(text, hole)
    path = root / hole.path
    workspace = runtime.workspace
    workspace.opened(path, document)
    workspace.reindex_open(path)
    target = _target(root, hole, document)
    started = time.perf_counter()
    suggestions = await complete(runtime, target, manual=True)
    latency = (time.perf_counter() - started) * 1000
    remembered = runtime.completions.get(target.key).remembered
    if remembered is None:
        incident = runtime.incidents.last
        error = incident.message if incident is not None else "no answer"
        model = runtime.settings.completion_model
        return Filled(hole, None, latency, False, Usage(0, 0), model, None, error=error)
    answer = suggestions[0].text if suggestions else ""
    return Filled(
        hole,
        answer,
        latency,
        paid=not remembered.from_cache,
        usage=remembered.usage,
        model=remembered.model,
        score=score(hole, text, answer),
    )


async def run_model(
    runtime: Runtime,
    spec: ModelSpec,
    root: Path,
    holes: Sequence[tuple[Hole, str]],
    spend: EvalSpend,
    *,
    tests: TestRunner | None = None,
    tick: Callable[[], None] = lambda: None,
) -> ModelRun:
    """Every hole through `runtime` (set up for `spec`), until done, the budget is spent or
    the endpoint keeps failing."""
    result = ModelRun(spec)
    prices = runtime.ledger.prices
    failures = 0
    opened: str | None = None
    for hole, text in holes:
        stop = spend.stop_reason()
        if stop is not None:
            result.stopped = stop
            break
        if opened is not None and opened != hole.path:
            runtime.workspace.closed(root / opened)  # the index reads it from disk again
        opened = hole.path
        filled = await fill(runtime, root, hole, text)
        if filled.paid:
            cost, currency = prices.cost(filled.model, filled.usage)
            spend.total += prices.convert(cost, currency, spend.currency)
        if tests is not None and filled.score is not None and filled.answer is not None:
            passes = filled.score.exact or await asyncio.to_thread(
                tests.passes, hole.path, text[: hole.start] + filled.answer + text[hole.end :]
            )
            filled = _with_tests(filled, passes)
        result.filled.append(filled)
        tick()
        failures = failures + 1 if filled.error is not None else 0
        if failures >= FAILURES_IN_A_ROW:
            result.stopped = f"{spec.spec}: {filled.error}"
            result.failed = True
            break
    if opened is not None:
        runtime.workspace.closed(root / opened)
    return result


def _with_tests(filled: Filled, passes: bool) -> Filled:
    return Filled(
        filled.hole,
        filled.answer,
        filled.latency_ms,
        filled.paid,
        filled.usage,
        filled.model,
        filled.score,
        passes,
        filled.error,
    )


async def run_eval(
    models: Sequence[tuple[ModelSpec, LoadedSettings]],
    root: Path,
    holes: Sequence[tuple[Hole, str]],
    *,
    show: Callable[[str], None],
    spend: EvalSpend,
    tests: TestRunner | None = None,
    progress: Progress = lambda done, total, label: None,
) -> list[ModelRun]:
    """Every model over every hole, the models side by side."""
    runtimes = [Runtime(loaded, show=show) for _, loaded in models]
    total = len(holes) * len(models)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        progress(done, total, "filling holes")

    try:
        for runtime in runtimes:
            prepare(runtime, root)
        progress(0, total, "filling holes")
        return list(
            await asyncio.gather(
                *(
                    run_model(runtime, spec, root, holes, spend, tests=tests, tick=tick)
                    for runtime, (spec, _) in zip(runtimes, models, strict=True)
                )
            )
        )
    finally:
        for runtime in runtimes:
            await runtime.aclose()


async def estimate_eval(
    models: Sequence[tuple[ModelSpec, LoadedSettings]],
    root: Path,
    holes: Sequence[tuple[Hole, str]],
    *,
    show: Callable[[str], None],
) -> list[Estimate]:
    """What filling every hole would cost each model, sending nothing: the prompt each hole
    would send (tokens estimated), an answer as long as the hole, holes answered from the
    cache left out."""
    estimates = []
    for spec, loaded in models:
        runtime = Runtime(loaded, show=show)
        try:
            prepare(runtime, root)
            prices = runtime.ledger.prices
            model = loaded.settings.completion_model
            cached = input_tokens = output_tokens = 0
            opened: str | None = None
            for hole, text in holes:
                document = _document(text, hole)
                path = root / hole.path
                if opened is not None and opened != hole.path:
                    runtime.workspace.closed(root / opened)
                opened = hole.path
                runtime.workspace.opened(path, document)
                runtime.workspace.reindex_open(path)
                target = _target(root, hole, document)
                inspection = inspect_prompt(runtime, target, exact=False)
                prompt = prompt_for(runtime, inspection.mode, cursor_context(runtime, target))
                key = cache_key(
                    runtime,
                    prompt.request,
                    mode=inspection.mode.value,
                    template_version=prompt.template_version,
                )
                if runtime.cache.get(key) is not None:
                    cached += 1
                    continue
                input_tokens += inspection.total
                output_tokens += estimate_tokens(hole.text)
            if opened is not None:
                runtime.workspace.closed(root / opened)
            cost, currency = prices.cost(model, Usage(input_tokens, output_tokens))
            estimates.append(
                Estimate(spec, len(holes), cached, input_tokens, output_tokens, cost, currency)
            )
        finally:
            await runtime.aclose()
    return estimates


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` (0..1) percentile, interpolated; 0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return float(values[0])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return float(cuts[min(max(round(share * 100) - 1, 0), 98)])


def kinds_of(holes: Sequence[Hole]) -> dict[str, int]:
    return {kind: sum(1 for h in holes if h.kind == kind) for kind in KINDS}
