"""Plain data shared by every layer: what is asked of a model and what comes back.

Nothing here imports pygls, an SDK or the file system.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class PromptMode(str, enum.Enum):
    """How a completion is asked of a model. The engine tries the modes a provider offers in
    order and remembers the one an endpoint took (the README's "Prompt modes")."""

    FIM = "fim"  # raw <|fim_prefix|>… on a completions endpoint
    PARTIAL = "partial"  # DashScope chat whose last assistant message has "partial": true
    CHAT = "chat"  # chat hole-filler for models without FIM


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str
    partial: bool = False  # DashScope partial mode: the model continues this assistant text


@dataclass(frozen=True)
class GenerationRequest:
    """One call to a model: either a raw `prompt` (FIM) or chat `messages`."""

    model: str
    prompt: str | None = None
    messages: tuple[Message, ...] = ()
    max_tokens: int = 128
    temperature: float = 0.2
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    n: int = 1
    json_mode: bool = False

    def __post_init__(self) -> None:
        if (self.prompt is None) == (not self.messages):
            raise ValueError("a GenerationRequest has either a prompt or messages")


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Generation:
    """What a model answered: one text per candidate, and the tokens it billed."""

    texts: tuple[str, ...]
    usage: Usage = field(default_factory=Usage)
    model: str = ""


@dataclass(frozen=True)
class Position:
    """0-based line and character, in the document's negotiated position encoding."""

    line: int
    character: int


@dataclass(frozen=True)
class Suggestion:
    """A completion to show: `text` replaces the document between `start` and `end`."""

    text: str
    start: Position
    end: Position
    from_cache: bool = False
    model: str = ""  # the model that answered it, as the endpoint named it
    mode: str = ""  # the prompt mode it was asked in ("fim", "partial", "chat")


# Review severities, most severe first (the review answer schema's "severity" values).
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One review finding, in file coordinates: 1-based `line`..`end_line`, both included.

    `suggestion` replaces those whole lines (None: no fix offered; "": delete them).
    `fingerprint` names the finding by its file, rule and the code it flags, not by line
    numbers, so it survives code moving (SARIF partialFingerprints, baselines).
    """

    path: str
    line: int
    end_line: int
    severity: str  # one of SEVERITIES
    rule: str
    message: str
    suggestion: str | None = None
    fingerprint: str = ""

    @property
    def rank(self) -> int:
        """0 for errors, 1 for warnings, 2 for info: lower is more severe."""
        return SEVERITIES.index(self.severity)
