"""The Language Server Protocol layer: the only package that imports pygls or lsprotocol.

Each handler translates LSP params into plain data, calls the engine, and translates back.
`create_server` is the factory: a fresh server with every feature registered, rather than a
module global, so tests and the CLI build independent instances.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_lsp.lsp.server import QwenLanguageServer


def create_server(cli_overrides: Mapping[str, Any] | None = None) -> QwenLanguageServer:
    from qwen_lsp.lsp import actions, configuration, indexing, inspect, review, sync
    from qwen_lsp.lsp.server import QwenLanguageServer

    server = QwenLanguageServer(cli_overrides)
    configuration.register(server)  # registers completion features at initialize
    sync.register(server)
    actions.register(server)
    review.register(server)  # review on save, and its quick fixes among the code actions
    indexing.register(server)  # the workspace symbol index, built after `initialized`
    inspect.register(server)
    return server
