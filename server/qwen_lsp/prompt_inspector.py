"""`qwen-lsp prompt FILE:LINE:COL`: the exact prompt that would be sent there, and its size.

Sends nothing. The mode is the one the server would use: forced by settings, else the one
remembered for the endpoint, else the first the wire offers.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

from qwen_lsp.config import load_settings
from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.completion import CompletionTarget, cursor_context, prompt_for
from qwen_lsp.engine.runtime import Runtime, relative_path
from qwen_lsp.model import Position
from qwen_lsp.providers.base import create_provider


def parse_location(location: str) -> tuple[Path, int, int]:
    """`path:line:col`, 1-based (as editors and compilers print them)."""
    path, _, rest = location.rpartition(":")
    path, _, line = path.rpartition(":")
    if not path or not line.isdigit() or not rest.isdigit():
        raise ValueError(f"expected FILE:LINE:COL, got {location!r}")
    return Path(path), int(line), int(rest)


def run_prompt_inspector(
    location: str, overrides: dict[str, Any], *, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    try:
        path, line, col = parse_location(location)
        text = path.read_text(encoding="utf-8")
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        print(f"qwen-lsp prompt: {exc}", file=sys.stderr)
        return 2
    loaded = load_settings(path.parent, cli=overrides)
    runtime = Runtime(loaded, show=lambda m: print(m, file=sys.stderr), use_cache=False)
    document = SourceDocument(text, language_for(None, str(path)), encoding="utf-32")
    target = CompletionTarget(
        document, Position(line - 1, col - 1), path=relative_path(path.resolve(), [Path.cwd()])
    )
    ctx = cursor_context(runtime, target)
    provider = create_provider(runtime.endpoint(1.0))
    mode = runtime.candidate_modes(provider, runtime.settings.completion_model)[0]
    prompt = prompt_for(runtime, mode, ctx)
    request = prompt.request
    print(f"# mode: {mode.value}   model: {request.model}   endpoint: {loaded.base_url}", file=out)
    print(f"# prefix: {estimate_tokens(ctx.prefix)} tokens", file=out)
    print(f"# suffix: {estimate_tokens(ctx.suffix)} tokens", file=out)
    if request.prompt is not None:
        print(f"# prompt: {estimate_tokens(request.prompt)} tokens (estimated)\n", file=out)
        print(request.prompt, file=out)
    else:
        total = sum(estimate_tokens(m.content) for m in request.messages)
        print(f"# messages: {total} tokens (estimated)\n", file=out)
        for message in request.messages:
            partial = " (partial: the model continues it)" if message.partial else ""
            print(f"--- {message.role}{partial}", file=out)
            print(message.content, file=out)
    return 0
