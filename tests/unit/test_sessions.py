"""Per-document request state: the newest request wins, a flight nobody waits for is cancelled
after a short grace, and one a newer request adopts lives on."""

from __future__ import annotations

import asyncio

import pytest

from qwen_lsp.engine.completion import sessions
from qwen_lsp.engine.completion.reuse import Anchor, Remembered
from qwen_lsp.engine.completion.sessions import DocumentSession
from qwen_lsp.model import Usage

ANCHOR = Anchor("x = ", "\n")


def answer() -> Remembered:
    return Remembered(ANCHOR, ("1",), ("1",), "m", Usage(1, 1))


async def slow_answer(started: asyncio.Event, seconds: float = 0.3) -> Remembered:
    started.set()
    await asyncio.sleep(seconds)
    return answer()


async def test_a_newer_request_supersedes_the_waiting_one():
    session = DocumentSession()
    loop = asyncio.get_running_loop()
    older = session.arrive(loop.time(), manual=False)
    waiting = asyncio.ensure_future(older.wait_until(loop.time() + 5))
    await asyncio.sleep(0)
    newer = session.arrive(loop.time(), manual=False)
    assert await asyncio.wait_for(waiting, 1) is False
    assert await newer.wait_until(loop.time()) is True


async def test_a_flight_nobody_waits_for_is_cancelled_after_the_grace(monkeypatch):
    monkeypatch.setattr(sessions, "LINGER", 0.05)
    session = DocumentSession()
    started = asyncio.Event()
    ticket = session.arrive(0, manual=True)
    flight = session.start_flight(ANCHOR, slow_answer(started))
    joined = asyncio.ensure_future(flight.join(ticket))
    await started.wait()
    joined.cancel()  # the editor cancelled the request
    with pytest.raises(asyncio.CancelledError):
        await joined
    await asyncio.sleep(0.1)
    assert flight.task.cancelled()
    assert session.flight is None


async def test_a_flight_adopted_within_the_grace_is_answered(monkeypatch):
    monkeypatch.setattr(sessions, "LINGER", 0.05)
    session = DocumentSession()
    started = asyncio.Event()
    first = session.arrive(0, manual=True)
    flight = session.start_flight(ANCHOR, slow_answer(started, 0.2))
    joined = asyncio.ensure_future(flight.join(first))
    await started.wait()
    joined.cancel()  # VS Code cancels the old request just before it sends the new one
    second = session.arrive(0, manual=True)
    assert await flight.join(second) == answer()


async def test_the_request_that_waited_is_told_when_it_was_superseded():
    session = DocumentSession()
    started = asyncio.Event()
    first = session.arrive(0, manual=True)
    flight = session.start_flight(ANCHOR, slow_answer(started))
    joined = asyncio.ensure_future(flight.join(first))
    await started.wait()
    session.arrive(0, manual=True)
    assert await asyncio.wait_for(joined, 1) is None
    assert not flight.task.done()  # the newer request may still want it


async def test_savings_are_recorded_only_for_answers_that_stood():
    session = DocumentSession()
    recorded: list[str] = []
    first = session.arrive(0, manual=False)
    session.settle(first, lambda: recorded.append("first"), 0.05)
    second = session.arrive(0.01, manual=False)  # the next key came within the debounce
    session.settle(second, lambda: recorded.append("second"), 0.05)
    await asyncio.sleep(0.1)
    assert recorded == ["second"]


async def test_a_settings_change_forgets_every_documents_answer_and_flight():
    every = sessions.CompletionSessions()
    here, there = every.get("a.py"), every.get("b.py")
    here.remembered = answer()
    started = asyncio.Event()
    flight = there.start_flight(ANCHOR, slow_answer(started, 5))
    recorded: list[str] = []
    ticket = here.arrive(asyncio.get_running_loop().time(), manual=False)
    here.settle(ticket, lambda: recorded.append("saved"), 0.05)
    every.forget()
    assert here.remembered is None and there.flight is None
    await asyncio.sleep(0.1)
    assert flight.task.cancelled()  # its HTTP request goes with it
    assert recorded == []  # nothing was saved by an answer of the old settings
    assert every.get("a.py") is here  # the typing rhythm learnt so far stays


async def test_only_the_documents_worked_in_most_recently_keep_a_session():
    every = sessions.CompletionSessions()
    first = every.get("0.py")
    started = asyncio.Event()
    flight = first.start_flight(ANCHOR, slow_answer(started, 5))
    for number in range(1, sessions.MAX_SESSIONS):
        every.get(f"{number}.py")
    assert every.get("0.py") is first  # used again: now the most recent
    every.get("new.py")  # the 17th: the least recently used one, 1.py, goes
    assert every.get("0.py") is first
    assert every.get("1.py") is not None
    every.get("another.py")
    every.get("and-another.py")
    for number in range(2, sessions.MAX_SESSIONS + 2):
        every.get(f"x{number}.py")
    await asyncio.sleep(0)
    assert every.get("0.py") is not first  # pushed out: closed, its flight cancelled
    await asyncio.sleep(0.05)
    assert flight.task.cancelled()


async def test_a_wait_ends_at_its_deadline_when_nothing_supersedes_it():
    session = DocumentSession()
    loop = asyncio.get_running_loop()
    ticket = session.arrive(loop.time(), manual=False)
    assert await ticket.wait_until(loop.time() - 1) is True  # past: no wait
    assert await asyncio.wait_for(ticket.wait_until(loop.time() + 0.1), 2) is True
