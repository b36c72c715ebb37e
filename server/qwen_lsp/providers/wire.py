"""Plumbing every provider shares: the deadline, lazy SDK imports, Retry-After, redaction.

Kept apart from the two SDK modules so each of them is only its own wire's mapping.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib
import re
import sys
import time
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

from qwen_lsp.errors import DeadlineExceeded, ProviderError
from qwen_lsp.model import GenerationRequest, Message

T = TypeVar("T")
_SECRET_RE = re.compile(r"(?i)(bearer\s+)\S+|\bsk-[A-Za-z0-9_*.-]{6,}")


async def within_deadline(work: Awaitable[T], deadline: float, where: str) -> T:
    """Run `work` to completion within `deadline` seconds, else DeadlineExceeded."""
    try:
        return await asyncio.wait_for(work, deadline)
    except asyncio.TimeoutError:
        raise DeadlineExceeded(f"{where}: no complete answer within {deadline:g}s") from None


async def import_sdk(name: str) -> None:
    """Import an SDK the first time it is needed, off the event loop (about half a second),
    so the server keeps answering meanwhile."""
    if name in sys.modules:
        return
    try:
        await asyncio.to_thread(importlib.import_module, name)
    except ImportError:
        raise ProviderError(f"the {name} package is not installed") from None


def redact(text: str, key: str | None) -> str:
    """An endpoint's error text made safe to show: no key, no bearer token, kept short.

    The key is found however the endpoint cased it (some echo it upper-cased, or lower-cased
    in a normalised header) and taken literally, whatever characters it holds; a key pasted
    with spaces or a line break around it is found without them too."""
    if key:
        for candidate in sorted({key, key.strip()} - {""}, key=len, reverse=True):
            text = re.sub(re.escape(candidate), "***", text, flags=re.IGNORECASE)
    return _SECRET_RE.sub(lambda m: (m.group(1) or "") + "***", text)[:300]


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(float(lowered["retry-after-ms"]) / 1000.0, 0.0)
        value = lowered.get("retry-after")
        if value is None:
            return None
        try:
            return max(float(value), 0.0)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(when.timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def sampling_params(request: GenerationRequest) -> dict[str, Any]:
    """The sampling parameters both wires name alike."""
    params: dict[str, Any] = {"max_tokens": request.max_tokens, "temperature": request.temperature}
    if request.top_p is not None:
        params["top_p"] = request.top_p
    if request.stop:
        params["stop"] = list(request.stop)
    if request.n != 1:
        # Left out when 1: some small local servers reject the parameter altogether.
        params["n"] = request.n
    return params


def wire_message(message: Message) -> dict[str, Any]:
    """A chat message as both wires take it; DashScope's partial mode keeps its flag."""
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.partial:
        wire["partial"] = True
    return wire
