"""Failures as a user lives them: one message per incident, and a circuit breaker that
leaves a failing endpoint alone and tries it again by itself.

An incident is a kind of failure (no key, bad key, endpoint down, ...). Its message is shown
the first time; while it lasts, later failures of the same kind only go to the log. A success
ends every incident, so the next failure is news again, but a kind is shown at most once a
minute, so an endpoint that flaps does not flood the editor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Show = Callable[[str], None]


@dataclass
class Incident:
    kind: str
    message: str
    since: float
    count: int = 1


class Incidents:
    QUIET_PERIOD = 60.0  # seconds between two messages of the same kind

    def __init__(self, show: Show, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._show = show
        self._clock = clock
        self._open: dict[str, Incident] = {}
        self._last_shown: dict[str, float] = {}

    def report(self, kind: str, message: str) -> None:
        incident = self._open.get(kind)
        if incident is not None:
            incident.count += 1
            log.info("%s (again, %d times)", message, incident.count)
            return
        now = self._clock()
        self._open[kind] = Incident(kind, message, now)
        log.warning("%s", message)
        last = self._last_shown.get(kind)
        if last is None or now - last >= self.QUIET_PERIOD:
            self._last_shown[kind] = now
            self._show(message)

    def resolve(self) -> None:
        if self._open:
            log.info("resolved: %s", ", ".join(self._open))
            self._open.clear()

    @property
    def last(self) -> Incident | None:
        return max(self._open.values(), key=lambda i: i.since, default=None)


class CircuitBreaker:
    """Stops sending to an endpoint that keeps failing, and tries again by itself.

    After `THRESHOLD` failures in a row the circuit opens for a while (5 s, doubling up to
    a minute); when that time is over one request goes through as a trial: success closes
    the circuit, failure opens it again for longer. A 429 opens it for the Retry-After the
    endpoint asked for.
    """

    THRESHOLD = 3
    FIRST_BACKOFF = 5.0
    MAX_BACKOFF = 60.0
    COUNTED = frozenset({"unavailable", "deadline", "bad-response", "provider"})

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures = 0
        self._backoff = self.FIRST_BACKOFF
        self._open_until = 0.0

    def is_open(self) -> bool:
        return self._clock() < self._open_until

    @property
    def state(self) -> str:
        if self.is_open():
            return "open"
        return "half-open" if self._failures >= self.THRESHOLD else "closed"

    def retry_in(self) -> float:
        return max(0.0, self._open_until - self._clock())

    def pause(self, seconds: float) -> None:
        self._open_until = max(self._open_until, self._clock() + seconds)

    def record_failure(self) -> None:
        self._failures += 1
        if self._failures >= self.THRESHOLD:
            self.pause(self._backoff)
            self._backoff = min(self._backoff * 2, self.MAX_BACKOFF)

    def record_success(self) -> None:
        self._failures = 0
        self._backoff = self.FIRST_BACKOFF
        self._open_until = 0.0
