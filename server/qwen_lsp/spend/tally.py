"""Today's and this month's spend, in memory: what budgets compare against on every keystroke
and what the status bar shows.

The ledger on disk is the truth (every editor process and `--check` write to it); reading it
costs a round trip to its SQLite thread, too much for each keystroke. `Tally` keeps the
figures of today (per model) and of this month (per currency), adds this process's own
records to them as they happen, and reads the ledger again every few seconds and when the
day changes, so spend by other processes counts soon (a read takes well under a millisecond,
paid once per `REFRESH_SECONDS` by whichever request comes first).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from qwen_lsp.model import Usage
from qwen_lsp.spend.ledger import Ledger, Totals

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class DaySummary:
    """One day's figures across models, money in one currency."""

    requests: int
    input_tokens: int
    output_tokens: int
    cost: float
    saved_requests: int
    saved: float
    currency: str

    @property
    def hit_rate(self) -> float | None:
        """Share of answers served without a paid call (disk cache or reuse)."""
        answers = self.requests + self.saved_requests
        return self.saved_requests / answers if answers else None


class Tally:
    def __init__(
        self,
        ledger: Ledger,
        *,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self.ledger = ledger
        self._clock = clock
        self._today = today
        self._day: dt.date | None = None
        self._models: dict[tuple[str, str], Totals] = {}
        self._month: dict[str, float] = {}  # currency -> paid this month
        self._fresh_until = 0.0

    # -- records: the ledger, and the figures in memory at once ----------------------------

    def record_call(self, feature: str, model: str, usage: Usage) -> float:
        self._refresh_if_due()  # before the record, or the re-read would count it twice
        cost = self.ledger.record_call(feature, model, usage)
        self._add(model, usage, cost, paid=True)
        return cost

    def record_saved(self, feature: str, model: str, usage: Usage, how: str = "cache") -> float:
        self._refresh_if_due()
        saved = self.ledger.record_saved(feature, model, usage, how)
        self._add(model, usage, saved, paid=False)
        return saved

    def _add(self, model: str, usage: Usage, amount: float, *, paid: bool) -> None:
        price = self.ledger.prices.price(model)
        currency = price.currency if price else ""
        key = (model, currency)
        totals = self._models.get(key, Totals(model, currency))
        if paid:
            totals = replace(
                totals,
                requests=totals.requests + 1,
                input_tokens=totals.input_tokens + usage.input_tokens,
                output_tokens=totals.output_tokens + usage.output_tokens,
                cost=totals.cost + amount,
            )
            self._month[currency] = self._month.get(currency, 0.0) + amount
        else:
            totals = replace(
                totals, saved_requests=totals.saved_requests + 1, saved=totals.saved + amount
            )
        self._models[key] = totals

    # -- reads ---------------------------------------------------------------------------

    def spent(self, since: dt.date, currency: str) -> float:
        """Paid since `since`, in `currency` (the shape `spend.check_budget` reads)."""
        self._refresh_if_due()
        prices = self.ledger.prices
        if since == self._day:
            return sum(prices.convert(t.cost, t.currency, currency) for t in self._models.values())
        if self._day is not None and since == self._day.replace(day=1):
            return sum(prices.convert(cost, cur, currency) for cur, cost in self._month.items())
        return self.ledger.spent(since, currency)

    def today(self, currency: str) -> DaySummary:
        self._refresh_if_due()
        convert = self.ledger.prices.convert
        rows = list(self._models.values())
        return DaySummary(
            requests=sum(t.requests for t in rows),
            input_tokens=sum(t.input_tokens for t in rows),
            output_tokens=sum(t.output_tokens for t in rows),
            cost=sum(convert(t.cost, t.currency, currency) for t in rows),
            saved_requests=sum(t.saved_requests for t in rows),
            saved=sum(convert(t.saved, t.currency, currency) for t in rows),
            currency=currency,
        )

    def today_by_model(self) -> list[Totals]:
        """Today's figures per model, money in each model's currency."""
        self._refresh_if_due()
        return list(self._models.values())

    def refresh(self) -> None:
        """Read today's and this month's figures from the ledger."""
        day = self._today()
        try:
            today_rows = self.ledger.totals(since=day, until=day)
            month_rows = self.ledger.totals(since=day.replace(day=1), until=day)
        except Exception as exc:  # the ledger degrades on its own; keep the figures we have
            log.warning("cannot read the spend ledger: %s", exc)
            self._fresh_until = self._clock() + REFRESH_SECONDS
            return
        self._day = day
        self._models = {(t.model, t.currency): t for t in today_rows}
        month: dict[str, float] = {}
        for t in month_rows:
            month[t.currency] = month.get(t.currency, 0.0) + t.cost
        self._month = month
        self._fresh_until = self._clock() + REFRESH_SECONDS

    def _refresh_if_due(self) -> None:
        if self._clock() >= self._fresh_until or self._day != self._today():
            self.refresh()


@dataclass(frozen=True)
class BudgetState:
    """Whether spending may go on; `reason` says which limit was reached."""

    allowed: bool
    reason: str | None = None


def check_budget(
    ledger: Tally | Ledger,
    *,
    daily_limit: float | None,
    monthly_limit: float | None,
    currency: str,
    today: dt.date | None = None,
) -> BudgetState:
    today = today or dt.date.today()
    if daily_limit is not None:
        spent = ledger.spent(today, currency)
        if spent >= daily_limit:
            return BudgetState(
                False, f"the daily limit of {daily_limit:g} {currency} is reached ({spent:.4f})"
            )
    if monthly_limit is not None:
        spent = ledger.spent(today.replace(day=1), currency)
        if spent >= monthly_limit:
            return BudgetState(
                False,
                f"the monthly limit of {monthly_limit:g} {currency} is reached ({spent:.4f})",
            )
    return BudgetState(True)
