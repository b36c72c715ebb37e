"""Logging set-up: stdout belongs to the protocol, so logs go to stderr and a rotating file.

The file lives in the user log folder (`logFile` names another, "" turns it off), readable by
the user only. Prompt text and keys are never logged above debug level.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_MAX_BYTES = 1_000_000
_BACKUPS = 3


def setup_logging(level: str = "info") -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_qwen_lsp", None) == "stderr" for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._qwen_lsp = "stderr"  # type: ignore[attr-defined]
        root.addHandler(handler)
    set_level(level)


def set_level(level: str) -> None:
    logging.getLogger("qwen_lsp").setLevel(level.upper())
    # The SDKs and pygls are chatty at info; keep them to warnings unless debugging.
    quiet = logging.DEBUG if level == "debug" else logging.WARNING
    for name in ("pygls", "httpx", "httpx2", "openai", "dashscope"):
        logging.getLogger(name).setLevel(quiet)


def use_log_file(path: Path | None) -> str | None:
    """Log to `path` too (None: no file); returns a problem to tell the user, if any."""
    root = logging.getLogger()
    current = next((h for h in root.handlers if getattr(h, "_qwen_lsp", None) == "file"), None)
    if current is not None:
        if path is not None and Path(current.baseFilename) == path:  # type: ignore[attr-defined]
            return None
        root.removeHandler(current)
        current.close()
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.touch(mode=0o600, exist_ok=True)
        os.chmod(path, 0o600)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        return f"cannot write the log file {path}: {exc}"
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler._qwen_lsp = "file"  # type: ignore[attr-defined]
    root.addHandler(handler)
    return None
