"""Code actions over LSP: textDocument/codeAction, codeAction/resolve, `qwen-lsp.runAction`
and `qwen-lsp.explain`.

Listing turns the request into an `ActionTarget` and the engine's offers into CodeActions whose
`data` holds what resolving needs; it never calls a model. A client that does not declare it
can resolve a code action's `edit` (Emacs's eglot before 2023, and others) gets each action
with the command `qwen-lsp.runAction` instead, whose argument holds the same: running it
makes the one model call and sends the edit with `workspace/applyEdit`. One server has one
codeAction handler, so this one also returns the review feature's quick fixes. Resolving (or
running) the picked action happens under `$/progress`; cancelling it (`$/cancelRequest`, or
the editor's progress UI) closes the HTTP request. It asks the user before spending past a
budget, and answers a WorkspaceEdit of minimal TextEdits (with CreateFile for a new test file
when the client takes resource operations), or, when the answer is refused, the action
unchanged and one message saying why. Explain answers Markdown to `workspace/executeCommand`,
and shows it when it was picked from the menu.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from qwen_lsp.config import user_config_file
from qwen_lsp.engine import (
    EXPLAIN,
    KINDS,
    ActionFailed,
    ActionOffer,
    ActionResult,
    ActionTarget,
    Problem,
    PromptSources,
    SpendDeclined,
    offer_actions,
    relative_path,
    run_action,
)
from qwen_lsp.lsp import convert
from qwen_lsp.lsp.documents import OpenDocument
from qwen_lsp.lsp.progress import work_done
from qwen_lsp.lsp.server import QwenLanguageServer
from qwen_lsp.model import Position

log = logging.getLogger(__name__)

EXPLAIN_COMMAND = "qwen-lsp.explain"
RUN_ACTION_COMMAND = "qwen-lsp.runAction"
SPEND, KEEP = "Spend anyway", "Cancel"


@dataclass
class ActionClient:
    """What the client declared at initialize that decides how an action reaches it."""

    # codeAction.resolveSupport lists `edit`: actions are resolved, else they carry a command
    resolves_edits: bool = True


def _read_client(ls: QwenLanguageServer, params: types.InitializeParams) -> None:
    text_document = params.capabilities.text_document
    code_action = text_document.code_action if text_document else None
    resolve = code_action.resolve_support if code_action else None
    ls.state(ActionClient).resolves_edits = bool(resolve and "edit" in resolve.properties)


# -- textDocument/codeAction ----------------------------------------------------------------


def code_action(ls: QwenLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    actions = _ai_actions(ls, params)
    actions.extend(_other_features_actions(ls, params))
    return actions


def _ai_actions(ls: QwenLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    doc = ls.documents.get(params.text_document.uri)
    if doc is None or ls.runtime is None:
        log.debug("code actions asked for a document that is not open: %s", params.text_document)
        return []
    diagnostics = list(params.context.diagnostics)
    selection = convert.span(params.range)
    target = _target(ls, doc, selection, [convert.problem(d) for d in diagnostics])
    only = params.context.only
    resolves = ls.state(ActionClient).resolves_edits
    return [
        _code_action(offer, doc, selection, diagnostics, target.diagnostics, resolves=resolves)
        for offer in offer_actions(ls.runtime, target)
        if not only or any(offer.kind == o or offer.kind.startswith(f"{o}.") for o in only)
    ]


def _code_action(
    offer: ActionOffer,
    doc: OpenDocument,
    selection: tuple[Position, Position],
    diagnostics: list[types.Diagnostic],
    problems: tuple[Problem, ...],
    *,
    resolves: bool,
) -> types.CodeAction:
    listed = convert.ListedAction(offer, doc.uri, doc.version, *selection)
    data = convert.action_data(listed)
    if offer.action == EXPLAIN:
        arguments = [{"uri": doc.uri, "range": convert.pack_span(*selection), "show": True}]
        command = types.Command(title=offer.title, command=EXPLAIN_COMMAND, arguments=arguments)
        return types.CodeAction(title=offer.title, command=command, data=data)
    shown = [d for d, p in zip(diagnostics, problems, strict=True) if p in offer.diagnostics]
    if not resolves:
        # No `data`: a client that would still send it to codeAction/resolve must not pay
        # twice, once there and once for the command.
        arguments = [convert.run_arguments(listed)]
        command = types.Command(title=offer.title, command=RUN_ACTION_COMMAND, arguments=arguments)
        return types.CodeAction(
            title=offer.title, kind=offer.kind, diagnostics=shown or None, command=command
        )
    return types.CodeAction(
        title=offer.title,
        kind=offer.kind,
        diagnostics=shown or None,
        data=data,
    )


def _other_features_actions(
    ls: QwenLanguageServer, params: types.CodeActionParams
) -> list[types.CodeAction]:
    """What other features add (the review feature's quick fixes)."""
    found: list[types.CodeAction] = []
    for source in ls.code_action_sources:
        try:
            found.extend(source(ls, params) or [])
        except Exception:  # a failing feature never breaks another
            log.exception("code actions of another feature failed")
    return found


# -- codeAction/resolve ---------------------------------------------------------------------


async def resolve_code_action(ls: QwenLanguageServer, action: types.CodeAction) -> types.CodeAction:
    if not convert.is_listed_action(action.data):
        return action  # not ours to compute (the review's quick fixes come with their edit)
    try:
        listed = convert.listed_action(action)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("codeAction/resolve with damaged data %r: %s", action.data, exc)
        ls.show("qwen-lsp: the editor sent back a damaged code action; ask for it again")
        return action
    if listed.offer.action == EXPLAIN:
        return action  # a command, which needs no edit
    edit = await _action_edit(ls, listed)
    if edit is not None:
        action.edit = edit
    return action


async def _action_edit(
    ls: QwenLanguageServer, listed: convert.ListedAction
) -> types.WorkspaceEdit | None:
    """Run a listed action (the one model call): its edit, or None after telling the user
    why there is none."""
    doc = ls.documents.get(listed.uri)
    if doc is None or ls.runtime is None:
        ls.show("qwen-lsp: that file is no longer open", types.MessageType.Info)
        return None
    if doc.version != listed.version:
        ls.show("qwen-lsp: the file changed since the action was listed; ask for it again")
        return None
    target = _target(ls, doc, (listed.start, listed.end), list(listed.offer.diagnostics))
    result = await _run(ls, target, listed.offer)
    if result is not None and result.note:
        ls.show(result.note, types.MessageType.Info)
    if result is None or not result.files:
        return None
    return _workspace_edit(ls, doc, result)


# -- workspace/executeCommand qwen-lsp.runAction (clients that cannot resolve) ----------------


async def run_action_command(ls: QwenLanguageServer, *arguments: Any) -> None:
    """Run the action a listed CodeAction's command carries and apply its edit with
    `workspace/applyEdit`; every way it can fail ends in one message."""
    try:
        listed = convert.listed_from_run_arguments(arguments[0] if arguments else None)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("%s with damaged arguments %r: %s", RUN_ACTION_COMMAND, arguments, exc)
        ls.show("qwen-lsp: the editor sent back a damaged code action; ask for it again")
        return
    workspace = ls.client_capabilities.workspace
    if not (workspace and workspace.apply_edit):
        ls.show(
            "qwen-lsp: this editor does not take edits from the server (workspace/applyEdit), "
            "so this action cannot change the file; nothing was spent"
        )
        return
    edit = await _action_edit(ls, listed)
    if edit is None:
        return
    title = listed.offer.title
    try:
        answer = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=title)
        )
    except Exception as exc:  # the client answered with an error (the user refused the edit…)
        ls.show(f"qwen-lsp: the editor did not apply {title!r}: {exc}")
        return
    if not answer.applied:
        reason = answer.failure_reason or "it gave no reason"
        ls.show(f"qwen-lsp: the editor did not apply {title!r}: {reason}")


async def _run(
    ls: QwenLanguageServer, target: ActionTarget, offer: ActionOffer
) -> ActionResult | None:
    """Run the action under progress; None (after telling the user why) when it failed."""
    assert ls.runtime is not None
    await ls.wait_for_settings()
    job = asyncio.ensure_future(
        run_action(
            ls.runtime,
            target,
            offer,
            confirm_spend=lambda reason: _confirm_spend(ls, reason),
            prompts=_prompt_sources(target.root),
            open_text=lambda path: _open_text(ls, path),
        )
    )
    try:
        async with work_done(
            ls, offer.title, message="asking the model…", cancellable=True, on_cancel=job.cancel
        ) as progress:
            try:
                return await job
            except asyncio.CancelledError:
                if not progress.cancelled:
                    raise  # $/cancelRequest: pygls answers the request as cancelled
                ls.show("qwen-lsp: cancelled; nothing was changed", types.MessageType.Info)
            except ActionFailed as exc:
                kind = types.MessageType.Info if isinstance(exc, SpendDeclined) else None
                ls.show(str(exc), kind or types.MessageType.Warning)
    finally:
        job.cancel()  # a no-op once done; else nobody waits for that answer: stop paying for it
    return None


async def _confirm_spend(ls: QwenLanguageServer, reason: str) -> bool:
    try:
        answer = await ls.window_show_message_request_async(
            types.ShowMessageRequestParams(
                type=types.MessageType.Warning,
                message=f"qwen-lsp: {reason}. Spend anyway?",
                actions=[types.MessageActionItem(SPEND), types.MessageActionItem(KEEP)],
            )
        )
    except Exception as exc:  # a client that cannot ask the user spends nothing
        log.info("could not ask whether to spend: %s", exc)
        return False
    return answer is not None and answer.title == SPEND


def _workspace_edit(
    ls: QwenLanguageServer, doc: OpenDocument, result: ActionResult
) -> types.WorkspaceEdit:
    """The edit in the form the client takes: documentChanges (versioned, with CreateFile)
    when it can, else plain `changes`, for which a new file is created empty on disk first."""
    workspace = ls.client_capabilities.workspace
    caps = workspace.workspace_edit if workspace else None
    # Eglot declares documentChanges without resource operations: it takes versioned edits
    # but would fail on a CreateFile, so a new file is made on disk for it as well.
    create_files = bool(
        caps and types.ResourceOperationKind.Create in (caps.resource_operations or ())
    )
    document_changes = bool(caps and (caps.document_changes or create_files))
    if not create_files:
        for file in result.files:
            if file.create and file.path is not None:
                file.path.parent.mkdir(parents=True, exist_ok=True)
                file.path.touch(exist_ok=True)

    def version_of(uri: str) -> int | None:
        opened = ls.documents.get(uri)
        return opened.version if opened is not None else None

    return convert.workspace_edit(
        result.files,
        doc.uri,
        document_changes=document_changes,
        version_of=version_of,
        create_files=create_files,
    )


# -- workspace/executeCommand qwen-lsp.explain ----------------------------------------------


async def explain_command(ls: QwenLanguageServer, *arguments: Any) -> str | None:
    """Markdown explaining the code at `{uri, range}`; `show: true` also shows it."""
    request = arguments[0] if arguments and isinstance(arguments[0], dict) else {}
    doc = ls.documents.get(str(request.get("uri")))
    if doc is None or ls.runtime is None or "range" not in request:
        ls.show(f"qwen-lsp: {EXPLAIN_COMMAND} needs the uri and range of an open document")
        return None
    try:
        selection = convert.unpack_span(request["range"])
    except (KeyError, TypeError, ValueError):
        ls.show(f"qwen-lsp: {EXPLAIN_COMMAND}: the range is not an LSP range")
        return None
    target = _target(ls, doc, selection, [])
    offer = ActionOffer(EXPLAIN, "AI: Explain this code", KINDS[EXPLAIN])
    result = await _run(ls, target, offer)
    if result is None or result.markdown is None:
        return None
    if request.get("show"):
        ls.show(result.markdown, types.MessageType.Info, keep_lines=True)
    return result.markdown


# -- translation ------------------------------------------------------------------------------


def _target(
    ls: QwenLanguageServer,
    doc: OpenDocument,
    selection: tuple[Position, Position],
    problems: list[Problem],
) -> ActionTarget:
    return ActionTarget(
        document=doc.source,
        start=selection[0],
        end=selection[1],
        path=relative_path(doc.location, ls.roots),
        file=doc.path,
        root=_root_of(ls, doc.path),
        diagnostics=tuple(problems),
        locale=ls.locale,
    )


def _root_of(ls: QwenLanguageServer, path: Path | None) -> Path | None:
    if path is not None:
        for root in ls.roots:
            if path == root or root in path.parents:
                return root
    return ls.roots[0] if ls.roots else None


def _prompt_sources(root: Path | None) -> PromptSources:
    return PromptSources(workspace=root, user_dir=user_config_file().parent / "prompts")


def _open_text(ls: QwenLanguageServer, path: Path) -> str | None:
    """A file's text as the editor has it (unsaved changes included); None when it is not
    open (the engine then reads it from disk, through the workspace's door)."""
    opened = ls.documents.get(from_fs_path(str(path)) or "")
    return opened.source.text if opened is not None else None


def register(server: QwenLanguageServer) -> None:
    kinds = sorted({types.CodeActionKind.QuickFix.value, *(k for k in KINDS.values() if k)})
    options = types.CodeActionOptions(code_action_kinds=kinds, resolve_provider=True)
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)(code_action)
    server.feature(types.CODE_ACTION_RESOLVE)(resolve_code_action)
    server.command(EXPLAIN_COMMAND)(explain_command)
    server.command(RUN_ACTION_COMMAND)(run_action_command)
    server.add_state(ActionClient())
    server.on_initialize.append(_read_client)
