"""Typing-through reuse: answering from a suggestion already paid for.

When the user types the start of the suggestion on screen (or accepts part of it), the rest
of it is still the model's answer for the new cursor: `Remembered.serve` gives it without a
request. The whole continuation is remembered, not just what was shown, so after the user
takes the first line of a multi-line answer and presses Enter, the next line is offered at
once ("hot streak"). An editor's own indentation after Enter may differ from the model's;
the user's wins. Everything here is pure: text in, text out.
"""

from __future__ import annotations

from dataclasses import dataclass

from qwen_lsp.model import Usage
from qwen_lsp.postprocess import FilterContext
from qwen_lsp.postprocess.pipeline import SHOW, run

MAX_TYPED_AHEAD = 48  # characters typed past an in-flight request's cursor that may still match


@dataclass(frozen=True)
class Anchor:
    """A cursor in one state of a document: all the text before it and all after it."""

    before: str
    after: str

    @classmethod
    def at(cls, text: str, offset: int) -> Anchor:
        return cls(text[:offset], text[offset:])

    def typed_since(self, earlier: Anchor) -> str | None:
        """What was typed at `earlier`'s cursor to reach this state; None when the document
        changed any other way (text deleted, edited elsewhere, the cursor moved)."""
        if self.after != earlier.after or not self.before.startswith(earlier.before):
            return None
        return self.before[len(earlier.before) :]


def remainder(continuation: str, typed: str) -> str | None:
    """The rest of `continuation` once `typed` has been typed at its start; None when the
    typed text is not its start.

    Lines the user finished must match the model's up to indentation; on the line being
    typed, what was typed must start the model's line once indentation is set aside.
    """
    if continuation.startswith(typed):
        return continuation[len(typed) :]
    typed_lines = typed.split("\n")
    lines = continuation.split("\n")
    count = len(typed_lines)
    if count == 1 or count > len(lines) or typed_lines[0] != lines[0]:
        return None
    for mine, theirs in zip(typed_lines[1:-1], lines[1 : count - 1], strict=True):
        if mine.strip() != theirs.strip():
            return None
    current, model_line = typed_lines[-1], lines[count - 1]
    if not current:
        rest = model_line  # at the start of the line: the model's indentation too
    else:
        started = current.lstrip(" \t")
        if not model_line.lstrip(" \t").startswith(started):
            return None
        rest = model_line.lstrip(" \t")[len(started) :]
    return "\n".join([rest, *lines[count:]])


def show(rest: str, line_prefix: str, line_suffix: str) -> str | None:
    """How much of `rest` to offer at a cursor with this line around it (no syntax at hand:
    text rules only); None when nothing belongs on the cursor's line."""
    ctx = FilterContext(prefix=line_prefix, suffix=line_suffix)
    return run(rest, ctx, SHOW)


@dataclass(frozen=True)
class Remembered:
    """The continuations a model gave at `anchor`, what of each to show right there (decided
    with the syntax at hand), and what the call cost (for savings)."""

    anchor: Anchor
    continuations: tuple[str, ...]
    shown: tuple[str | None, ...]
    model: str
    usage: Usage
    from_cache: bool = False
    mode: str = ""  # the prompt mode the answer was asked in

    def serve(self, now: Anchor) -> list[str] | None:
        """Suggestions at `now` from these continuations, without a request.

        None when `now` does not continue what was suggested (ask the model); an empty list
        when it does but nothing is left to show on this line (the user typed all of it, or
        the rest starts on the next line).
        """
        typed = now.typed_since(self.anchor)
        if typed is None:
            return None
        if not typed:
            return list(dict.fromkeys(s for s in self.shown if s is not None))
        line_prefix = now.before[now.before.rfind("\n") + 1 :]
        end = now.after.find("\n")
        line_suffix = now.after if end < 0 else now.after[:end]
        matched = False
        out: list[str] = []
        for continuation in self.continuations:
            rest = remainder(continuation, typed)
            if rest is None:
                continue
            matched = True
            shown = show(rest, line_prefix, line_suffix) if rest.strip() else None
            if shown is not None and shown not in out:
                out.append(shown)
        return out if matched else None
