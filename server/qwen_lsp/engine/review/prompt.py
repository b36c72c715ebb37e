"""The review prompt: a chunk's code with line numbers relative to the chunk, the lines under
review, and the templates of `prompts/review/` or of the user's `review.promptDir`.

`review.promptDir` is a folder of the user's own (an absolute path, or one starting with `~`),
read by `prompts.py` under its rules for every template that is not shipped. A template there
that the rules refuse, or a relative or missing `review.promptDir`, is a `ConfigError` that
stops the run before anything is sent: a review made with the shipped prompt instead would
pass for one made with theirs. A folder without `system.md` or `user.md` uses the shipped one.

Instructions. The team's rules reach the prompt (`{{instructions}}`) from the settings'
`review.instructions` (a string for every file, or `[[review.instructions]]` entries whose
`paths` globs choose the files) and from the repository's own `.qwen-lsp/review.md`, read once
per run through the workspace's door (no link out of the repository, no ignored or secret
file), capped at `MAX_INSTRUCTIONS` characters in all. They are in the prompt, so in the
answer's cache key: changing them reviews again.

Context. With the repository's symbol index (`context.py`), each chunk's prompt also shows the
signatures of what its lines call from other files (`{{related}}`), within
`CONTEXT_SHARE` of `review.chunkTokens`.

Language. Messages are asked for in the `language` setting's language (`{{answer_language}}`):
`zh` or `en`, or with `auto` Chinese when the chunk's code holds Chinese, else English.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from qwen_lsp.config import ReviewInstruction, Settings
from qwen_lsp.context.files import Refusal
from qwen_lsp.context.index import WorkspaceIndex
from qwen_lsp.engine.ask import cache_key
from qwen_lsp.engine.review.chunks import Chunk
from qwen_lsp.engine.review.context import CONTEXT_SHARE, called_signatures, review_index
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import GenerationRequest, Message
from qwen_lsp.prompts import Template, configured_folder, load_template

log = logging.getLogger(__name__)

CACHE_MODE = "review"
REPOSITORY_INSTRUCTIONS = ".qwen-lsp/review.md"
MAX_INSTRUCTIONS = 4000  # characters of instructions in one prompt: a rule set, not a book
ANSWER_LANGUAGES = {"en": "English", "zh": "Simplified Chinese"}
# CJK ideographs, CJK punctuation and full-width forms: code that holds them is written by
# people who read Chinese.
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


# -- the prompt ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewTemplates:
    """What one run's prompts are made from besides the code: read once per run."""

    system: Template
    user: Template
    repository_instructions: str = ""  # the repository's .qwen-lsp/review.md
    index: WorkspaceIndex | None = None  # the repository's symbols, for what chunks call


def review_templates(runtime: Runtime, root: Path | None = None) -> ReviewTemplates:
    """The templates of one run, the user's from `review.promptDir` when it has them, and the
    instructions of the repository at `root` (None: no repository, as for a lone file).
    Raises ConfigError (TemplateRefused) when a template is refused."""
    folder = runtime.settings.review.prompt_dir
    folders = (configured_folder("review.promptDir", folder, holds="review/"),) if folder else ()
    return ReviewTemplates(
        load_template("review/system", folders),
        load_template("review/user", folders),
        _repository_instructions(runtime, root) if root is not None else "",
        review_index(runtime, root) if root is not None else None,
    )


def _repository_instructions(runtime: Runtime, root: Path) -> str:
    door = runtime.workspace.files(root)
    if not (door.root / REPOSITORY_INSTRUCTIONS).exists():
        return ""
    got = door.read(REPOSITORY_INSTRUCTIONS)
    if isinstance(got, Refusal):
        # a link out of the repository, an ignored or oversized file: named, never read
        log.warning("review instructions not read: %s", got)
        return ""
    return got.strip()


def instructions_for(settings: Settings, templates: ReviewTemplates, path: str) -> str:
    """The instructions of the settings and the repository that apply to `path`, within
    MAX_INSTRUCTIONS characters."""
    parts = [e.text.strip() for e in settings.review.instructions if _applies(e, path)]
    parts.append(templates.repository_instructions)
    text = "\n\n".join(p for p in parts if p)
    if len(text) > MAX_INSTRUCTIONS:
        text = text[:MAX_INSTRUCTIONS].rstrip() + "\n[instructions cut here: too long]"
    return text


def _related(templates: ReviewTemplates, chunk: Chunk, budget: int) -> str:
    if templates.index is None:
        return ""
    signatures = called_signatures(templates.index, chunk, budget)
    if not signatures:
        return ""
    return (
        "\nWhat this code calls from other files (their signatures, to check the calls "
        f"against; not under review):\n```\n{signatures}\n```\n"
    )


def _applies(entry: ReviewInstruction, path: str) -> bool:
    if not entry.paths:
        return True
    name = path.rsplit("/", 1)[-1]
    return any(fnmatchcase(path, p) or fnmatchcase(name, p) for p in entry.paths)


def answer_language(settings: Settings, code: str) -> str:
    """ "zh" or "en": the `language` setting, else Chinese when the code holds Chinese."""
    if settings.language != "auto":
        return settings.language
    return "zh" if _CJK.search(code) else "en"


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
    instructions = instructions_for(settings, templates, chunk.path)
    code = "\n".join(chunk.lines)
    values = {
        "path": chunk.path,
        "language": chunk.language or "text",
        "code": numbered(chunk),
        "review_lines": _review_lines(chunk),
        "max_findings": str(review.max_findings),
        "instructions": (
            f"\n\nInstructions of the team for this review:\n{instructions}" if instructions else ""
        ),
        "answer_language": ANSWER_LANGUAGES[answer_language(settings, code)],
        "related": _related(templates, chunk, int(review.chunk_tokens * CONTEXT_SHARE)),
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
