"""Plumbing every provider shares: the deadline, lazy SDK imports, Retry-After, redaction,
what an HTTP status and its message mean (`refusal`), and where DashScope serves what.

Kept apart from the SDK modules so each of them is only its own wire's mapping.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib
import re
import sys
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlparse

from qwen_lsp.errors import (
    AuthError,
    DeadlineExceeded,
    EndpointUnavailable,
    PromptTooLong,
    ProviderError,
    QuotaExhausted,
    RateLimitError,
    UnsupportedMode,
)
from qwen_lsp.model import GenerationRequest, Message
from qwen_lsp.special_tokens import FILE_SEP, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, REPO_NAME

T = TypeVar("T")

# Statuses that by themselves say "this endpoint or method does not exist here".
_MISSING = frozenset({404, 405, 501})
# A 400 or 422 demotes a prompt mode only when its message says the mode, endpoint or a
# parameter does not exist for this model; any other 400 (a bad value, a filtered content)
# would make probing flap between modes on the first unlucky request.
_MODE_REFUSED = re.compile(
    r"(?i)not support|unsupported|does not exist|not found|no such|unknown (?:url|endpoint|"
    r"parameter|field|request)|unrecognized|not allowed|not available|invalid url|"
    r"extra (?:fields|inputs) (?:are )?not permitted"
)
# How vLLM, OpenAI, llama.cpp and DashScope say the prompt is longer than the model reads.
_TOO_LONG = re.compile(
    r"(?i)maximum context length|context length|context window|too many tokens|"
    r"exceeds? the (?:available )?context|prompt is too long|range of input length"
)
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


# Error codes of an account that cannot pay for more requests: DashScope's overdue account
# (HTTP 400 "Arrearage") and used-up free tier (HTTP 403), OpenAI's `insufficient_quota` (a
# 429 that waiting does not cure); each provider's error code reference.
QUOTA_CODES = frozenset({"Arrearage", "AllocationQuota.FreeTierOnly", "insufficient_quota"})


def refusal(
    status: int,
    message: str,
    where: str,
    *,
    retry_in: float | None = None,
    code: str | None = None,
) -> ProviderError:
    """The error an HTTP failure is, from its status, the provider's error `code` and (for
    400/422) its message. `message` must already be redacted."""
    text = f"{where}: HTTP {status}: {message}" if message else f"{where}: HTTP {status}"
    if code in QUOTA_CODES:
        return QuotaExhausted(text, status=status)
    if status in (401, 403):
        return AuthError(text, status=status)
    if status == 429:
        return RateLimitError(text, retry_after=retry_in)
    if status in (400, 413, 422) and _TOO_LONG.search(message):
        return PromptTooLong(text, status=status)
    if status in _MISSING or (status in (400, 422) and _MODE_REFUSED.search(message)):
        return UnsupportedMode(text, status=status)
    if status >= 500:
        return EndpointUnavailable(text, status=status)
    return ProviderError(text, status=status)


# -- Qwen's FIM string, taken apart for servers that want its pieces ---------------------


@dataclass(frozen=True)
class FimParts:
    """A FIM prompt's pieces: the other files (path, text) and the current file's cursor."""

    prefix: str
    suffix: str
    files: tuple[tuple[str, str], ...] = ()
    repo_name: str | None = None


def fim_parts(prompt: str) -> FimParts | None:
    """The pieces of a prompt built as `<|repo_name|>…<|file_sep|>path\ntext\n…<|fim_prefix|>
    prefix<|fim_suffix|>suffix<|fim_middle|>` (the file-level form has no repo part); None when
    `prompt` is not such a string."""
    head, sep, rest = prompt.partition(FIM_PREFIX)
    if not sep or rest.count(FIM_SUFFIX) != 1:
        return None
    prefix, _, suffix = rest.partition(FIM_SUFFIX)
    suffix = suffix.removesuffix(FIM_MIDDLE)
    if not head:
        return FimParts(prefix, suffix)
    if not head.startswith(REPO_NAME):
        return None
    repo, *blocks = head[len(REPO_NAME) :].split(FILE_SEP)
    files: list[tuple[str, str]] = []
    for block in blocks[:-1]:  # the last block names the current file, its text follows
        path, _, text = block.partition("\n")
        files.append((path, text.removesuffix("\n")))
    return FimParts(prefix, suffix, tuple(files), repo.rstrip("\n") or None)


# -- DashScope's hosts --------------------------------------------------------------------

# Host names of each region (Model Studio's endpoint list), for a base URL that names one.
_DASHSCOPE_HOSTS = (
    ("dashscope-intl.aliyuncs.com", "singapore"),
    ("dashscope-us.aliyuncs.com", "us"),
    ("cn-hongkong.dashscope.aliyuncs.com", "hongkong"),
    ("dashscope.aliyuncs.com", "beijing"),
    (".ap-southeast-1.maas.aliyuncs.com", "singapore"),
    (".us-east-1.maas.aliyuncs.com", "us"),
    (".cn-hongkong.maas.aliyuncs.com", "hongkong"),
    (".cn-beijing.maas.aliyuncs.com", "beijing"),
)
BEIJING_NATIVE = "https://dashscope.aliyuncs.com/api/v1"


def dashscope_region(base_url: str | None, configured: str | None) -> str:
    """The region a DashScope base URL is in: its host says, else the `region` setting."""
    host = (urlparse(base_url).hostname or "") if base_url else ""
    for suffix, region in _DASHSCOPE_HOSTS:
        if host == suffix.lstrip(".") or host.endswith(suffix):
            return region
    return configured or "beijing"


def compatible_base(native_base: str | None) -> str:
    """DashScope's OpenAI-compatible base on the host of a native base URL: the native API
    lives under `/api/v1`, compatible mode under `/compatible-mode/v1` of the same host."""
    base = (native_base or BEIJING_NATIVE).rstrip("/")
    if base.endswith("/api/v1"):
        return base[: -len("/api/v1")] + "/compatible-mode/v1"
    if base.endswith("/compatible-mode/v1"):
        return base
    parsed = urlparse(base)
    return f"{parsed.scheme}://{parsed.netloc}/compatible-mode/v1"


def is_dashscope_compatible(base_url: str | None) -> bool:
    """Whether an OpenAI-compatible base URL is DashScope's compatible mode."""
    return bool(base_url) and "/compatible-mode/" in f"{urlparse(base_url).path}/"


def dashscope_serves_fim(model: str) -> bool:
    """Models DashScope documents raw FIM prompts for, on its compatible-mode Completions
    endpoint in the Beijing region: qwen-coder-turbo (also -latest, -0919) and the
    qwen2.5-coder-*-instruct models. Others, such as qwen3-coder-flash, take partial mode."""
    name = model.lower()
    return (
        name == "qwen-coder-turbo"
        or name.startswith("qwen-coder-turbo-")
        or (name.startswith("qwen2.5-coder-") and name.endswith("-instruct"))
    )


def dashscope_fim_offered(model: str, region: str) -> bool:
    """FIM is offered only where DashScope documents it: Beijing, for its FIM models."""
    return region == "beijing" and dashscope_serves_fim(model)
