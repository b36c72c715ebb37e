"""Which prompt mode an endpoint and model support, probed once and remembered on disk.

Probing needs no extra paid call: the first real request is sent in the best mode the wire
offers; an `UnsupportedMode` answer moves on to the next mode, and the first mode that works
is written to a small JSON file beside the answer cache (0600), keyed by provider, URL and
model (another setting is another key, so it is probed afresh) with the time it was learnt.
A mode learnt more than `MAX_AGE` ago is forgotten, so a server that has since learnt a
better mode (a new version, a new model behind the same name) is probed again. Only a mode
name and a number are taken from the file; nothing in it is ever evaluated.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qwen_lsp.model import PromptMode
from qwen_lsp.storage import PRIVATE_FILE, private_dir, tighten_file

log = logging.getLogger(__name__)


MAX_AGE = 24 * 3600.0  # seconds a learnt mode is trusted before it is probed again


class ModeMemory:
    def __init__(self, path: Path | None, *, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._clock = clock
        self._modes: dict[str, dict[str, object]] = {}
        if path is not None:
            try:
                tighten_file(path)  # written by an earlier version with the umask's mode
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    # An earlier version stored bare mode names, without a time: probed again.
                    self._modes = {
                        k: {"mode": v.get("mode"), "at": v.get("at")}
                        for k, v in data.items()
                        if isinstance(v, dict)
                        and isinstance(v.get("mode"), str)
                        and isinstance(v.get("at"), (int, float))
                    }
            except FileNotFoundError:
                pass
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable prompt-mode memory %s: %s", path, exc)

    @staticmethod
    def _key(provider: str, base_url: str | None, model: str) -> str:
        return f"{provider}|{base_url or ''}|{model}"

    def get(self, provider: str, base_url: str | None, model: str) -> PromptMode | None:
        entry = self._modes.get(self._key(provider, base_url, model))
        if entry is None:
            return None
        at = entry.get("at")
        if not isinstance(at, (int, float)) or not 0 <= self._clock() - at < MAX_AGE:
            return None  # learnt too long ago (or in the future): probe again
        try:
            return PromptMode(entry.get("mode"))
        except ValueError:
            return None

    def remember(self, provider: str, base_url: str | None, model: str, mode: PromptMode) -> None:
        key = self._key(provider, base_url, model)
        if self.get(provider, base_url, model) is mode:
            return
        self._modes[key] = {"mode": mode.value, "at": self._clock()}
        self._save()

    def forget(self, provider: str, base_url: str | None, model: str) -> None:
        if self._modes.pop(self._key(provider, base_url, model), None) is not None:
            self._save()

    def _save(self) -> None:
        if self._path is None:
            return
        try:
            private_dir(self._path.parent, tighten=False)
            # Write then rename, so a concurrent reader never sees half a file; the file is
            # 0600 from the start, and the rename keeps that mode.
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".modes-")
            try:
                os.fchmod(fd, PRIVATE_FILE)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(self._modes, fh, indent=1, sort_keys=True)
                os.replace(tmp, self._path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("cannot remember prompt modes in %s: %s", self._path, exc)
