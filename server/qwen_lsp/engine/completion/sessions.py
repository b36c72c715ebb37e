"""Per-document completion state: which request is the newest, what is in flight, what was
suggested last, and how fast the user types there.

Editors ask on every key. VS Code cancels the previous request (`$/cancelRequest`, which
cancels its handler's task); Neovim just asks again. Either way only the newest request of a
document matters: `arrive` supersedes the older one, which returns nothing at its next wait.
A model request runs as a `Flight` of its own, so a newer request whose cursor only moved
forward by what the user typed can adopt it instead of paying again; a flight nobody waits
for is cancelled, with its HTTP request, after a short grace (VS Code cancels the old request
just before it sends the new one that may adopt the flight).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from qwen_lsp.engine.completion.debounce import TypingRhythm
from qwen_lsp.engine.completion.reuse import Anchor, Remembered

log = logging.getLogger(__name__)

LINGER = 0.25  # seconds a flight nobody waits for lives on, for a newer request to adopt
# Each session holds up to two copies of its document's text (the anchors of the last answer
# and of the request in flight): only the documents worked in most recently keep one.
MAX_SESSIONS = 16


class Ticket:
    """One completion request of a document."""

    __slots__ = ("_superseded", "arrived", "manual")

    def __init__(self, arrived: float, manual: bool) -> None:
        self.arrived = arrived
        self.manual = manual
        self._superseded: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def superseded(self) -> bool:
        return self._superseded.done()

    def supersede(self) -> None:
        if not self._superseded.done():
            self._superseded.set_result(None)

    async def wait_until(self, deadline: float) -> bool:
        """Sleep until `deadline` (loop time) unless a newer request comes first; True when
        this is still the newest request."""
        delay = deadline - asyncio.get_running_loop().time()
        if delay > 0 and not self.superseded:
            await asyncio.wait([self._superseded], timeout=delay)
        # A keystroke read in the same turn of the loop as the timer has not superseded this
        # request yet: give its handler a turn first.
        await asyncio.sleep(0)
        return not self.superseded


class Flight:
    """A model request in flight, which the request that started it and newer ones await."""

    def __init__(self, anchor: Anchor, task: asyncio.Task[Remembered | None]) -> None:
        self.anchor = anchor
        self.task = task
        self._waiters = 0
        self._linger: asyncio.TimerHandle | None = None

    async def join(self, ticket: Ticket) -> Remembered | None:
        """The answer; None when `ticket` was superseded or the request failed or was cut."""
        self._waiters += 1
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        try:
            await asyncio.wait([self.task, ticket._superseded], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._waiters -= 1
            if not self._waiters and not self.task.done():
                loop = asyncio.get_running_loop()
                self._linger = loop.call_later(LINGER, self._abandon)
        if ticket.superseded or not self.task.done() or self.task.cancelled():
            return None
        return self.task.result()  # failures were reported inside the task and return None

    def _abandon(self) -> None:
        self._linger = None
        if not self._waiters:
            self.task.cancel()

    def cancel(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        self.task.cancel()


class DocumentSession:
    def __init__(self) -> None:
        self.rhythm = TypingRhythm()
        self.latest: Ticket | None = None
        self.flight: Flight | None = None
        self.remembered: Remembered | None = None
        self._saving: asyncio.TimerHandle | None = None

    def arrive(self, now: float, manual: bool) -> Ticket:
        """A new request: it supersedes the previous one (and its pending savings record)."""
        if self.latest is not None:
            self.latest.supersede()
        if self._saving is not None:
            self._saving.cancel()
            self._saving = None
        if not manual:
            self.rhythm.keystroke(now)
        self.latest = Ticket(now, manual)
        return self.latest

    def settle(self, ticket: Ticket, record: Callable[[], None], delay: float) -> None:
        """Run `record` once `ticket` has stood for `delay` seconds unsuperseded.

        An answer served without a request saved a paid call only if the request would have
        been sent: if the next key comes within the debounce, it would not have been.
        """
        if delay <= 0:
            record()
            return

        def fire() -> None:
            self._saving = None
            if not ticket.superseded:
                record()

        self._saving = asyncio.get_running_loop().call_later(delay, fire)

    def start_flight(self, anchor: Anchor, work: Coroutine[Any, Any, Remembered | None]) -> Flight:
        self.drop_flight()
        flight = Flight(anchor, asyncio.get_running_loop().create_task(work))
        self.flight = flight
        flight.task.add_done_callback(lambda _: self._landed(flight))
        return flight

    def _landed(self, flight: Flight) -> None:
        if self.flight is flight:
            self.flight = None

    def drop_flight(self) -> None:
        """Cancel the request in flight (and its HTTP call): the document moved on."""
        if self.flight is not None:
            self.flight.cancel()
            self.flight = None

    def forget(self) -> None:
        """Drop the answers of the settings before: the last one and the one in flight."""
        self.drop_flight()
        self.remembered = None
        if self._saving is not None:
            self._saving.cancel()
            self._saving = None

    def close(self) -> None:
        self.drop_flight()
        if self.latest is not None:
            self.latest.supersede()
        if self._saving is not None:
            self._saving.cancel()


class CompletionSessions:
    """The sessions of the documents worked in most recently, and whether a model request
    is out (for the status bar). Listeners hear of every change of either."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, DocumentSession] = OrderedDict()
        self.busy = 0
        self.listeners: list[Callable[[], None]] = []

    def get(self, key: str) -> DocumentSession:
        session = self._sessions.get(key)
        if session is None:
            session = self._sessions[key] = DocumentSession()
            while len(self._sessions) > MAX_SESSIONS:
                _, old = self._sessions.popitem(last=False)
                old.close()
        else:
            self._sessions.move_to_end(key)
        return session

    def forget(self) -> None:
        """The settings changed: no document keeps an answer of the old ones."""
        for session in self._sessions.values():
            session.forget()

    def changed(self) -> None:
        for listener in self.listeners:
            try:
                listener()
            except Exception:  # a status bar must never break a completion
                log.exception("completion state listener failed")

    @contextmanager
    def busy_while(self) -> Iterator[None]:
        self.busy += 1
        self.changed()
        try:
            yield
        finally:
            self.busy -= 1
            self.changed()
