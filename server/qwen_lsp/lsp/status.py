"""The `qwen-lsp/status` notification and the `qwen-lsp.showStats` command.

The notification carries what an editor's status bar shows, and is sent when it changes
(a request goes out or comes back, money is spent or saved, a failure starts):
`{enabled, busy, lastError, today: {requests, inputTokens, outputTokens, cost, saved,
savedRequests, currency}, cacheHitRate, acceptance}`, money in the `spend.currency`,
`cacheHitRate` the share of today's answers served without a paid call (null before the
first), `acceptance` per model today in this session: `{model, shown, accepted,
acceptanceRate, retainedChars, cost, currency, costPer1000RetainedChars}` (cost in the
model's currency, counted on this machine only).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from qwen_lsp.engine import SessionStatus, on_status_change, session_status, spend_stats
from qwen_lsp.lsp.server import QwenLanguageServer
from qwen_lsp.spend.report import (
    acceptance_json,
    format_acceptance,
    format_report,
    money,
    report_json,
)

log = logging.getLogger(__name__)

METHOD = "qwen-lsp/status"
SHOW_STATS = "qwen-lsp.showStats"


def payload(status: SessionStatus) -> dict[str, Any]:
    today = status.today
    rate = today.hit_rate
    return {
        "enabled": status.enabled,
        "busy": status.busy,
        "lastError": status.last_error,
        "today": {
            "requests": today.requests,
            "inputTokens": today.input_tokens,
            "outputTokens": today.output_tokens,
            "cost": round(today.cost, 8),
            "saved": round(today.saved, 8),
            "savedRequests": today.saved_requests,
            "currency": today.currency,
        },
        "cacheHitRate": round(rate, 4) if rate is not None else None,
        "acceptance": [
            {
                "model": a.model,
                "shown": a.shown,
                "accepted": a.accepted,
                "acceptanceRate": round(a.rate, 4) if a.rate is not None else None,
                "retainedChars": a.retained_chars,
                "cost": round(a.cost, 8),
                "currency": a.currency,
                "costPer1000RetainedChars": (
                    round(a.per_1000_retained, 8) if a.per_1000_retained is not None else None
                ),
            }
            for a in status.acceptance
        ],
    }


class StatusPublisher:
    """Sends the status when it differs from what the editor last got, at most once every
    `INTERVAL` seconds (the last change always goes out): a notification costs the server
    about half a millisecond, and completions come several times a second."""

    INTERVAL = 0.25

    def __init__(self, ls: QwenLanguageServer) -> None:
        self._ls = ls
        self._last: dict[str, Any] | None = None
        self._scheduled = False
        self._sent_at = float("-inf")

    def changed(self) -> None:
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._scheduled = True
        loop.call_later(max(self._sent_at + self.INTERVAL - loop.time(), 0), self.publish)

    def publish(self) -> None:
        self._scheduled = False
        runtime = self._ls.runtime
        if runtime is None:
            return
        current = payload(session_status(runtime))
        if current != self._last:
            self._last = current
            self._sent_at = asyncio.get_running_loop().time()
            self._ls.protocol.notify(METHOD, current)


def _start_publishing(ls: QwenLanguageServer, params: types.InitializeParams) -> None:
    """From initialize on (the runtime exists by then), publish each change."""
    if ls.runtime is None:
        return
    publisher = ls.state(StatusPublisher)
    on_status_change(ls.runtime, publisher.changed)
    publisher.changed()  # the first one goes out right after the initialize response


async def show_stats(ls: QwenLanguageServer, *args: Any) -> dict[str, Any] | None:
    """Today's spend in a message, the whole report in the log; the figures as the result."""
    if ls.runtime is None:
        return None
    stats = await asyncio.to_thread(spend_stats, ls.runtime)
    today, currency = stats.periods[0].total, stats.currency
    ls.show(
        f"qwen-lsp today: {today.requests} requests, {money(today.cost, currency)} spent; "
        f"{today.saved_requests} answers without a request saved {money(today.saved, currency)}.",
        types.MessageType.Info,
    )
    text = format_report(stats.periods, price_date=stats.price_date)
    text += "\n\n" + format_acceptance(stats.acceptance)
    ls.log_to_client(text, keep_lines=True)  # a table
    return {
        "text": text,
        **report_json(stats.periods),
        "acceptance": acceptance_json(stats.acceptance),
    }


def register(server: QwenLanguageServer) -> None:
    server.add_state(StatusPublisher(server))
    server.on_initialize.append(_start_publishing)
    server.command(SHOW_STATS)(show_stats)
