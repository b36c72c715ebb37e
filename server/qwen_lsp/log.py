"""Logging set-up: stdout belongs to the protocol, so logs go to stderr and a rotating file.

The file lives in the user log folder (`logFile` names another, "" turns it off), readable by
the user only (the file and each rotation 0600, a folder made for it 0700). Prompt text and
keys are never logged above debug level.

What is logged is data: a setting's value, an endpoint's error text, a file name from the
repository. Each record is one line: control characters (newlines, CR, ESC and the other C0
and C1 codes, DEL, Unicode line separators and bidirectional overrides) are written escaped
(`\\n`, `\\x1b`, `\\u202e`), so a value can neither forge a line of its own nor steer the
terminal that shows the log. A traceback keeps its lines, each marked as a continuation.
`escape_controls` is the same rule for messages sent to the editor.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from qwen_lsp.storage import private_dir, private_file, tighten_file

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTINUATION = "\n    | "  # what starts each further line of a traceback
_MAX_BYTES = 1_000_000
_BACKUPS = 3

# C0 controls, DEL, C1 controls, line and paragraph separators, and the bidirectional marks,
# embeddings, overrides and isolates that make text read other than it is stored.
_CONTROLS = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    *range(0x2028, 0x202F),
    *range(0x2066, 0x206A),
]
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_ESCAPES = {
    code: _NAMED.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in _CONTROLS
}
_ESCAPES_KEEPING_LINES = {code: text for code, text in _ESCAPES.items() if code != 0x0A}


def escape_controls(text: str, *, keep_lines: bool = False) -> str:
    """`text` with every control character written as an escape; with `keep_lines`, line
    feeds stay (a message that is a table or Markdown), but CR and the rest are escaped."""
    return text.translate(_ESCAPES_KEEPING_LINES if keep_lines else _ESCAPES)


class OneLineFormatter(logging.Formatter):
    """A record as one line whatever its message and arguments hold; a traceback or stack
    follows on continuation lines, each starting with `    | `."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        text = escape_controls(self.formatMessage(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        extra = [record.exc_text] if record.exc_text else []
        if record.stack_info:
            extra.append(self.formatStack(record.stack_info))
        for block in extra:
            text += "".join(_CONTINUATION + escape_controls(line) for line in block.split("\n"))
        return text


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file is 0600: the first, and each one a rollover opens."""

    def _open(self):  # type: ignore[no-untyped-def]
        private_file(Path(self.baseFilename))
        return super()._open()


def setup_logging(level: str = "info") -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_qwen_lsp", None) == "stderr" for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLineFormatter(_FORMAT))
        handler._qwen_lsp = "stderr"  # type: ignore[attr-defined]
        root.addHandler(handler)
    set_level(level)


def set_level(level: str) -> None:
    logging.getLogger("qwen_lsp").setLevel(level.upper())
    # The SDKs and pygls are chatty at info; keep them to warnings unless debugging.
    quiet = logging.DEBUG if level == "debug" else logging.WARNING
    for name in ("pygls", "httpx", "httpx2", "openai", "dashscope"):
        logging.getLogger(name).setLevel(quiet)


def use_log_file(path: Path | None, *, own_folder: bool = False) -> str | None:
    """Log to `path` too (None: no file); returns a problem to tell the user, if any.

    Folders made for the file are 0700; an existing folder is tightened only when
    `own_folder` (the default log folder, qwen-lsp's own), never a folder a setting named.
    """
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
        private_dir(path.parent, tighten=own_folder)
        private_file(path)
        for number in range(1, _BACKUPS + 1):  # rotations an earlier version left readable
            tighten_file(path.with_name(f"{path.name}.{number}"))
        handler = PrivateRotatingFileHandler(
            path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        return f"cannot write the log file {path}: {exc}"
    handler.setFormatter(OneLineFormatter(_FORMAT))
    handler._qwen_lsp = "file"  # type: ignore[attr-defined]
    root.addHandler(handler)
    return None
