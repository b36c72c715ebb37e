"""Logging set-up: stdout belongs to the protocol, so logs go to stderr (or a file)."""

from __future__ import annotations

import logging
import sys

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "info") -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_qwen_lsp", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._qwen_lsp = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    set_level(level)


def set_level(level: str) -> None:
    logging.getLogger("qwen_lsp").setLevel(level.upper())
    # The SDKs and pygls are chatty at info; keep them to warnings unless debugging.
    quiet = logging.DEBUG if level == "debug" else logging.WARNING
    for name in ("pygls", "httpx", "httpx2", "openai", "dashscope"):
        logging.getLogger(name).setLevel(quiet)
