"""Failures as a user lives them: one message per incident, and a circuit breaker that
leaves a failing endpoint alone and tries it again by itself.

An incident is a kind of failure (no key, bad key, endpoint down, ...). Its message is shown
the first time a feature tells it; while it lasts, later failures of the same kind only go to
the log. A failure may be recorded without being told (a code action says why it failed in its
own answer), and told later by whoever reports to the user. A success ends every incident, so
the next failure is news again, but a kind is shown at most once a minute, so an endpoint that
flaps does not flood the editor.
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
    told: bool = False  # its message went to the user (or was held back by the quiet period)


class Incidents:
    QUIET_PERIOD = 60.0  # seconds between two messages of the same kind

    def __init__(self, show: Show, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._show = show
        self._clock = clock
        self._open: dict[str, Incident] = {}
        self._last_shown: dict[str, float] = {}

    def report(self, kind: str, message: str, *, show: bool = True) -> None:
        """A failure of `kind`; `show`: tell the user too (once per incident)."""
        incident = self._open.get(kind)
        if incident is not None:
            incident.count += 1
            log.info("%s (again, %d times)", message, incident.count)
        else:
            incident = self._open[kind] = Incident(kind, message, self._clock())
            log.warning("%s", message)
        if show:
            self._tell(incident)

    def tell(self, kind: str, message: str) -> None:
        """Tell the user about the incident of `kind` (opened now if it is not open), once."""
        incident = self._open.get(kind)
        if incident is None:
            self.report(kind, message)
        else:
            self._tell(incident)

    def _tell(self, incident: Incident) -> None:
        if incident.told:
            return
        incident.told = True
        now = self._clock()
        last = self._last_shown.get(incident.kind)
        if last is None or now - last >= self.QUIET_PERIOD:
            self._last_shown[incident.kind] = now
            self._show(incident.message)

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
    endpoint asked for; `rate_limited` says which of the two holds it open.
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
        self._rate_limited = False

    def is_open(self) -> bool:
        return self._clock() < self._open_until

    @property
    def state(self) -> str:
        if self.is_open():
            return "open"
        return "half-open" if self._failures >= self.THRESHOLD else "closed"

    def retry_in(self) -> float:
        return max(0.0, self._open_until - self._clock())

    @property
    def rate_limited(self) -> bool:
        """Open because the endpoint asked to wait (429), not because it keeps failing."""
        return self.is_open() and self._rate_limited

    def pause(self, seconds: float, *, rate_limited: bool = True) -> None:
        until = self._clock() + seconds
        if until > self._open_until:
            self._open_until = until
            self._rate_limited = rate_limited

    def record_failure(self) -> None:
        self._failures += 1
        if self._failures >= self.THRESHOLD:
            self.pause(self._backoff, rate_limited=False)
            self._backoff = min(self._backoff * 2, self.MAX_BACKOFF)

    def record_success(self) -> None:
        self._failures = 0
        self._backoff = self.FIRST_BACKOFF
        self._open_until = 0.0
