"""One user-visible message per incident, not one per keystroke.

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
