"""What a session shows about itself: the status an editor's status bar displays (completions
on, a request under way, the failure going on, today's spend) and when it may have changed,
and the spend report behind an editor's "show stats" command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.spend.report import AcceptanceRow, Period, acceptance_report, spend_report
from qwen_lsp.spend.tally import DaySummary


@dataclass(frozen=True)
class ModelAcceptance:
    """Today's suggestions of one model in this session, and its spend today."""

    model: str
    shown: int
    accepted: int
    retained_chars: int
    cost: float  # in `currency`
    currency: str

    @property
    def rate(self) -> float | None:
        return self.accepted / self.shown if self.shown else None

    @property
    def per_1000_retained(self) -> float | None:
        if not self.retained_chars or not self.currency:
            return None
        return self.cost / self.retained_chars * 1000


@dataclass(frozen=True)
class SessionStatus:
    enabled: bool  # completions are on and the spend limits allow another request
    busy: bool  # a completion request is under way
    last_error: str | None  # the message of the failure going on now
    today: DaySummary  # money in `spend.currency`
    acceptance: tuple[ModelAcceptance, ...] = ()


def session_status(runtime: Runtime) -> SessionStatus:
    settings = runtime.settings
    last = runtime.incidents.last
    return SessionStatus(
        enabled=settings.completion.enabled and runtime.budget().allowed,
        busy=runtime.completions.busy > 0,
        last_error=last.message if last is not None else None,
        today=runtime.tally.today(settings.spend.currency),
        acceptance=_acceptance(runtime),
    )


def _acceptance(runtime: Runtime) -> tuple[ModelAcceptance, ...]:
    counts = runtime.acceptance.today()
    if not counts:
        return ()
    spent = {t.model: (t.cost, t.currency) for t in runtime.tally.today_by_model()}
    return tuple(
        ModelAcceptance(model, shown, accepted, kept, *spent.get(model, (0.0, "")))
        for model, (shown, accepted, kept) in sorted(counts.items())
    )


def on_status_change(runtime: Runtime, listener: Callable[[], None]) -> None:
    """Call `listener` whenever the status may have changed (a completion request goes out or
    comes back, money is spent or saved, a failure starts)."""
    runtime.completions.listeners.append(listener)


def status_changed(runtime: Runtime) -> None:
    """Tell the listeners something outside a request changed the status (new settings may
    have turned completions on or off)."""
    runtime.completions.changed()


@dataclass(frozen=True)
class SpendStats:
    periods: list[Period]  # today, the last 7 days, all time
    currency: str  # of each period's total
    price_date: str  # when the price table was read
    acceptance: list[AcceptanceRow]  # per model, all time


def spend_stats(runtime: Runtime) -> SpendStats:
    """The spend ledger's report; it reads the database: call it from a worker thread."""
    currency = runtime.settings.spend.currency
    periods = spend_report(runtime.ledger, currency=currency)
    accepted = acceptance_report(runtime.ledger)
    return SpendStats(periods, currency, runtime.ledger.prices.date, accepted)
