"""`qwen-lsp doctor`: what works, what is wrong, and what to set next.

Checks the settings and their sources, the API key (its presence and source, never its
value), the tree-sitter grammars, the cache, and, unless `--offline`, that the endpoint
answers and which prompt modes it takes (the result is remembered for the server).
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from qwen_lsp import __version__, errors
from qwen_lsp.config import (
    DASHSCOPE_REGIONS,
    LoadedSettings,
    load_settings,
    needs_key,
    project_root,
)
from qwen_lsp.engine import KEY_HELP, Prompt, Question, Runtime, get_answer
from qwen_lsp.model import GenerationRequest, Message, PromptMode

OK, BAD, SKIP = "ok", "!!", "--"
PROBE_TIMEOUT = 15.0
FEATURE = "doctor"  # the spend ledger's name for the probes


class DoctorReport:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.problems = 0
        self.hints: list[str] = []  # what to do, said under "Next steps"

    def line(self, status: str, what: str, detail: str) -> None:
        if status == BAD:
            self.problems += 1
        print(f"  [{status}] {what:<12} {detail}", file=self.out)


def _probe_request(mode: PromptMode, model: str) -> GenerationRequest:
    if mode is PromptMode.FIM:
        return GenerationRequest(
            model=model,
            prompt="<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>",
            max_tokens=4,
            stop=("<|endoftext|>",),
        )
    messages = [Message("user", "Complete: def add(a, b): return")]
    if mode is PromptMode.PARTIAL:
        messages.append(Message("assistant", "def add(a, b):\n    return ", partial=True))
    return GenerationRequest(model=model, messages=tuple(messages), max_tokens=4)


async def _probe(runtime: Runtime, report: DoctorReport) -> None:
    provider = runtime.provider()
    model = runtime.settings.completion_model
    working = []
    offered = provider.modes(model)
    try:
        for mode in PromptMode:
            if mode not in offered:
                report.line(SKIP, f"mode {mode.value}", _not_offered(runtime, mode, model))
                continue
            # Every mode on purpose, past the cache; a probe is a paid call like any other.
            question = Question(FEATURE, Prompt(_probe_request(mode, model), None), PROBE_TIMEOUT)
            try:
                answer = await get_answer(runtime, question)
            except errors.UnsupportedMode as exc:
                report.line(SKIP, f"mode {mode.value}", f"not supported by {model}: {exc}")
                continue
            except errors.ProviderError as exc:
                report.line(BAD, f"mode {mode.value}", runtime.explain(exc))
                if isinstance(exc, (errors.AuthError, errors.EndpointUnavailable)):
                    return
                continue
            if answer is None:  # the budget allows no paid call, a probe neither
                reason = runtime.budget().reason or "a spend limit is reached"
                report.line(
                    BAD,
                    "spend",
                    f"{reason}: the endpoint was not contacted and completions are paused; "
                    "raise spend.dailyLimit or spend.monthlyLimit",
                )
                return
            working.append(mode)
            report.line(OK, f"mode {mode.value}", f"{model} answers in this prompt mode")
    finally:
        await provider.aclose()
    if working:
        runtime.modes.remember(
            runtime.settings.provider, runtime.loaded.base_url, model, working[0]
        )
        report.line(OK, "endpoint", f"completions will use prompt mode '{working[0].value}'")
    else:
        report.line(BAD, "endpoint", f"{model} answered in no prompt mode")


def _not_offered(runtime: Runtime, mode: PromptMode, model: str) -> str:
    """Why a prompt mode is not tried on this endpoint."""
    settings = runtime.settings
    if mode is PromptMode.FIM and settings.provider == "dashscope":
        return (
            f"not offered for {model} in region {settings.region}: DashScope serves FIM on its "
            "compatible-mode Completions endpoint in Beijing only, for qwen-coder-turbo and "
            "qwen2.5-coder-*-instruct"
        )
    if mode is PromptMode.PARTIAL:
        return "not offered: partial mode is DashScope's (native or compatible mode)"
    return f"not offered by {settings.provider} for {model}"


# -- the chat model (code actions and reviews) ----------------------------------------------


async def _check_chat_model(runtime: Runtime, report: DoctorReport) -> None:
    """One small chat request to `chatModel`, which code actions and reviews use: a model the
    endpoint does not serve (HTTP 404: not pulled into Ollama, a typo) is a problem that
    completions alone would never show."""
    model = runtime.settings.resolved_chat_model
    if _local_server_hint(runtime.loaded.base_url) is not None:
        report.line(SKIP, "chat model", f"{model}: not checked, nothing listens at the endpoint")
        return
    request = GenerationRequest(
        model=model, messages=(Message("user", "Answer with the word OK."),), max_tokens=4
    )
    provider = runtime.provider()
    try:
        # Never cached (key None): the model must answer now.
        answer = await get_answer(runtime, Question(FEATURE, Prompt(request, None), PROBE_TIMEOUT))
    except errors.ProviderError as exc:
        if exc.status == 404:
            report.line(BAD, "chat model", f"{model}: the endpoint does not serve it ({exc})")
            report.hints.append(_missing_model_hint(runtime, model))
        else:
            report.line(BAD, "chat model", f"{model}: {runtime.explain(exc)}")
        return
    finally:
        await provider.aclose()
    if answer is None:
        report.line(SKIP, "chat model", f"{model}: not checked, a spend limit is reached")
        return
    report.line(OK, "chat model", f"{model} answers (code actions and reviews)")


def _missing_model_hint(runtime: Runtime, model: str) -> str:
    try:
        ollama = urlsplit(runtime.loaded.base_url or "").port == 11434
    except ValueError:  # a port that is not a number
        ollama = False
    pull = f"`ollama pull {model}`, or " if ollama else ""
    return (
        f"the endpoint serves no model named {model!r} (HTTP 404): {pull}set chatModel "
        "(QWEN_LSP_CHAT_MODEL) to a model it serves; code actions and reviews use it"
    )


# -- a local server that is not running --------------------------------------------------------

# What usually listens on a local port, and how to start it.
_LOCAL_SERVERS = {
    11434: "Ollama usually listens there: start it with `ollama serve` (and `ollama pull` the "
    "models you set)",
    8000: "vLLM usually listens there: start it with `vllm serve MODEL --port 8000`",
    8080: "llama.cpp's server usually listens there: start it with "
    "`llama-server -m MODEL.gguf --port 8080`",
}
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


def _local_server_hint(base_url: str | None) -> str | None:
    """For an endpoint on this machine whose port refuses connections: what usually listens
    there and how to start it; None when it is not local or something answers."""
    if not base_url:
        return None
    parts = urlsplit(base_url)
    if (parts.hostname or "").lower() not in _LOOPBACK:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    host = "127.0.0.1" if parts.hostname == "0.0.0.0" else parts.hostname
    try:
        with socket.create_connection((host, port), timeout=2.0):
            return None
    except ConnectionRefusedError:
        pass
    except OSError:
        return None  # not a refusal (a firewall, a timeout): no guess
    usual = _LOCAL_SERVERS.get(
        port,
        "start your model server there, or point baseUrl at the port it listens on "
        "(Ollama 11434, vLLM 8000, llama.cpp 8080)",
    )
    return f"nothing listens on port {port} of this machine ({base_url}); {usual}"


def _settings_lines(loaded: LoadedSettings, report: DoctorReport) -> None:
    s = loaded.settings
    report.line(OK, "user file", str(loaded.user_file) if loaded.user_file else "none (optional)")
    report.line(
        OK, "project", str(loaded.project_file) if loaded.project_file else "none (optional)"
    )
    for problem in loaded.problems:
        report.line(BAD, "setting", problem)
    report.line(OK, "provider", s.provider)
    report.line(OK, "models", f"{s.completion_model} (completions), {s.resolved_chat_model} (chat)")
    region = f" (region {s.region})" if s.provider == "dashscope" and not s.base_url else ""
    report.line(OK, "endpoint", f"{loaded.base_url}{region}")


def _grammar_line(report: DoctorReport) -> None:
    from qwen_lsp.context.languages import get_parser

    names = ["python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"]
    missing = [n for n in names if get_parser(n) is None]
    if missing:
        report.line(BAD, "grammars", f"cannot load: {', '.join(missing)}")
    else:
        report.line(OK, "grammars", ", ".join(names))


def run_doctor(
    folder: Path, overrides: dict[str, Any], *, offline: bool = False, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    report = DoctorReport(out)
    print(f"qwen-lsp {__version__} doctor", file=out)
    loaded = load_settings(folder, roots=(project_root(folder),), cli=overrides)
    _settings_lines(loaded, report)
    runtime = Runtime(loaded, show=lambda message: report.line(BAD, "cache", message))
    stats = runtime.cache.stats()
    if not runtime.cache.warning:
        report.line(OK, "cache", f"{stats.directory} ({stats.entries} answers)")
    _grammar_line(report)
    s = loaded.settings
    key_needed = needs_key(s, loaded.base_url)
    if loaded.api_key:
        report.line(OK, "API key", f"set (from {loaded.key_source})")
    elif key_needed:
        report.line(BAD, "API key", f"missing: {KEY_HELP[s.provider]}")
    else:
        report.line(OK, "API key", "not needed for a local endpoint")
    if offline:
        report.line(SKIP, "endpoint", "not contacted (--offline)")
    elif loaded.api_key or not key_needed:
        asyncio.run(_probe(runtime, report))
        asyncio.run(_check_chat_model(runtime, report))
    else:
        report.line(SKIP, "endpoint", "not contacted until a key is set")
    runtime.cache.close()
    runtime.ledger.close()  # the probes' spend is written
    if report.problems:
        print("\nNext steps:", file=out)
        if key_needed and not loaded.api_key:
            regions = ", ".join(DASHSCOPE_REGIONS)
            print(
                "  - DashScope: export DASHSCOPE_API_KEY=sk-... (keys are per region; set "
                f"QWEN_LSP_REGION to one of {regions})\n"
                "  - OpenAI: export QWEN_LSP_PROVIDER=openai OPENAI_API_KEY=sk-...\n"
                "  - a local Qwen2.5-Coder (Ollama, vLLM, llama.cpp): export "
                "QWEN_LSP_PROVIDER=openai-compatible QWEN_LSP_BASE_URL=http://127.0.0.1:11434/v1",
                file=out,
            )
        for hint in report.hints:
            print(f"  - {hint}", file=out)
        if not offline and (local := _local_server_hint(loaded.base_url)) is not None:
            print(f"  - {local}", file=out)
        print("  - then run `qwen-lsp doctor` again; README.md documents every setting.", file=out)
        return 2
    print("\nAll good. Point your editor at `qwen-lsp` (see README.md).", file=out)
    return 0
