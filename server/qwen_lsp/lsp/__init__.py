"""The Language Server Protocol layer: the only package that imports pygls or lsprotocol.

Each handler translates LSP params into plain data, calls the engine, and translates back
(`convert.py` holds every translation; `progress.py` the `$/progress` of long work). Each
feature module owns its handlers, its capabilities and its state on the server, and registers
them in its `register(server)`. `create_server` is the factory that only lists the features: a
fresh server each time, rather than a module global, so tests and the CLI build independent
instances.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_lsp.lsp.server import QwenLanguageServer


def create_server(
    cli_overrides: Mapping[str, Any] | None = None,
    index_workers: Any = None,
    listed_ahead: Mapping[str, Any] | None = None,
) -> QwenLanguageServer:
    """A server with every feature registered. `index_workers`: the symbol index's worker
    processes, when they were started before this package was imported (`cli/main.py`), and
    `listed_ahead` the listing of the workspace folder one of them began then."""
    from qwen_lsp.lsp import (
        acceptance,
        actions,
        completion,
        configuration,
        indexing,
        inspect,
        review,
        status,
        sync,
    )
    from qwen_lsp.lsp.server import QwenLanguageServer

    server = QwenLanguageServer(cli_overrides)
    for feature in (
        configuration,  # settings and the runtime; runs the other features' lifecycle hooks
        sync,
        completion,  # inline or plain completion, chosen at initialize
        status,
        actions,
        review,  # review on save, and its quick fixes among the code actions
        indexing,  # the workspace symbol index, built after `initialized`
        inspect,
        acceptance,  # shown, accepted and retained suggestions, counted locally
    ):
        feature.register(server)
    if index_workers is not None:
        indexing.adopt_workers(server, index_workers, listed_ahead or {})
    return server
