"""The second chance of a malformed review answer: the same conversation, the model's broken
answer, and a short instruction (`prompts/review/repair.md`) to answer again in the schema.

The repair is its own question: it is cached under its own key (made from the chunk's key and
the broken answer, so the same broken answer gets the same repair) and billed like any call.
"""

from __future__ import annotations

from dataclasses import replace

from qwen_lsp.engine.ask import cache_key
from qwen_lsp.engine.review.prompt import ReviewPrompt
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import Message
from qwen_lsp.prompts import load_template

CACHE_MODE = "review-repair"
# The broken answer is sent back as it was, up to this many characters: enough for the model
# to see what it did, not a second copy of a runaway answer.
_ECHO_CHARS = 4000


def repair_prompt(
    runtime: Runtime, prompt: ReviewPrompt, broken: str, problem: str
) -> ReviewPrompt:
    """The request asking again after `broken` (the model's answer) failed with `problem`."""
    template = load_template("review/repair")
    request = prompt.request
    repaired = replace(
        request,
        messages=(
            *request.messages,
            Message("assistant", broken[:_ECHO_CHARS]),
            Message("user", template.render({"problem": problem})),
        ),
    )
    key = cache_key(
        runtime,
        repaired,
        mode=CACHE_MODE,
        template_version=f"{template.version}:{prompt.key}",
    )
    return ReviewPrompt(repaired, key)
