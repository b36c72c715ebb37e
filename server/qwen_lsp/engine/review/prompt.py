"""The review prompt: a chunk's code with line numbers relative to the chunk, the lines under
review, and the templates of `prompts/review/` (or the user's `review.promptDir`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp import errors
from qwen_lsp.engine.ask import cache_key
from qwen_lsp.engine.review.chunks import Chunk
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import GenerationRequest, Message
from qwen_lsp.prompts import Template

log = logging.getLogger(__name__)

CACHE_MODE = "review"


# -- the prompt ------------------------------------------------------------------------------


def _template(runtime: Runtime, name: str, root: Path | None) -> Template:
    """The user's template from `review.promptDir` when it has one, else the shipped one."""
    folder = runtime.settings.review.prompt_dir
    if folder:
        path = Path(folder).expanduser()
        if not path.is_absolute() and root is not None:
            path = root / path
        try:
            return Template(f"review/{name}", (path / f"{name}.md").read_text("utf-8").rstrip())
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise errors.ConfigError(f"qwen-lsp: cannot read {path / name}.md: {exc}") from None
    return runtime.prompts.get(f"review/{name}")


def numbered(chunk: Chunk) -> str:
    """The chunk's code with its line numbers, counted from 1 at the chunk's first line.

    Numbers relative to the chunk keep the prompt (and so its cache entry) the same when the
    code moves within the file; findings are mapped back to file lines.
    """
    width = len(str(len(chunk.lines)))
    return "\n".join(f"{n:>{width}} | {line}" for n, line in enumerate(chunk.lines, 1))


def _review_lines(chunk: Chunk) -> str:
    if chunk.review == ((chunk.start, chunk.end),):
        return "every line"
    spans = [
        f"{a - chunk.start + 1}" if a == b else f"{a - chunk.start + 1}-{b - chunk.start + 1}"
        for a, b in chunk.review
    ]
    return ("line " if len(spans) == 1 and "-" not in spans[0] else "lines ") + ", ".join(spans)


@dataclass(frozen=True)
class ReviewPrompt:
    request: GenerationRequest
    key: str  # the answer cache key


def build_prompt(runtime: Runtime, chunk: Chunk, root: Path | None = None) -> ReviewPrompt:
    """The request that reviews `chunk`, and the cache key of its answer; `root` is the
    folder a relative `review.promptDir` starts from."""
    settings = runtime.settings
    review = settings.review
    system, user = _template(runtime, "system", root), _template(runtime, "user", root)
    instructions = review.instructions.strip()
    values = {
        "path": chunk.path,
        "language": chunk.language or "text",
        "code": numbered(chunk),
        "review_lines": _review_lines(chunk),
        "max_findings": str(review.max_findings),
        "instructions": f"\n\n{instructions}" if instructions else "",
    }
    request = GenerationRequest(
        model=settings.resolved_chat_model,
        messages=(Message("system", system.render(values)), Message("user", user.render(values))),
        max_tokens=review.max_tokens,
        temperature=0.0,  # the same code should get the same review
        json_mode=True,
    )
    key = cache_key(
        runtime, request, mode=CACHE_MODE, template_version=f"{system.version}.{user.version}"
    )
    return ReviewPrompt(request, key)
