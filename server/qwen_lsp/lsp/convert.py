"""Every conversion between LSP types and the engine's plain data, in one place: positions
and ranges, text edits, diagnostics from and to `Problem`s and review `Finding`s, suggestions
to inline and plain completion items, and the JSON a code action carries in its `data`.

Columns pass through unchanged: the engine's `Position.character` counts in the position
encoding negotiated at initialize (UTF-16 code units unless the client offered UTF-8 or
UTF-32), and every open `SourceDocument` is made in that same encoding. Where a position is
computed from text (the first non-blank of a line, the end of a line, the word before the
cursor), the document measures it in that encoding.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import from_fs_path

from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine import ActionOffer, Problem
from qwen_lsp.model import Finding, Position, Suggestion

if TYPE_CHECKING:
    from qwen_lsp.engine import FileEdit, TextChange

SOURCE = "qwen-lsp"  # the source of every diagnostic this server publishes
SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}
_WORD_TAIL = re.compile(r"[A-Za-z0-9_$]+$")
_MARK = "qwenLsp"  # in a code action's `data`: this action is ours to resolve


# -- positions and ranges ---------------------------------------------------------------------


def position(p: types.Position) -> Position:
    return Position(p.line, p.character)


def lsp_position(p: Position) -> types.Position:
    return types.Position(line=p.line, character=p.character)


def span(r: types.Range) -> tuple[Position, Position]:
    return position(r.start), position(r.end)


def lsp_range(start: Position, end: Position) -> types.Range:
    return types.Range(start=lsp_position(start), end=lsp_position(end))


def pack_span(start: Position, end: Position) -> list[int]:
    """A span as the 4 numbers a code action's `data` carries (JSON the client sends back)."""
    return [start.line, start.character, end.line, end.character]


def unpack_span(packed: Any) -> tuple[Position, Position]:
    """A span from `pack_span`'s list or from an LSP Range as JSON; ValueError, TypeError or
    KeyError when it is neither."""
    if isinstance(packed, dict):
        start, end = packed["start"], packed["end"]
        packed = [start["line"], start["character"], end["line"], end["character"]]
    a, b, c, d = (int(x) for x in packed)
    if min(a, b, c, d) < 0:
        raise ValueError(f"a negative position in {packed!r}")
    return Position(a, b), Position(c, d)


def text_edit(change: TextChange) -> types.TextEdit:
    return types.TextEdit(range=lsp_range(change.start, change.end), new_text=change.text)


def workspace_edit(
    files: Iterable[FileEdit],
    document_uri: str,
    *,
    document_changes: bool,
    version_of: Callable[[str], int | None],
    create_files: bool = True,
) -> types.WorkspaceEdit:
    """An action's edits: `documentChanges` (versioned, with a CreateFile for a new file when
    the client takes resource operations, `create_files`) for a client that takes them, else
    plain `changes` (which cannot create a file). A file without a path is the document the
    action was asked in, `document_uri`."""
    versioned: list[types.TextDocumentEdit | types.CreateFile] = []
    changes: dict[str, list[types.TextEdit]] = {}
    for file in files:
        uri = document_uri if file.path is None else (from_fs_path(str(file.path)) or "")
        edits = [text_edit(c) for c in file.changes]
        if document_changes:
            if file.create and create_files:
                options = types.CreateFileOptions(ignore_if_exists=True)
                versioned.append(types.CreateFile(uri=uri, options=options))
            identifier = types.OptionalVersionedTextDocumentIdentifier(
                uri=uri, version=version_of(uri)
            )
            versioned.append(types.TextDocumentEdit(text_document=identifier, edits=edits))
        else:
            changes.setdefault(uri, []).extend(edits)
    if document_changes:
        return types.WorkspaceEdit(document_changes=versioned)
    return types.WorkspaceEdit(changes=changes)


# -- code actions, listed now and resolved later -------------------------------------------------


@dataclass(frozen=True)
class ListedAction:
    """What a listed code action carries in its `data`, to be run when it is resolved."""

    offer: ActionOffer
    uri: str
    version: int
    start: Position
    end: Position


def action_data(listed: ListedAction) -> dict[str, Any]:
    offer = listed.offer
    return {
        _MARK: 1,
        "action": offer.action,
        "argument": offer.argument,
        "uri": listed.uri,
        "version": listed.version,
        "range": pack_span(listed.start, listed.end),
        "diagnostics": [pack_problem(p) for p in offer.diagnostics],
    }


def is_listed_action(data: Any) -> bool:
    """Whether a code action's `data` is ours (the review's quick fixes carry none)."""
    return isinstance(data, dict) and bool(data.get(_MARK))


def listed_action(action: types.CodeAction) -> ListedAction:
    """The action `action_data` packed; KeyError, TypeError or ValueError when the client sent
    back something else."""
    return _listed(action.data, action.title, action.kind or "")


def run_arguments(listed: ListedAction) -> dict[str, Any]:
    """The argument of the command a listed action carries for a client that cannot resolve
    it: what `action_data` packs, plus the title and kind the action itself would carry."""
    return {**action_data(listed), "title": listed.offer.title, "kind": listed.offer.kind}


def listed_from_run_arguments(argument: Any) -> ListedAction:
    """The action `run_arguments` packed; KeyError, TypeError or ValueError when the client
    sent back something else."""
    if not isinstance(argument, dict):
        raise TypeError("the command's argument is not an object")
    return _listed(argument, str(argument["title"]), str(argument.get("kind") or ""))


def _listed(data: Any, title: str, kind: str) -> ListedAction:
    if not is_listed_action(data):
        raise ValueError("not a code action this server listed")
    offer = ActionOffer(
        str(data["action"]),
        title,
        kind,
        argument=data.get("argument"),
        diagnostics=tuple(unpack_problem(p) for p in data.get("diagnostics") or ()),
    )
    return ListedAction(offer, str(data["uri"]), data["version"], *unpack_span(data["range"]))


# -- diagnostics --------------------------------------------------------------------------------


def problem(d: types.Diagnostic) -> Problem:
    """Any language server's diagnostic, as the "Fix" action sees it."""
    start, end = span(d.range)
    code = None if d.code is None else str(d.code)
    return Problem(message=d.message, start=start, end=end, source=d.source, code=code)


def pack_problem(p: Problem) -> dict[str, Any]:
    return {
        "message": p.message,
        "range": pack_span(p.start, p.end),
        "source": p.source,
        "code": p.code,
    }


def unpack_problem(packed: dict[str, Any]) -> Problem:
    start, end = unpack_span(packed["range"])
    return Problem(str(packed["message"]), start, end, packed.get("source"), packed.get("code"))


def finding_range(source: SourceDocument, f: Finding, line: int) -> types.Range:
    """Where finding `f` is shown when its lines now start at 1-based `line`: from the first
    non-blank character of that line to the end of its last line."""
    end_line = line + f.end_line - f.line
    text = source.line(line - 1)
    start = source.position_at(source.line_start(line - 1) + len(text) - len(text.lstrip()))
    end = source.position_at(source.line_range(end_line - 1)[1])
    return lsp_range(start, end)


def diagnostic(source: SourceDocument, f: Finding, line: int) -> types.Diagnostic:
    """Review finding `f` as a diagnostic over its lines, which now start at 1-based `line`."""
    return types.Diagnostic(
        range=finding_range(source, f, line),
        message=f.message,
        severity=SEVERITIES[f.severity],
        code=f.rule,
        source=SOURCE,
        data={"fingerprint": f.fingerprint},
    )


def suggestion_edit(source: SourceDocument, f: Finding, line: int) -> types.TextEdit:
    """Replace the lines of `f` (now from 1-based `line`) by its suggestion; an empty
    suggestion deletes them with their line breaks."""
    end_line = line + f.end_line - f.line
    start = source.position_at(source.line_start(line - 1))
    if f.suggestion == "":
        end = source.position_at(source.line_start(end_line))
    else:
        end = source.position_at(source.line_range(end_line - 1)[1])
    return types.TextEdit(range=lsp_range(start, end), new_text=f.suggestion or "")


# -- completions ------------------------------------------------------------------------------


# The command an inline item carries, which the editor runs when the user accepts it.
ACCEPT_COMMAND = "qwen-lsp.accepted"


def inline_items(
    suggestions: Iterable[Suggestion], ids: Iterable[str | None] = ()
) -> list[types.InlineCompletionItem]:
    """Inline items; `ids`, in the same order, name each in its accept command (None: none)."""
    listed = list(ids)
    items = []
    for i, s in enumerate(suggestions):
        given = listed[i] if i < len(listed) else None
        command = (
            types.Command(title="qwen-lsp: accepted", command=ACCEPT_COMMAND, arguments=[given])
            if given is not None
            else None
        )
        items.append(
            types.InlineCompletionItem(
                insert_text=s.text, range=lsp_range(s.start, s.end), command=command
            )
        )
    return items


def completion_items(
    suggestions: Iterable[Suggestion], source: SourceDocument, cursor: Position
) -> list[types.CompletionItem]:
    """Suggestions as plain completion items for clients without inline completion.

    Clients filter items by the word before the cursor, so each item replaces that word with
    the word followed by the suggestion.
    """
    line_prefix = source.text[source.line_start(cursor.line) : source.offset_at(cursor)]
    word = m.group(0) if (m := _WORD_TAIL.search(line_prefix)) else ""
    # The word is ASCII, one unit per character in every position encoding.
    word_start = Position(cursor.line, cursor.character - len(word))
    items = []
    for rank, s in enumerate(suggestions):
        text = word + s.text
        items.append(
            types.CompletionItem(
                label=text.split("\n", 1)[0].strip() or text.strip(),
                kind=types.CompletionItemKind.Text,
                detail=SOURCE,
                documentation=text,
                filter_text=text,
                sort_text=f"0{rank}",
                text_edit=types.TextEdit(range=lsp_range(word_start, s.end), new_text=text),
                insert_text_format=types.InsertTextFormat.PlainText,
            )
        )
    return items
