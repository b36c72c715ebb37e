"""The runtime a use case works in: settings, answer cache, prompt-mode memory and provider.

Built once per server (or CLI run) and updated in place when settings change, so a new
provider is made only when the endpoint itself changed. Failures are turned into the one
message a user sees here, in one place (`explain`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from qwen_lsp import errors
from qwen_lsp.cache import AnswerCache
from qwen_lsp.config import LoadedSettings, Settings, cache_dir, is_local_url, needs_key
from qwen_lsp.engine.acceptance import AcceptanceBook
from qwen_lsp.engine.completion.sessions import CompletionSessions
from qwen_lsp.engine.failures import CircuitBreaker, Incidents, Show
from qwen_lsp.engine.workspace import Workspace
from qwen_lsp.model import PromptMode
from qwen_lsp.prompts import PromptLibrary
from qwen_lsp.providers import Endpoint, Provider, create_provider
from qwen_lsp.providers.probing import ModeMemory
from qwen_lsp.providers.redacting import RedactingProvider
from qwen_lsp.spend import BudgetState, Ledger, check_budget, load_prices
from qwen_lsp.spend.tally import Tally
from qwen_lsp.storage import ANSWERS, INDEX, LEDGER, MODES, prepare_cache_root

log = logging.getLogger(__name__)

KEY_HELP = {
    "dashscope": "set DASHSCOPE_API_KEY (a key from the Model Studio console of your region)",
    "openai": "set OPENAI_API_KEY",
    "openai-compatible": "set QWEN_LSP_API_KEY or OPENAI_API_KEY for that endpoint",
}


class Runtime:
    def __init__(self, loaded: LoadedSettings, *, show: Show, use_cache: bool = True) -> None:
        self.loaded = loaded
        self.incidents = Incidents(show)
        self.prompts = PromptLibrary()
        self._provider: Provider | None = None
        self._endpoint: Endpoint | None = None
        self.breaker = CircuitBreaker()
        self._show = show
        self._told: set[str] = set()
        self._last_failure = ""  # the endpoint's last failure, as explained to the user
        # Why nothing is sent until the settings change: "" for every model (the key was
        # refused), else per model (it refused every prompt mode).
        self._halts: dict[str, str] = {}
        directory = cache_dir(loaded.settings)
        try:
            # Made 0700; tightened when it is ours (each store below says what else is wrong).
            prepare_cache_root(directory, default=not loaded.settings.cache.dir)
        except OSError as exc:
            log.info("cannot prepare the cache folder %s: %s", directory, exc)
        enabled = use_cache and loaded.settings.cache.enabled
        self.cache = AnswerCache(
            directory / ANSWERS if enabled else None,
            size_limit_mb=loaded.settings.cache.max_size_mb,
            on_warning=show,
        )
        self.modes = ModeMemory(directory / MODES)
        price_file = loaded.settings.spend.price_file
        self.ledger = Ledger(
            directory / LEDGER if use_cache else None,
            load_prices(Path(price_file).expanduser() if price_file else None),
        )
        # Today's spend in memory (budgets on every keystroke, the status bar), and the
        # per-document completion state (debounce, reuse, requests in flight).
        self.tally = Tally(self.ledger)
        # Suggestions shown, accepted and retained, counted into the ledger (locally only).
        self.acceptance = AcceptanceBook(
            self.ledger,
            enabled=lambda: self.settings.spend.count_acceptance,
            delay=lambda: self.settings.spend.retention_delay_ms / 1000,
        )
        self.completions = CompletionSessions()
        self.acceptance.on_count = self.completions.changed  # the status bar shows the counts
        # The symbol indexes of the workspace folders (stored beside the answers, so a
        # restart re-reads only changed files), open documents and recent edits.
        self.workspace = Workspace(directory / INDEX if loaded.settings.cache.enabled else None)
        self.workspace.configure(loaded.settings)

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    def update(self, loaded: LoadedSettings) -> None:
        previous = self.loaded
        before = _endpoint_settings(previous)
        self.loaded = loaded
        self.workspace.configure(loaded.settings)
        if self._halts and _endpoint_settings(loaded) != before:
            log.info("settings changed: requests are sent again")
            self._halts.clear()
            self.incidents.resolve()
        if (previous.settings, previous.base_url) != (loaded.settings, loaded.base_url):
            # Another model, endpoint, mode or sampling: the answers kept in memory (and the
            # requests in flight) were the old setup's, never to be served for the new one.
            self.completions.forget()
            settings = loaded.settings
            log.info(
                "settings changed: provider %s, model %s, endpoint %s, prompt mode %s",
                settings.provider,
                settings.completion_model,
                loaded.base_url,
                settings.forced_mode.value if settings.forced_mode else "auto",
            )

    def endpoint(self, timeout: float) -> Endpoint:
        return Endpoint(
            provider=self.settings.provider,
            base_url=self.loaded.base_url,
            api_key=self.loaded.api_key,
            timeout=timeout,
            region=self.settings.region,
            server_kind=self.settings.server_kind,
        )

    def halt(self, exc: Exception, *, model: str | None = None) -> None:
        """Send nothing more (for `model`, else at all) until the settings change: the endpoint
        refused the key, or every prompt mode of the model."""
        self._halts[model or ""] = "halted"  # so the explanation says so
        self._halts[model or ""] = self.explain(exc)

    def halted(self, model: str) -> str | None:
        """Why nothing is sent for `model` now, or None."""
        return self._halts.get("") or self._halts.get(model)

    def provider(self) -> Provider:
        """The provider for the current settings; ConfigError when it cannot work (no key)."""
        settings = self.settings
        if self.loaded.api_key is None and needs_key(settings, self.loaded.base_url):
            raise errors.ConfigError(
                f"qwen-lsp: no API key for {settings.provider}: {KEY_HELP[settings.provider]}, "
                "then restart the editor. `qwen-lsp doctor` checks the setup."
            )
        if settings.privacy.local_only and not (
            self.loaded.base_url and is_local_url(self.loaded.base_url)
        ):
            raise errors.ConfigError(
                f"qwen-lsp: privacy.localOnly is on, so {self.loaded.base_url or 'the default'} "
                "endpoint is refused: point baseUrl at a server on this machine or your network."
            )
        endpoint = self.endpoint(settings.completion.timeout_ms / 1000)
        if self._provider is None or endpoint != self._endpoint:
            if self._provider is not None:
                self._close_later(self._provider)  # its connections go with the old settings
            self._provider = RedactingProvider(create_provider(endpoint))
            self._endpoint = endpoint
        return self._provider

    @staticmethod
    def _close_later(provider: Provider) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop, no open connections to close
        task = loop.create_task(provider.aclose())

        def closed(done: asyncio.Task[None]) -> None:
            if not done.cancelled() and done.exception() is not None:
                log.debug("closing the previous provider: %s", done.exception())

        task.add_done_callback(closed)

    def candidate_modes(self, provider: Provider, model: str) -> tuple[PromptMode, ...]:
        if self.settings.forced_mode is not None:
            return (self.settings.forced_mode,)
        remembered = self.modes.get(self.settings.provider, self.loaded.base_url, model)
        offered = provider.modes(model)
        if remembered in offered:
            return (remembered, *(m for m in offered if m is not remembered))
        return offered

    def budget(self) -> BudgetState:
        """Whether the spend limits allow another paid call (every process's spend counts)."""
        spend = self.settings.spend
        if spend.daily_limit is None and spend.monthly_limit is None:
            return BudgetState(True)
        return check_budget(
            self.tally,  # type: ignore[arg-type]  # the ledger's figures, kept in memory
            daily_limit=spend.daily_limit,
            monthly_limit=spend.monthly_limit,
            currency=spend.currency,
        )

    # -- failures -----------------------------------------------------------------------

    def paused(self) -> bool:
        """No completion request should go out now: rate limited, the endpoint keeps failing,
        or it refused the key or the completion model until the settings change."""
        return self.breaker.is_open() or self.halted(self.settings.completion_model) is not None

    def explain(self, exc: Exception) -> str:
        """The sentence a user sees for a failure; never includes a key."""
        settings = self.settings
        where = self.loaded.base_url or settings.provider
        if isinstance(exc, errors.ConfigError):
            return str(exc)
        if isinstance(exc, errors.AuthError):
            region = (
                f" and belongs to region {settings.region}"
                if settings.provider == "dashscope"
                else ""
            )
            return (
                f"qwen-lsp: {where} refused the API key (HTTP {exc.status or 401}); "
                f"check that it is valid{region}. Nothing is sent until the settings change."
            )
        if isinstance(exc, errors.QuotaExhausted):
            return f"qwen-lsp: {where} says the account's quota is exhausted: {exc}"
        if isinstance(exc, errors.RateLimitError):
            wait = f"; pausing for {exc.retry_after:g} s" if exc.retry_after else ""
            return f"qwen-lsp: {where} is rate limiting requests{wait}."
        if isinstance(exc, errors.DeadlineExceeded):
            return f"qwen-lsp: no answer from {where} within its deadline."
        if isinstance(exc, errors.EndpointUnavailable):
            return f"qwen-lsp: cannot reach {where}: {exc}"
        if isinstance(exc, errors.EndpointPaused):
            if exc.halted:
                return str(exc)
            if exc.rate_limited:
                return (
                    f"qwen-lsp: {where} is rate limiting requests; none is sent for the next "
                    f"{exc.retry_in:.0f} s."
                )
            wait = f"nothing is sent to it for the next {exc.retry_in:.0f} s"
            if self._last_failure:
                return f"qwen-lsp: {self._last_failure}; it keeps failing, so {wait}."
            return f"qwen-lsp: {where} keeps failing; {wait}."
        if isinstance(exc, errors.UnsupportedMode):
            return (
                f"qwen-lsp: {where} rejected the request ({exc}); try another model or "
                "promptMode."
                + (
                    " Completions are paused until the settings change."
                    if self._halts.get(settings.completion_model)
                    else ""
                )
            )
        if isinstance(exc, errors.PromptTooLong):
            return f"qwen-lsp: the prompt is too long for the model at {where}: {exc}"
        if isinstance(exc, errors.BadResponse):
            return f"qwen-lsp: {where} answered something that is not a completion: {exc}"
        return f"qwen-lsp: unexpected error: {exc}"

    def fail(self, exc: Exception, *, tell: bool = True) -> None:
        """Record a failure: the breaker backs off when asked to, and its incident opens;
        `tell`: the user hears of it now (once per incident), else when `tell` is called."""
        if isinstance(exc, errors.AuthError):
            self.halt(exc)
        if isinstance(exc, errors.RateLimitError):
            self.breaker.pause(exc.retry_after or 5.0)
        elif isinstance(exc, errors.ProviderError) and exc.kind in CircuitBreaker.COUNTED:
            self.breaker.record_failure()
        message = self.explain(exc)
        if isinstance(exc, errors.ProviderError) and not isinstance(exc, errors.EndpointPaused):
            self._last_failure = message.removeprefix("qwen-lsp: ").rstrip(".")
        self.incidents.report(_kind(exc), message, show=tell)

    def tell(self, exc: Exception) -> None:
        """Tell the user about a failure (recorded by `fail` or not), once per incident."""
        self.incidents.tell(_kind(exc), self.explain(exc))

    def tell_once(self, key: str, message: str) -> None:
        """A message about something that does not change by itself (a file too large)."""
        if key not in self._told:
            self._told.add(key)
            log.info("%s", message)
            self._show(message)

    def succeed(self) -> None:
        self.breaker.record_success()
        self.incidents.resolve()

    async def aclose(self) -> None:
        if self._provider is not None:
            try:
                await self._provider.aclose()
            except Exception as exc:  # closing must not mask shutdown
                log.debug("closing provider: %s", exc)
        self.workspace.save()  # what changed since the last save: edits, file events
        self.acceptance.measure_all()  # accepted suggestions not measured yet: measured now
        self.cache.close()
        self.ledger.close()


def _endpoint_settings(loaded: LoadedSettings) -> tuple[object, ...]:
    """What a halt depends on: a change to any of these may make the endpoint work."""
    s = loaded.settings
    return (
        s.provider,
        s.completion_model,
        s.resolved_chat_model,
        loaded.base_url,
        loaded.api_key,
        s.region,
        s.prompt_mode,
        s.server_kind,
    )


def _kind(exc: Exception) -> str:
    """The incident a failure belongs to."""
    return str(getattr(exc, "kind", type(exc).__name__))
