"""The first suggestion of a session: as quick as the next ones.

The modules of the completion path and the provider's SDK are imported on first use (the
SDK alone takes about half a second), so without help the first pause of a session would
show nothing. `warm_up` runs after the editor's settings are read: it builds the provider
for them, imports in a thread (so the server keeps answering) what the first completion
would otherwise import on its way, and has the provider build its SDK client. No request:
nothing goes over the network.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time

from qwen_lsp import errors
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.privacy import is_sensitive_path

log = logging.getLogger(__name__)

# What the first completion imports whatever the provider: the engine's path to an answer.
COMPLETION_MODULES = (
    "qwen_lsp.engine.completion.complete",
    "qwen_lsp.postprocess",
    "qwen_lsp.providers.redacting",
)
# The SDK of each provider, and what its first request imports (the HTTP stack's async
# backend is imported when the first connection is made).
_HTTP = ("httpcore", "anyio", "anyio._backends._asyncio", "anyio.streams.memory")
_OPENAI = ("openai", "openai.resources.completions", "openai.resources.chat", *_HTTP)
SDK_MODULES: dict[str, tuple[str, ...]] = {
    "dashscope": ("aiohttp", "dashscope", *_OPENAI),
    "openai": _OPENAI,
    "openai-compatible": _OPENAI,
}


_TEMPLATES = tuple(f"completion/{m}.{p}" for m in ("partial", "chat") for p in ("system", "user"))


def modules_for(provider: str) -> tuple[str, ...]:
    """Every module the first completion with `provider` needs."""
    return (*COMPLETION_MODULES, *SDK_MODULES.get(provider, ()))


async def warm_up(runtime: Runtime) -> None:
    """Make the first completion as quick as the next; never raises."""
    started = time.perf_counter()
    settings = runtime.settings
    if not settings.completion.enabled:
        return
    try:
        provider = runtime.provider()  # built for the current settings; sends nothing
    except errors.QwenLspError as exc:
        log.debug("no warm-up: %s", exc)  # said to the user when a completion is asked
        return
    modules = modules_for(settings.provider)
    imported = await asyncio.to_thread(_import_all, modules)
    runtime.budget()  # today's spend, read from the ledger once
    for name in _TEMPLATES:
        runtime.prompts.get(name)  # read from disk once
    prepare = getattr(provider, "prepare", None)  # the SDK's client and its TLS context
    try:
        if prepare is not None:
            await prepare()
    except Exception as exc:  # a provider that cannot be readied fails its first request
        log.debug("warm-up: the provider could not be readied: %s", exc)
    log.info(
        "warmed up for the first completion in %.0f ms: %s",
        (time.perf_counter() - started) * 1000,
        ", ".join(imported),
    )


def _import_all(modules: tuple[str, ...]) -> list[str]:
    is_sensitive_path("warm-up.py")  # compiles the patterns every file name is checked with
    imported = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a missing or broken SDK is reported when it is used
            log.debug("warm-up: cannot import %s: %s", name, exc)
        else:
            imported.append(name)
    return imported
