"""The language server object: pygls's server and protocol, plus the state and hooks the
features share. `qwen_lsp.lsp.create_server` builds one with every feature registered.

A feature's `register(server)` adds its handlers, subscribes to the lifecycle hooks it needs
(`on_initialize`, `on_initialized`, `listen`) and keeps its own state on the server
(`add_state` / `state`), so features never import one another and two servers in one process
share nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from qwen_lsp import __version__
from qwen_lsp.engine import Runtime
from qwen_lsp.log import escape_controls
from qwen_lsp.lsp.documents import DISPATCHED_VERSION, DocumentStore

log = logging.getLogger(__name__)

State = TypeVar("State")


class QwenProtocol(LanguageServerProtocol):
    """pygls's protocol, minus its own copy of every open document.

    pygls rebuilds a document's whole text on each incremental change (about 2 ms per key in a
    5,000-line file); `DocumentStore` already keeps the text, the line index and the tree, so
    the synchronisation notifications go straight to our handlers.
    """

    def _handle_request(self, msg_id: Any, method_name: str, params: Any) -> None:
        """Dispatch a request, its handler knowing the version of its document as it stood
        when the request was read (`DISPATCHED_VERSION`; the handler's task copies it)."""
        uri = getattr(getattr(params, "text_document", None), "uri", None)
        doc = self._server.documents.get(uri) if isinstance(uri, str) else None  # type: ignore[attr-defined]
        token = DISPATCHED_VERSION.set(doc.version if doc is not None else None)
        try:
            super()._handle_request(msg_id, method_name, params)
        finally:
            DISPATCHED_VERSION.reset(token)

    _exited = False  # `exit` came: pygls closes stdout, nothing can reach the client

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args):  # type: ignore[no-untyped-def]
        self._exited = True
        yield from super().lsp_exit(*args)

    def _send_data(self, data: Any) -> None:
        # Work cancelled on the way out (a build's `$/progress` end) would write to the closed
        # stdout; pygls reports a failed send by sending again, each failure inside the last:
        # seconds of CPU and thousands of traceback lines in the log, at every exit.
        if self._exited:
            log.debug("not sent after exit: %.80s", data)
            return
        super()._send_data(data)

    def _to_user_handler(self, method: str, params: object):  # type: ignore[no-untyped-def]
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None
        self._server.tell_listeners(method, params)  # after the handler: the document is open

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):  # type: ignore[no-untyped-def]
        yield from self._to_user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):  # type: ignore[no-untyped-def]
        yield from self._to_user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):  # type: ignore[no-untyped-def]
        yield from self._to_user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_SAVE)
    def lsp_text_document__did_save(self, params: types.DidSaveTextDocumentParams):  # type: ignore[no-untyped-def]
        yield from self._to_user_handler(types.TEXT_DOCUMENT_DID_SAVE, params)


class QwenLanguageServer(LanguageServer):
    """pygls server plus the session state the handlers share."""

    def __init__(self, cli_overrides: Mapping[str, Any] | None = None) -> None:
        super().__init__(
            "qwen-lsp",
            __version__,
            protocol_cls=QwenProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.cli_overrides = dict(cli_overrides or {})
        self.documents = DocumentStore()
        self.runtime: Runtime | None = None
        self.roots: list[Path] = []
        self.init_options: Any = None
        self.workspace_config: Any = None
        self.workspace_trusted = False
        self.main_loop: asyncio.AbstractEventLoop | None = None  # set at initialize
        self.locale: str | None = None  # the editor's UI language, e.g. "zh-cn"
        # Set once the editor's workspace/configuration has been read after `initialized`:
        # a request before that would otherwise go out with incomplete settings.
        self.settings_ready = asyncio.Event()
        # Features that follow documents besides their own handler (the symbol index).
        self._listeners: dict[str, list[Callable[[Any], None]]] = {}
        # Code actions other features add to textDocument/codeAction (review quick fixes).
        self.code_action_sources: list[
            Callable[[QwenLanguageServer, types.CodeActionParams], list[types.CodeAction]]
        ] = []
        # Called at `initialize` once the runtime exists (features that depend on the client's
        # capabilities register then), and after `initialized` once the editor's settings are
        # read (work that must see them, like the symbol index), in the order features
        # subscribed.
        self.on_initialize: list[Callable[[QwenLanguageServer, types.InitializeParams], None]] = []
        self.on_initialized: list[Callable[[QwenLanguageServer], Awaitable[None] | None]] = []
        self._states: dict[type, Any] = {}

    def add_state(self, state: State) -> State:
        """Keep a feature's state on this server, found again by its type with `state`."""
        if type(state) in self._states:
            raise ValueError(f"a {type(state).__name__} is already kept on this server")
        self._states[type(state)] = state
        return state

    def state(self, kind: type[State]) -> State:
        """The state a feature kept with `add_state` (KeyError: that feature is not registered)."""
        return self._states[kind]

    def listen(self, method: str, listener: Callable[[Any], None]) -> None:
        """Also call `listener` with the params of each didOpen/didChange/didSave/didClose,
        after that notification's handler."""
        self._listeners.setdefault(method, []).append(listener)

    def tell_listeners(self, method: str, params: Any) -> None:
        for listener in self._listeners.get(method, ()):
            try:
                listener(params)
            except Exception:  # one feature's failure must not break another's
                log.exception("%s listener failed", method)

    def run_on_initialize(self, params: types.InitializeParams) -> None:
        for hook in self.on_initialize:
            try:
                hook(self, params)
            except Exception:  # one feature's failure must not keep the others from starting
                log.exception("a feature failed to start at initialize")

    async def run_on_initialized(self) -> None:
        for hook in self.on_initialized:
            try:
                if (pending := hook(self)) is not None:
                    await pending
            except Exception:  # one feature's failure must not keep the others from starting
                log.exception("a feature failed to start after initialized")

    async def wait_for_settings(self, timeout: float = 2.0) -> None:
        if not self.settings_ready.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.settings_ready.wait(), timeout)

    def show(
        self,
        message: str,
        kind: types.MessageType = types.MessageType.Warning,
        *,
        keep_lines: bool = False,
    ) -> None:
        """window/showMessage; safe from any thread (the cache writer reports from its own).

        A message often carries data (an endpoint's error text, a setting's value, a file
        name): its control characters are sent escaped, so it can neither add lines that look
        like another message nor steer a terminal editor. `keep_lines` keeps the line feeds
        of a message that is meant to have several (Markdown from the model)."""
        message = escape_controls(message, keep_lines=keep_lines)
        params = types.ShowMessageParams(type=kind, message=message)
        loop = self.main_loop
        if loop is None or _in_loop(loop):
            self.window_show_message(params)
        else:
            loop.call_soon_threadsafe(self.window_show_message, params)

    def log_to_client(self, message: str, *, keep_lines: bool = False) -> None:
        """window/logMessage, its control characters escaped as in `show`."""
        message = escape_controls(message, keep_lines=keep_lines)
        self.window_log_message(types.LogMessageParams(type=types.MessageType.Log, message=message))


def _in_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
