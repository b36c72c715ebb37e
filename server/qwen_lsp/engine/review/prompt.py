"""The review prompt: a chunk's code with line numbers relative to the chunk, the lines under
review, and the templates of `prompts/review/` or of the user's `review.promptDir`.

`review.promptDir` is a folder of the user's own (an absolute path, or one starting with `~`),
read by `prompts.py` under its rules for every template that is not shipped. A template there
that the rules refuse, or a relative or missing `review.promptDir`, is a `ConfigError` that
stops the run before anything is sent: a review made with the shipped prompt instead would
pass for one made with theirs. A folder without `system.md` or `user.md` uses the shipped one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from qwen_lsp.engine.ask import cache_key
from qwen_lsp.engine.review.chunks import Chunk
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import GenerationRequest, Message
from qwen_lsp.prompts import Template, configured_folder, load_template

log = logging.getLogger(__name__)

CACHE_MODE = "review"


# -- the prompt ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewTemplates:
    system: Template
    user: Template


def review_templates(runtime: Runtime) -> ReviewTemplates:
    """The templates of one run, the user's from `review.promptDir` when it has them; read
    once per run. Raises ConfigError (TemplateRefused) when one is refused."""
    folder = runtime.settings.review.prompt_dir
    folders = (configured_folder("review.promptDir", folder, holds="review/"),) if folder else ()
    return ReviewTemplates(
        load_template("review/system", folders), load_template("review/user", folders)
    )


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


def build_prompt(runtime: Runtime, chunk: Chunk, templates: ReviewTemplates) -> ReviewPrompt:
    """The request that reviews `chunk`, and the cache key of its answer."""
    settings = runtime.settings
    review = settings.review
    system, user = templates.system, templates.user
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
