"""The plain data of code actions, shared by listing, running and the "Write unit tests" job.

What an action is asked on (`ActionTarget`), what the menu shows (`ActionOffer`), what running
it gives (`ActionResult`: edits per file, or Markdown), an action ready to send (`ActionJob`),
and the one error a user sees when an action cannot give a result (`ActionFailed`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp import errors
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.model import Message, Position


class ActionFailed(errors.QwenLspError):
    """The action cannot give a result; the message says why, for the user."""


class SpendDeclined(ActionFailed):
    """A spend limit is reached and the user chose not to go over it."""


@dataclass(frozen=True)
class Problem:
    """A diagnostic from any language server, as the "Fix" action sees it."""

    message: str
    start: Position
    end: Position
    source: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class ActionTarget:
    """Where an action is asked: the document, the selection, and what surrounds them."""

    document: SourceDocument
    start: Position
    end: Position
    path: str = ""  # relative to the workspace, as the model sees it
    file: Path | None = None  # on disk, to place a new test file beside it
    root: Path | None = None  # the workspace folder
    diagnostics: tuple[Problem, ...] = ()
    locale: str | None = None  # the editor's UI language ("zh-cn"), for `language = auto`


@dataclass(frozen=True)
class ActionOffer:
    """One entry of the code action menu; `action` and `argument` say what to run."""

    action: str
    title: str
    kind: str
    argument: str | None = None  # translate: "en" | "zh"; custom: the action's title
    diagnostics: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class TextChange:
    start: Position
    end: Position
    text: str


@dataclass(frozen=True)
class FileEdit:
    """Edits of one file; `path` None is the document the action was asked in."""

    path: Path | None
    changes: tuple[TextChange, ...]
    create: bool = False


@dataclass(frozen=True)
class ActionResult:
    files: tuple[FileEdit, ...] = ()
    markdown: str | None = None  # Explain's answer
    note: str | None = None  # something to tell the user (there was nothing to change)
    from_cache: bool = False


ConfirmSpend = Callable[[str], Awaitable[bool]]
# A file an action needs (the test file): its text, None when it does not exist yet; raises
# ActionFailed when it may not be read.
ReadText = Callable[[Path], "str | None"]


@dataclass
class ActionJob:
    """An action ready to ask: its messages, template version, and how to read the answer."""

    action: str
    messages: tuple[Message, ...]
    template_version: str
    interpret: Callable[[str], ActionResult]


# Action ids, as they travel in a code action's data.
FIX, EXPLAIN, DOCUMENT, TYPE_HINTS = "fix", "explain", "document", "typeHints"
TESTS = "tests"
SIMPLIFY, TRANSLATE, CUSTOM = "simplify", "translate", "custom"
KINDS = {
    FIX: "quickfix.qwen",
    EXPLAIN: "",  # no edit: it shows an explanation
    DOCUMENT: "refactor.rewrite.qwen.document",
    TYPE_HINTS: "refactor.rewrite.qwen.typeHints",
    TESTS: "refactor.qwen.tests",
    SIMPLIFY: "refactor.rewrite.qwen.simplify",
    TRANSLATE: "refactor.rewrite.qwen.translate",
    CUSTOM: "refactor.rewrite.qwen.custom",
}
