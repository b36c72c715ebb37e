"""The `qwen-lsp/status` notification and the `qwen-lsp.showStats` command.

The notification carries what an editor's status bar shows, and is sent when it changes
(a request goes out or comes back, money is spent or saved, a failure starts):
`{enabled, busy, lastError, today: {requests, inputTokens, outputTokens, cost, saved,
savedRequests, currency}, cacheHitRate}`, money in the `spend.currency`, `cacheHitRate` the
share of today's answers served without a paid call (null before the first).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from qwen_lsp.engine import Runtime
from qwen_lsp.lsp.server import QwenLanguageServer
from qwen_lsp.spend.report import format_report, money, report_json, spend_report

log = logging.getLogger(__name__)

METHOD = "qwen-lsp/status"
SHOW_STATS = "qwen-lsp.showStats"


def status(runtime: Runtime) -> dict[str, Any]:
    settings = runtime.settings
    today = runtime.tally.today(settings.spend.currency)
    last = runtime.incidents.last
    rate = today.hit_rate
    return {
        "enabled": settings.completion.enabled and runtime.budget().allowed,
        "busy": runtime.completions.busy > 0,
        "lastError": last.message if last is not None else None,
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
        payload = status(runtime)
        if payload != self._last:
            self._last = payload
            self._sent_at = asyncio.get_running_loop().time()
            self._ls.protocol.notify(METHOD, payload)


def attach(ls: QwenLanguageServer) -> None:
    """Publish the status from now on (called at initialize, once the runtime exists)."""
    runtime = ls.runtime
    if runtime is None:
        return
    publisher = StatusPublisher(ls)
    runtime.completions.listeners.append(publisher.changed)
    publisher.changed()  # the first one goes out right after the initialize response
    if SHOW_STATS not in ls.protocol.fm.commands:
        ls.command(SHOW_STATS)(show_stats)


async def show_stats(ls: QwenLanguageServer, *args: Any) -> dict[str, Any] | None:
    """Today's spend in a message, the whole report in the log; the figures as the result."""
    runtime = ls.runtime
    if runtime is None:
        return None
    currency = runtime.settings.spend.currency
    periods = await asyncio.to_thread(spend_report, runtime.ledger, currency=currency)
    today = periods[0].total
    ls.show(
        f"qwen-lsp today: {today.requests} requests, {money(today.cost, currency)} spent; "
        f"{today.saved_requests} answers without a request saved {money(today.saved, currency)}.",
        types.MessageType.Info,
    )
    text = format_report(periods, price_date=runtime.ledger.prices.date)
    ls.log_to_client(text, keep_lines=True)  # a table
    return {"text": text, **report_json(periods)}
