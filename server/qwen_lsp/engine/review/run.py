"""The review use case, shared by `qwen-lsp --check` and review on save.

A review sends each chunk (see `chunks.py`) to the chat model with the prompt in
`prompts/review/`, asks for the review answer schema (JSON mode where the wire has one),
validates the answer and turns it into `Finding`s in file coordinates. Findings that are
malformed or point outside the lines under review are dropped and counted. Every attempt is
one paid call through `engine/ask.py`, so answers are cached by everything that shapes them
(an unchanged chunk is never paid for twice), spend and savings go into the ledger, and the
runtime's circuit breaker sees every failure.

Chunks run `jobs` at a time, and one failure policy holds for the whole run, not per chunk:
- a chunk costs at most `ATTEMPTS` requests when the endpoint fails or answers out of schema;
  429s draw on one allowance for the whole run (`ATTEMPTS - 1` retries per chunk, shared), so a
  storm that passes fails no chunk and one that does not stops the run at `ATTEMPTS` requests
  per chunk in all;
- an answer that is not the schema is asked again once, with a short repair instruction
  (`repair.py`); a second bad answer fails the chunk, not the run;
- a 429 pauses every job for the Retry-After the endpoint asked for (a doubling backoff when it
  names none), and until a request gets through again only one job at a time tries: a storm
  costs one request per pause, not one per job. Rate limited for `RATE_LIMIT_PATIENCE` seconds
  with no answer between, the run stops;
- the endpoint is down (refused connections, 5xx, broken answers) `FAILURES_IN_A_ROW` times in
  a row across the run, or `DEADLINES_IN_A_ROW` requests in a row run past their deadline (a
  hung endpoint), or the runtime's breaker holds requests back: the run stops;
- a refused key, an exhausted quota, a refused prompt template, a missing key, the spend
  budget and `max_cost` stop it at once.
A run that stops cancels the requests in flight (they are billed for the prompt the endpoint
read), marks the chunks not answered as skipped and returns what finished; so does a `stop`
the caller resolves (a signal, a time limit), with its reason.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from qwen_lsp import errors
from qwen_lsp.context.budget import request_tokens
from qwen_lsp.engine.ask import Answer, Prompt, Question, get_answer, is_cached
from qwen_lsp.engine.review.answers import ChunkFindings, MalformedAnswer, parse_answer
from qwen_lsp.engine.review.chunks import Chunk
from qwen_lsp.engine.review.prompt import (
    ReviewPrompt,
    ReviewTemplates,
    build_prompt,
    review_templates,
)
from qwen_lsp.engine.review.repair import repair_prompt
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import Finding, Generation, GenerationRequest, Usage
from qwen_lsp.spend import BudgetState

log = logging.getLogger(__name__)

FEATURE = "review"
ATTEMPTS = 3  # requests one chunk may cost (429s: per chunk on average, across the run)
RATE_LIMIT_PATIENCE = 60.0  # seconds of 429s with no answer between before the run stops
FAILURES_IN_A_ROW = 3  # endpoint failures across the run with no answer between
DEADLINES_IN_A_ROW = 2  # requests past their deadline across the run with no answer between
_RETRY_WAIT = 0.5  # seconds before a chunk is sent again after the endpoint failed
_BACKOFF_START = 1.0  # seconds, doubled per 429 in a row when the endpoint names no wait
_BACKOFF_CAP = 60.0


class RunStopped(errors.QwenLspError):
    """The run cannot go on: the budget or `max_cost` is reached, the key is refused, or the
    endpoint keeps failing. `after`: the failure the chunk had met before it was stopped."""

    def __init__(self, message: str, *, after: Exception | None = None) -> None:
        super().__init__(message)
        self.after = after


def why_not_reviewed(
    runtime: Runtime, path: str, size: int, file: Path | None = None
) -> str | None:
    """Why a document must not be reviewed (its text would leave the machine), or None:
    `path` as the model sees it, `file` where it is on disk (the workspace's door judges
    both: secrets, `exclude`, ignore rules, links leading away)."""
    refused = runtime.workspace.why_not_sent(file, path)
    if refused is not None:
        return refused
    if size > runtime.settings.max_file_size:
        return f"{path} is larger than maxFileSize"
    return None


# -- a run -----------------------------------------------------------------------------------


@dataclass
class ChunkOutcome:
    chunk: Chunk
    findings: list[Finding] = field(default_factory=list)
    malformed: int = 0
    outside: int = 0
    cached: bool = False
    error: Exception | None = None  # None: reviewed
    skipped: bool = False  # not sent: the run stopped first


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    findings: int
    cost: float  # paid so far, in `currency`
    currency: str


@dataclass
class ReviewRun:
    """Everything a run did: its findings, and what it cost and saved."""

    outcomes: list[ChunkOutcome]
    findings: list[Finding]
    currency: str
    cost: float = 0.0  # paid in this run, in `currency`
    saved: float = 0.0  # what the cached answers would have cost
    usage: Usage = field(default_factory=Usage)  # paid tokens
    calls: int = 0
    over_limit: int = 0  # findings beyond review.maxFindings of their file
    stopped: str | None = None  # why the run stopped early

    @property
    def failed(self) -> list[ChunkOutcome]:
        return [o for o in self.outcomes if o.error is not None]

    @property
    def skipped(self) -> list[ChunkOutcome]:
        return [o for o in self.outcomes if o.skipped]

    @property
    def cached(self) -> int:
        return sum(o.cached for o in self.outcomes)

    @property
    def malformed(self) -> int:
        return sum(o.malformed for o in self.outcomes)

    @property
    def outside(self) -> int:
        return sum(o.outside for o in self.outcomes)


ProgressCallback = Callable[[Progress], None]


class Reviewer:
    """Runs the chunks of one review; one instance per run."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        jobs: int = 4,
        max_cost: float | None = None,
        on_progress: ProgressCallback | None = None,
        root: Path | None = None,
        stop: Awaitable[str] | None = None,
    ) -> None:
        self.runtime = runtime
        self.root = root  # the repository: its review instructions and its code's context
        self.jobs = max(1, jobs)
        self.max_cost = max_cost
        self.on_progress = on_progress
        self.currency = runtime.settings.spend.currency
        self._stop_request = stop
        self._json_mode = True
        self._resume_at = 0.0  # a 429 pauses every job until then
        self._limited_since: float | None = None  # 429s with no answer since then
        self._limited_in_a_row = 0
        self._probe = asyncio.Lock()  # while rate limited, one request at a time
        self._failures_in_a_row = 0
        self._deadlines_in_a_row = 0
        self._reserved = 0.0  # worst-case cost of the calls in flight
        self._run = ReviewRun([], [], self.currency)
        self._rate_limit_retries = 0  # what is left of the run's allowance
        self._tasks: list[asyncio.Task[None]] = []
        self._done = 0
        self._findings = 0

    async def run(self, chunks: Sequence[Chunk]) -> ReviewRun:
        run = self._run
        run.outcomes = [ChunkOutcome(chunk) for chunk in chunks]
        self._rate_limit_retries = (ATTEMPTS - 1) * len(chunks)
        try:
            templates = review_templates(self.runtime, self.root)
        except errors.ConfigError as exc:  # a refused template: nothing may be sent
            self._stop(str(exc))
            for outcome in run.outcomes:
                outcome.skipped = True
            return run
        gate = asyncio.Semaphore(self.jobs)

        async def one(outcome: ChunkOutcome) -> None:
            try:
                async with gate:
                    if run.stopped is not None:
                        outcome.skipped = True
                    else:
                        await self._review(outcome, templates)
            except asyncio.CancelledError:
                if run.stopped is None:
                    raise  # not ours: the caller is going away
                # The run stopped while this chunk waited or was in flight: not reviewed.
                if outcome.error is None:
                    outcome.skipped = True
            self._done += 1
            self._findings += len(outcome.findings)
            if self.on_progress is not None:
                self.on_progress(
                    Progress(self._done, len(chunks), self._findings, run.cost, self.currency)
                )

        self._tasks = [asyncio.ensure_future(one(outcome)) for outcome in run.outcomes]
        watcher = (
            asyncio.ensure_future(self._watch(self._stop_request))
            if self._stop_request is not None
            else None
        )
        try:
            await asyncio.gather(*self._tasks)
        finally:
            if watcher is not None:
                watcher.cancel()
        run.findings, run.over_limit = _keep_per_file(
            (f for o in run.outcomes for f in o.findings),
            self.runtime.settings.review.max_findings,
        )
        return run

    async def _watch(self, stop: Awaitable[str]) -> None:
        self._halt(await stop)

    def _halt(self, reason: str) -> None:
        """Stop the run now: nothing more is sent and the requests in flight are dropped."""
        self._stop(reason)
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current and not task.done():
                task.cancel()

    # -- one chunk -------------------------------------------------------------------------

    async def _review(self, outcome: ChunkOutcome, templates: ReviewTemplates) -> None:
        prompt = build_prompt(self.runtime, outcome.chunk, templates)
        try:
            answer = await self._ask(prompt, outcome.chunk)
        except RunStopped as exc:
            if exc.after is None:
                outcome.skipped = True
            else:
                outcome.error = exc.after  # it was sent, and failed, before the stop
            self._halt(str(exc))
            return
        except errors.ConfigError as exc:  # no key, no provider: nothing was sent
            outcome.skipped = True
            self._halt(self.runtime.explain(exc))
            return
        except errors.QwenLspError as exc:
            log.info("review of %s:%d failed: %s", outcome.chunk.path, outcome.chunk.start, exc)
            outcome.error = exc
            return
        outcome.cached = answer.cached
        self._take(outcome, answer.value)

    def _take(self, outcome: ChunkOutcome, parsed: ChunkFindings) -> None:
        outcome.findings = parsed.findings
        outcome.malformed = parsed.malformed
        outcome.outside = parsed.outside

    def _stop(self, reason: str) -> None:
        if self._run.stopped is None:
            self._run.stopped = reason.removeprefix("qwen-lsp: ")  # callers say who speaks

    # -- paying for it ---------------------------------------------------------------------

    async def _ask(self, prompt: ReviewPrompt, chunk: Chunk) -> Answer[ChunkFindings]:
        """The chunk's answer, one `get_answer` per attempt and at most `ATTEMPTS` requests,
        under the run's failure policy (see the module docstring)."""
        runtime = self.runtime
        timeout = runtime.settings.review.timeout_ms / 1000
        sent_count = 0  # requests this chunk has cost
        repaired = False
        failure: Exception | None = None  # the last one this chunk met
        while True:
            if self._run.stopped is not None:
                raise RunStopped(self._run.stopped, after=failure)
            probing = await self._wait_turn()
            # Without JSON mode the request differs, but its answer is the same question's:
            # it is kept under the key of the request as built.
            sent = prompt.request if self._json_mode else _without_json_mode(prompt.request)
            question = Question(FEATURE, Prompt(sent, prompt.key), timeout)
            claim = _Claim(self)
            try:
                answer = await get_answer(runtime, question, spending=claim, accept=_reader(chunk))
            except errors.EndpointPaused as exc:
                if not exc.rate_limited:
                    raise RunStopped(self._why(exc), after=failure) from None
                continue  # nothing was sent: wait for the pause another job's 429 began
            except (errors.AuthError, errors.QuotaExhausted) as exc:
                raise RunStopped(self._why(exc), after=exc) from None
            except errors.RateLimitError as exc:
                failure = exc
                self._rate_limited(exc)
                if self._rate_limit_retries <= 0:
                    raise RunStopped(
                        f"{self._why(exc).rstrip('.')}: every retry the run allows for 429s "
                        f"({ATTEMPTS - 1} per chunk) was refused",
                        after=exc,
                    ) from None
                self._rate_limit_retries -= 1
                continue
            except errors.UnsupportedMode as exc:
                if not self._json_mode:
                    raise
                # Some OpenAI-compatible servers reject response_format: ask in plain text,
                # the prompt already demands JSON.
                log.info("the endpoint refused JSON mode (%s); asking without it", exc)
                self._json_mode = False
                sent_count += 1
                continue
            except MalformedAnswer as exc:
                failure = exc
                sent_count += 1
                self._answered()  # the endpoint works; the model's answer did not
                if exc.generation is not None:
                    self._record_paid(exc.generation, sent.model)
                if repaired or sent_count >= ATTEMPTS or exc.generation is None:
                    raise
                repaired = True
                broken = exc.generation.texts[0] if exc.generation.texts else ""
                prompt = repair_prompt(runtime, prompt, broken, str(exc))
                continue
            except errors.DeadlineExceeded as exc:
                failure = exc
                sent_count += 1
                self._deadlines_in_a_row += 1
                self._failed(exc)
                if self._deadlines_in_a_row >= DEADLINES_IN_A_ROW:
                    raise RunStopped(
                        f"{self._why(exc)} ({self._deadlines_in_a_row} requests in a row)",
                        after=exc,
                    ) from None
                if sent_count >= ATTEMPTS:
                    raise
                continue  # a deadline has waited long enough: no pause before the retry
            except (errors.EndpointUnavailable, errors.BadResponse) as exc:
                failure = exc
                sent_count += 1
                self._failed(exc)
                if sent_count >= ATTEMPTS:
                    raise
                await asyncio.sleep(_RETRY_WAIT * sent_count)
                continue
            finally:
                self._reserved -= claim.amount
                if probing:
                    self._probe.release()
            assert answer is not None  # review's spend policy sends or raises
            self._answered()
            self._record(answer)
            return answer

    def _why(self, exc: Exception) -> str:
        return self.runtime.explain(exc).removeprefix("qwen-lsp: ")

    def _answered(self) -> None:
        """The endpoint answered: every streak of failures is over."""
        self._failures_in_a_row = self._deadlines_in_a_row = self._limited_in_a_row = 0
        self._limited_since = None

    def _failed(self, exc: errors.ProviderError) -> None:
        """A failure of the endpoint itself: too many in a row across the run stop it."""
        self._failures_in_a_row += 1
        if self._failures_in_a_row >= FAILURES_IN_A_ROW:
            raise RunStopped(
                f"{self._why(exc).rstrip('.')}; it keeps failing "
                f"({self._failures_in_a_row} times in a row)",
                after=exc,
            )

    def _reserve(self, budget: BudgetState, request: GenerationRequest) -> float:
        """Claim the call's worst-case cost against the budget and `max_cost`, or stop."""
        if not budget.allowed:
            raise RunStopped(f"spend budget reached: {budget.reason}")
        if self.max_cost is None:
            return 0.0
        worst = Usage(request_tokens(request), request.max_tokens)
        amount, currency = self.runtime.ledger.prices.cost(request.model, worst)
        worst_cost = self.runtime.ledger.prices.convert(amount, currency, self.currency)
        if self._run.cost + self._reserved + worst_cost > self.max_cost:
            raise RunStopped(
                f"--max-cost {self.max_cost:g} {self.currency} reached: spent "
                f"{self._run.cost:.4f} {self.currency}, and the next request may cost up to "
                f"{worst_cost:.4f}"
            )
        self._reserved += worst_cost
        return worst_cost

    def _record(self, answer: Answer[ChunkFindings]) -> None:
        run = self._run
        if answer.cached:
            run.saved += self._convert(answer.saved, answer.model)
            return
        run.cost += self._convert(answer.cost, answer.model)
        self._count_call(answer.generation.usage)

    def _record_paid(self, generation: Generation, requested: str) -> None:
        """A call paid for whose answer was refused: it still counts in the run's cost."""
        model = generation.model or requested
        amount, currency = self.runtime.ledger.prices.cost(model, generation.usage)
        self._run.cost += self.runtime.ledger.prices.convert(amount, currency, self.currency)
        self._count_call(generation.usage)

    def _count_call(self, usage: Usage) -> None:
        run = self._run
        run.calls += 1
        run.usage = Usage(
            run.usage.input_tokens + usage.input_tokens,
            run.usage.output_tokens + usage.output_tokens,
        )

    def _convert(self, amount: float, model: str) -> float:
        prices = self.runtime.ledger.prices
        price = prices.price(model)
        return prices.convert(amount, price.currency, self.currency) if price else 0.0

    # -- rate limits -----------------------------------------------------------------------

    def _rate_limited(self, exc: errors.RateLimitError) -> None:
        """Every job waits as the endpoint asked; a storm too long stops the run."""
        now = time.monotonic()
        if self._limited_since is None:
            self._limited_since = now
        elif now - self._limited_since >= RATE_LIMIT_PATIENCE:
            raise RunStopped(
                f"{self._why(exc).rstrip('.')}, and kept refusing requests for "
                f"{now - self._limited_since:.0f} s",
                after=exc,
            )
        if now >= self._resume_at:  # the first 429 of this pause, not one sent beside it
            self._limited_in_a_row += 1
        if exc.retry_after is None:
            wait = min(_BACKOFF_START * 2 ** (self._limited_in_a_row - 1), _BACKOFF_CAP)
            wait *= 1 + random.random() / 4
        else:
            wait = min(exc.retry_after, _BACKOFF_CAP * 5)
        self._resume_at = max(self._resume_at, now + wait)
        log.info("rate limited; every review job waits %.1f s", wait)

    async def _wait_turn(self) -> bool:
        """Wait until a request may go; True when it holds the probe (release it after)."""
        while True:
            breaker = self.runtime.breaker
            held = breaker.retry_in() if breaker.rate_limited else 0.0
            delay = max(self._resume_at - time.monotonic(), min(held, _BACKOFF_CAP * 5))
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            if self._limited_since is None:
                return False
            await self._probe.acquire()
            if self._limited_since is None:
                self._probe.release()
                return False
            if self._resume_at > time.monotonic():
                self._probe.release()  # a 429 came in while this job waited its turn
                continue
            return True


def _reader(chunk: Chunk) -> Callable[[Generation], ChunkFindings]:
    """The review's `accept`: the findings of an answer, or MalformedAnswer carrying it."""

    def read(generation: Generation) -> ChunkFindings:
        try:
            return parse_answer(generation.texts[0] if generation.texts else "", chunk)
        except MalformedAnswer as exc:
            exc.generation = generation
            raise

    return read


def _without_json_mode(request: GenerationRequest) -> GenerationRequest:
    return replace(request, json_mode=False)


class _Claim:
    """Review's spend policy for one attempt: the budget and `--max-cost`, counting the
    worst case of the calls in flight; `amount` is what this attempt holds until it ends."""

    def __init__(self, reviewer: Reviewer) -> None:
        self._reviewer = reviewer
        self.amount = 0.0

    async def __call__(self, budget: BudgetState, request: GenerationRequest) -> bool:
        self.amount = self._reviewer._reserve(budget, request)
        return True


def _keep_per_file(findings: Iterable[Finding], limit: int) -> tuple[list[Finding], int]:
    """Unique findings, the `limit` most severe per file, with occurrence-numbered fingerprints."""
    by_file: dict[str, dict[str, Finding]] = defaultdict(dict)
    for finding in findings:
        by_file[finding.path].setdefault(
            f"{finding.fingerprint}:{finding.line}:{finding.message}", finding
        )
    kept: list[Finding] = []
    over = 0
    for path in sorted(by_file):
        ordered = sorted(by_file[path].values(), key=lambda f: (f.line, f.rank, f.rule))
        seen: Counter[str] = Counter()
        numbered_findings = []
        for finding in ordered:
            # Two findings of one rule on the same code differ by their order in the file.
            seen[finding.fingerprint] += 1
            numbered_findings.append(
                _with_fingerprint(finding, f"{finding.fingerprint}:{seen[finding.fingerprint]}")
            )
        worst_first = sorted(numbered_findings, key=lambda f: (f.rank, f.line))
        over += max(len(worst_first) - limit, 0)
        kept.extend(sorted(worst_first[:limit], key=lambda f: (f.line, f.rank)))
    return kept, over


def _with_fingerprint(finding: Finding, fingerprint: str) -> Finding:
    return replace(finding, fingerprint=fingerprint)


async def run_review(
    runtime: Runtime,
    chunks: Sequence[Chunk],
    *,
    jobs: int = 4,
    max_cost: float | None = None,
    on_progress: ProgressCallback | None = None,
    root: Path | None = None,
    stop: Awaitable[str] | None = None,
) -> ReviewRun:
    """Review `chunks` (of the repository at `root`, when there is one); see the module
    docstring for what stops a run and what it records. `stop`: resolved with a reason, it ends
    the run there (what finished is returned)."""
    reviewer = Reviewer(
        runtime, jobs=jobs, max_cost=max_cost, on_progress=on_progress, root=root, stop=stop
    )
    return await reviewer.run(chunks)


# -- a preview -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkPreview:
    chunk: Chunk
    input_tokens: int
    cached: bool


@dataclass(frozen=True)
class ModelEstimate:
    model: str
    currency: str
    input_cost: float  # the prompts of the chunks not in the cache
    worst_cost: float  # with every answer at review.maxTokens


def preview(
    runtime: Runtime, chunks: Sequence[Chunk], root: Path | None = None
) -> list[ChunkPreview]:
    """What a run would send, chunk by chunk, and which answers are already cached; raises
    ConfigError when a prompt template is refused."""
    templates = review_templates(runtime, root)
    out = []
    for chunk in chunks:
        prompt = build_prompt(runtime, chunk, templates)
        cached = is_cached(runtime, Prompt(prompt.request, prompt.key))
        out.append(ChunkPreview(chunk, request_tokens(prompt.request), cached))
    return out


def estimate_costs(runtime: Runtime, previews: Sequence[ChunkPreview]) -> list[ModelEstimate]:
    """The cost of the uncached chunks on every model of the price table."""
    to_send = [p for p in previews if not p.cached]
    input_tokens = sum(p.input_tokens for p in to_send)
    output_tokens = runtime.settings.review.max_tokens * len(to_send)
    table = runtime.ledger.prices
    return [
        ModelEstimate(
            model,
            price.currency,
            price.cost(Usage(input_tokens, 0)),
            price.cost(Usage(input_tokens, output_tokens)),
        )
        for model, price in sorted(table.prices.items())
    ]
