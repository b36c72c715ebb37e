"""One user-visible message per incident, not one per keystroke.

An incident is a kind of failure (no key, bad key, endpoint down, ...). Its message is shown
the first time; while it lasts, later failures of the same kind only go to the log. A success
ends every incident, so the next failure is news again.
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
    def __init__(self, show: Show, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._show = show
        self._clock = clock
        self._open: dict[str, Incident] = {}

    def report(self, kind: str, message: str) -> None:
        incident = self._open.get(kind)
        if incident is not None:
            incident.count += 1
            log.info("%s (again, %d times)", message, incident.count)
            return
        self._open[kind] = Incident(kind, message, self._clock())
        log.warning("%s", message)
        self._show(message)

    def resolve(self) -> None:
        if self._open:
            log.info("resolved: %s", ", ".join(self._open))
            self._open.clear()

    @property
    def last(self) -> Incident | None:
        return max(self._open.values(), key=lambda i: i.since, default=None)
