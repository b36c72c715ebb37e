"""The spend ledger as a report: today, the last 7 days and all time, per model.

Shared by `qwen-lsp stats` and the editor command `qwen-lsp.showStats`. Each model's money
stays in its own currency; the total line of a period is converted into one currency (the
budget's) with the price table's rate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from qwen_lsp.spend.ledger import Acceptance, Ledger, Totals


@dataclass(frozen=True)
class Period:
    key: str  # "today" | "week" | "all"
    title: str
    since: dt.date | None
    models: tuple[Totals, ...]
    total: Totals  # every model, money converted into the report's currency


def spend_report(ledger: Ledger, *, currency: str, today: dt.date | None = None) -> list[Period]:
    today = today or dt.date.today()
    week = today - dt.timedelta(days=6)
    spans = (
        ("today", f"Today ({today.isoformat()})", today),
        ("week", f"Last 7 days ({week.isoformat()} to {today.isoformat()})", week),
        ("all", "All time", None),
    )
    periods = []
    for key, title, since in spans:
        rows = tuple(ledger.totals(since=since, until=today if since else None))
        periods.append(Period(key, title, since, rows, _total(ledger, rows, currency)))
    return periods


def _total(ledger: Ledger, rows: tuple[Totals, ...], currency: str) -> Totals:
    convert = ledger.prices.convert
    return Totals(
        model="all models",
        currency=currency,
        requests=sum(t.requests for t in rows),
        input_tokens=sum(t.input_tokens for t in rows),
        output_tokens=sum(t.output_tokens for t in rows),
        cost=sum(convert(t.cost, t.currency, currency) for t in rows),
        saved_requests=sum(t.saved_requests for t in rows),
        saved=sum(convert(t.saved, t.currency, currency) for t in rows),
    )


def money(amount: float, currency: str) -> str:
    """An amount with enough digits to see the small sums completions cost."""
    if amount == 0:
        return f"{currency or '?'} 0"
    digits = 2 if amount >= 1 else 4 if amount >= 0.01 else 6
    return f"{currency or '?'} {amount:.{digits}f}"


_HEADER = ("model", "requests", "tokens in", "tokens out", "cost", "free answers", "saved")


def format_report(periods: list[Period], *, price_date: str = "") -> str:
    """The report as text tables, one per period."""
    out: list[str] = []
    for period in periods:
        out.append(period.title)
        if not period.models:
            out.extend(["  nothing recorded", ""])
            continue
        rows = [_HEADER]
        for t in (*period.models, period.total):
            name = t.model if t is not period.total else f"all models ({t.currency})"
            rows.append(
                (
                    name,
                    f"{t.requests:,}",
                    f"{t.input_tokens:,}",
                    f"{t.output_tokens:,}",
                    money(t.cost, t.currency),
                    f"{t.saved_requests:,}",
                    money(t.saved, t.currency),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            out.append("  " + "  ".join(cells).rstrip())
        out.append("")
    out.append(
        "free answers: served from the disk cache or reused without a request; "
        "saved: what those requests would have cost."
    )
    if price_date:
        out.append(f"Prices as read on {price_date}; money in each model's own currency.")
    return "\n".join(out)


def report_json(periods: list[Period]) -> dict[str, Any]:
    """The report as plain data (camelCase keys, as editors read them)."""

    def figures(t: Totals) -> dict[str, Any]:
        return {
            "model": t.model,
            "currency": t.currency,
            "requests": t.requests,
            "inputTokens": t.input_tokens,
            "outputTokens": t.output_tokens,
            "cost": t.cost,
            "savedRequests": t.saved_requests,
            "saved": t.saved,
        }

    return {
        p.key: {
            "title": p.title,
            "since": p.since.isoformat() if p.since else None,
            "models": [figures(t) for t in p.models],
            "total": figures(p.total),
        }
        for p in periods
    }


# -- acceptance: what became of the suggestions, per model ----------------------------------


@dataclass(frozen=True)
class AcceptanceRow:
    counts: Acceptance
    cost: float  # the model's completions, in `currency`
    currency: str

    @property
    def per_1000_retained(self) -> float | None:
        kept = self.counts.retained_chars
        return self.cost / kept * 1000 if kept and self.currency else None


def acceptance_report(ledger: Ledger, *, since: dt.date | None = None) -> list[AcceptanceRow]:
    """Per model: suggestions shown, accepted, characters retained, and what its completions
    cost (from `since`, all time by default)."""
    costs: dict[str, tuple[float, str]] = {}
    for t in ledger.totals(since=since, feature="completion"):
        cost, currency = costs.get(t.model, (0.0, t.currency))
        costs[t.model] = (cost + t.cost, currency or t.currency)
    return [
        AcceptanceRow(counts, *costs.get(counts.model, (0.0, "")))
        for counts in ledger.acceptance(since=since)
    ]


def format_acceptance(rows: list[AcceptanceRow]) -> str:
    """The acceptance table of `qwen-lsp stats`."""
    out = ["Suggestions, all time (counted on this machine only)"]
    if not rows:
        return "\n".join([*out, "  nothing recorded", ""])
    header = ("model", "shown", "accepted", "rate", "chars accepted", "retained", "per 1k retained")
    table = [header]
    for row in rows:
        c = row.counts
        per = row.per_1000_retained
        table.append(
            (
                c.model,
                f"{c.shown:,}",
                f"{c.accepted:,}",
                f"{c.rate:.0%}" if c.rate is not None else "-",
                f"{c.accepted_chars:,}",
                f"{c.retained_chars:,}",
                money(per, row.currency) if per is not None else "-",
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        cells = [r[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(r[1:], widths[1:], strict=True)]
        out.append("  " + "  ".join(cells).rstrip())
    out += [
        "",
        "retained: characters of accepted suggestions still in the file a while later "
        "(spend.retentionDelayMs); per 1k retained: the model's completion spend per 1,000.",
    ]
    return "\n".join(out)


def acceptance_json(rows: list[AcceptanceRow]) -> list[dict[str, Any]]:
    return [
        {
            "model": row.counts.model,
            "shown": row.counts.shown,
            "accepted": row.counts.accepted,
            "acceptanceRate": row.counts.rate,
            "acceptedChars": row.counts.accepted_chars,
            "retainedChars": row.counts.retained_chars,
            "measured": row.counts.measured,
            "cost": row.cost,
            "currency": row.currency,
            "costPer1000RetainedChars": row.per_1000_retained,
        }
        for row in rows
    ]
