"""`$/progress` for long work (building the symbol index, a review, a code action).

`work_done(ls, title)` is an async context manager. When the client declared
`window.workDoneProgress`, it creates a token with `window/workDoneProgress/create`, sends
`begin`, lets the work `report`, and sends `end` however the block is left: done, failed or
cancelled. A client that shows no progress, or refuses the token, gets none, and the work runs
all the same: progress is never a reason to fail. With `cancellable=True` the client shows a
cancel button; pressing it (`window/workDoneProgress/cancel`) sets `cancelled` and calls
`on_cancel` on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from lsprotocol import types

from qwen_lsp.lsp.server import QwenLanguageServer

log = logging.getLogger(__name__)


class WorkDone:
    """One piece of work the client may be showing; every method is a no-op when it is not."""

    def __init__(self, ls: QwenLanguageServer, token: str | None) -> None:
        self._ls = ls
        self._token = token
        self.cancelled = False  # the user pressed the client's cancel button
        self.end_message: str | None = None  # said when the progress ends

    @property
    def shown(self) -> bool:
        return self._token is not None

    def report(self, message: str | None = None, percentage: int | None = None) -> None:
        if self._token is not None:
            value = types.WorkDoneProgressReport(message=message, percentage=percentage)
            self._ls.work_done_progress.report(self._token, value)

    def _end(self) -> None:
        token, self._token = self._token, None
        if token is None:
            return
        try:
            value = types.WorkDoneProgressEnd(message=self.end_message)
            self._ls.work_done_progress.end(token, value)
        except Exception as exc:  # a closed connection must not hide why the work ended
            log.debug("could not end progress %s: %s", token, exc)
        self._ls.work_done_progress.tokens.pop(token, None)


def shows_progress(ls: QwenLanguageServer) -> bool:
    window = ls.client_capabilities.window
    return window is not None and bool(window.work_done_progress)


@asynccontextmanager
async def work_done(
    ls: QwenLanguageServer,
    title: str,
    *,
    message: str | None = None,
    percentage: int | None = None,
    cancellable: bool = False,
    on_cancel: Callable[[], None] | None = None,
) -> AsyncIterator[WorkDone]:
    """`$/progress` from begin to end around the block, when the client shows it."""
    token = await _create_token(ls, title)
    work = WorkDone(ls, token)
    if token is None:
        yield work
        return
    loop = asyncio.get_running_loop()

    def cancelled_by_client(future: Any) -> None:
        if future.cancelled() and work.shown and not work.cancelled:
            work.cancelled = True
            if on_cancel is not None:
                loop.call_soon_threadsafe(on_cancel)

    if cancellable:
        ls.work_done_progress.tokens[token].add_done_callback(cancelled_by_client)
    begin = types.WorkDoneProgressBegin(
        title=title, message=message, percentage=percentage, cancellable=cancellable
    )
    try:
        ls.work_done_progress.begin(token, begin)
        yield work
    finally:
        work._end()


async def _create_token(ls: QwenLanguageServer, title: str) -> str | None:
    if not shows_progress(ls):
        return None
    token = f"qwen-lsp-{uuid.uuid4()}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception as exc:  # a client that refuses progress still gets the work done
        log.debug("no progress for %s: %s", title, exc)
        return None
    return token
