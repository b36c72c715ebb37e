"""The code action use case: AI actions listed for free, run only when a user picks one.

Listing (`offer_actions`) reads the document, its tree and the request, and never calls a
model, so an editor may ask at every cursor move. Running (`run_action`) builds the action's
prompt from its template and asks it through the one paid call (`engine/ask.py`): answered from
the cache when the same action already ran on the same code with the same template, else
exactly one call to the chat model, after the budget allows it or the user agrees to go over a
reached limit. The answer becomes the smallest edits that apply it, or Markdown for "Explain".
Nothing runs on a document whose text may not be sent (the rule of listing and completion,
checked again here: a client may run an action it was never offered), and the test file
"Write unit tests" shows the model is read through the workspace's door. An answer that is
empty or does not parse is refused with `ActionFailed` saying why: it changes nothing and is
not cached, so asking again may do better. The ledger names this feature "action".
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from qwen_lsp import errors
from qwen_lsp.config import CustomAction, Settings
from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.files import MISSING, Refusal
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.actions.edits import minimal_edits
from qwen_lsp.engine.actions.model import (
    CUSTOM,
    DOCUMENT,
    EXPLAIN,
    FIX,
    SIMPLIFY,
    TESTS,
    TRANSLATE,
    TYPE_HINTS,
    ActionFailed,
    ActionJob,
    ActionOffer,
    ActionResult,
    ActionTarget,
    ConfirmSpend,
    FileEdit,
    Problem,
    ReadText,
    SpendDeclined,
    TextChange,
)
from qwen_lsp.engine.actions.regions import (
    Region,
    has_cjk,
    is_blank,
    lines_region,
    region_for,
    surroundings,
)
from qwen_lsp.engine.actions.templates import PromptSources, action_template
from qwen_lsp.engine.actions.writing_tests import tests_job
from qwen_lsp.engine.ask import Answer, Prompt, Question, cache_key, get_answer
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.engine.workspace import relative_path
from qwen_lsp.model import GenerationRequest, Message
from qwen_lsp.postprocess.answers import (
    code_changed,
    code_from_answer,
    common_indent,
    newline_of,
    prose_from_answer,
    syntax_problem,
)
from qwen_lsp.prompts import Template
from qwen_lsp.spend import BudgetState

log = logging.getLogger(__name__)

FEATURE = "action"  # the spend ledger's name for this use case
TEMPERATURE = 0.2
CONTEXT_LINES = 40  # lines before the code a prompt shows for context (half as many after)

LANGUAGE_NAMES = {"en": "English", "zh": "Simplified Chinese"}


# -- running: one paid call at most ----------------------------------------------------------


async def run_action(
    runtime: Runtime,
    target: ActionTarget,
    offer: ActionOffer,
    *,
    confirm_spend: ConfirmSpend,
    prompts: PromptSources | None = None,
    open_text: ReadText | None = None,
) -> ActionResult:
    """Run the action `offer` names on `target`; raises ActionFailed when it cannot.
    `open_text`: the editor's text of a file open in it, None for one that is not open."""
    refused = runtime.workspace.why_not_sent(target.file, target.path)
    if refused is not None:
        raise ActionFailed(f"qwen-lsp: {refused}; nothing was sent")
    read = _workspace_reader(runtime, target, open_text)
    job = _prepare(runtime.settings, target, offer, prompts or PromptSources(), read)
    answer = await _ask(runtime, job, confirm_spend)
    return dataclasses.replace(answer.value, from_cache=answer.cached)


def _workspace_reader(
    runtime: Runtime, target: ActionTarget, open_text: ReadText | None
) -> ReadText:
    """How an action reads another file: judged by the workspace's rules first (a test file
    that is a link to a key is not read, even when the editor has it open), then the
    editor's text, else the disk through the door."""
    workspace = runtime.workspace

    def read(path: Path) -> str | None:
        shown = relative_path(path, [target.root] if target.root else [])
        refused = workspace.why_not_sent(path, shown)
        if refused is not None:
            raise ActionFailed(f"qwen-lsp: {refused}; nothing was sent")
        text = open_text(path) if open_text is not None else None
        if text is not None:
            return text
        got = workspace.read_file(path, target.root)
        if isinstance(got, Refusal):
            if got.kind == MISSING:
                return None
            raise ActionFailed(f"qwen-lsp: {shown}: {got.reason}; nothing was sent")
        return got

    return read


def _prepare(
    settings: Settings,
    target: ActionTarget,
    offer: ActionOffer,
    prompts: PromptSources,
    read: ReadText,
) -> ActionJob:
    doc = target.document
    whole_file = offer.action in (TESTS, TRANSLATE)
    region = _region(target, offer, whole_file)
    if is_blank(doc, region):
        raise ActionFailed("qwen-lsp: there is no code here for that action")
    if offer.action not in (EXPLAIN, TESTS):
        # The answer repeats the code: past the answer's token limit it would come back cut
        # short, and be paid for and refused. Say so before spending anything.
        tokens = estimate_tokens(region.text(doc))
        if tokens > settings.actions.max_tokens * 9 // 10:
            raise ActionFailed(
                f"qwen-lsp: that code is too long for one answer (about {tokens} tokens, "
                f"actions.maxTokens is {settings.actions.max_tokens}); select a part of it"
            )
    values = _values(settings, target, region)
    if offer.action == TESTS:
        return tests_job(settings, target, region, values, prompts, read)
    system_name = "actions/explain.system" if offer.action == EXPLAIN else "actions/system"
    system = action_template(prompts, system_name)
    if offer.action == CUSTOM:
        user, version = _custom_template(settings, offer, prompts, values)
    else:
        user = action_template(prompts, f"actions/{_TEMPLATES[offer.action]}")
        version = user.version
    if offer.action == TRANSLATE:
        values["target_language"] = LANGUAGE_NAMES.get(offer.argument or "en", "English")
    if offer.action == FIX:
        values["diagnostics"] = _problems_text(offer.diagnostics or target.diagnostics)
    messages = (Message("system", system.render(values)), Message("user", user.render(values)))
    version = f"{system.version}.{version}"
    if offer.action == EXPLAIN:
        return ActionJob(EXPLAIN, messages, version, _explanation)
    only_comments = offer.action == TRANSLATE
    return ActionJob(
        offer.action,
        messages,
        version,
        lambda answer: _rewrite(doc, region, answer, only_comments=only_comments),
    )


_TEMPLATES = {
    FIX: "fix",
    EXPLAIN: "explain",
    DOCUMENT: "document",
    TYPE_HINTS: "type_hints",
    SIMPLIFY: "simplify",
    TRANSLATE: "translate",
}


def _region(target: ActionTarget, offer: ActionOffer, whole_file: bool) -> Region:
    doc = target.document
    if offer.action == FIX and offer.diagnostics:
        # The definition around the problem: a fix often needs more than the flagged line.
        first = min((p.start for p in offer.diagnostics), key=lambda p: (p.line, p.character))
        last_line = max(p.end.line for p in offer.diagnostics)
        region = region_for(doc, first, first)
        if first.line < region.first_line or last_line > region.last_line:
            low = min(first.line, region.first_line)
            return lines_region(doc, low, max(last_line, region.last_line))
        return region
    if offer.action not in _TEMPLATES and offer.action not in (TESTS, CUSTOM):
        raise ActionFailed(f"qwen-lsp: unknown code action {offer.action!r}")
    return region_for(doc, target.start, target.end, whole_file_fallback=whole_file)


def _values(settings: Settings, target: ActionTarget, region: Region) -> dict[str, str]:
    doc = target.document
    before, after = surroundings(doc, region, lines=CONTEXT_LINES)
    budget = settings.context.max_tokens * 3  # characters, at about 3-4 per token
    code = region.text(doc)
    return {
        "language": doc.language or "text",
        "path": target.path or "untitled",
        "code": code,
        "before": _tail_lines(before, budget * 3 // 4),
        "after": _head_lines(after, budget // 4),
        "first_line": str(region.first_line + 1),
        "last_line": str(region.last_line + 1),
        "answer_language": LANGUAGE_NAMES[_answer_language(settings, target, code)],
        "diagnostics": _problems_text(target.diagnostics),
    }


def _answer_language(settings: Settings, target: ActionTarget, code: str) -> str:
    """ "zh" or "en": the `language` setting, else the editor's locale, else the code's."""
    if settings.language != "auto":
        return settings.language
    if target.locale:
        return "zh" if target.locale.lower().startswith("zh") else "en"
    return "zh" if has_cjk(code) else "en"


def _problems_text(problems: tuple[Problem, ...]) -> str:
    lines = []
    for p in problems:
        origin = " ".join(x for x in (p.source, f"[{p.code}]" if p.code else None) if x)
        lines.append(f"- line {p.start.line + 1}: {p.message}" + (f" ({origin})" if origin else ""))
    return "\n".join(lines) or "(none reported)"


def _custom_template(
    settings: Settings, offer: ActionOffer, prompts: PromptSources, values: dict[str, str]
) -> tuple[Template, str]:
    custom = _custom_action(settings, offer.argument)
    wrapper = action_template(prompts, "actions/custom")
    # The instruction sees only the small values: the code itself goes in the wrapper's block.
    small = {k: values[k] for k in ("language", "path", "answer_language")}
    instruction = Template("custom", custom.prompt).render(small)
    values["instruction"] = instruction
    return wrapper, f"{wrapper.version}.{Template('custom', custom.prompt).version}"


def _custom_action(settings: Settings, title: str | None) -> CustomAction:
    for custom in settings.actions.custom:
        if custom.title == title:
            return custom
    raise ActionFailed(f"qwen-lsp: the custom action {title!r} is no longer in the settings")


# -- the call -------------------------------------------------------------------------------


async def _ask(runtime: Runtime, job: ActionJob, confirm_spend: ConfirmSpend) -> Answer[Any]:
    """The job's answer, read (`job.interpret`): only one that passed every check is cached,
    since a refused one may be better next time."""
    settings = runtime.settings
    request = GenerationRequest(
        model=settings.resolved_chat_model,
        messages=job.messages,
        max_tokens=settings.actions.max_tokens,
        temperature=TEMPERATURE,
    )
    key = cache_key(
        runtime, request, mode=f"action:{job.action}", template_version=job.template_version
    )

    async def spending(budget: BudgetState, request: GenerationRequest) -> bool:
        if not budget.allowed:
            reason = budget.reason or "a spend limit is reached"
            if not await confirm_spend(reason):
                raise SpendDeclined(f"qwen-lsp: nothing was spent: {reason}")
        return True

    question = Question(FEATURE, Prompt(request, key), timeout=settings.actions.timeout_ms / 1000)
    try:
        answer = await get_answer(
            runtime,
            question,
            spending=spending,
            accept=lambda generation: job.interpret(
                generation.texts[0] if generation.texts else ""
            ),
        )
    except errors.ConfigError as exc:
        raise ActionFailed(str(exc)) from None
    except errors.ProviderError as exc:
        log.info("code action %s failed: %s", job.action, exc)
        raise ActionFailed(runtime.explain(exc)) from None
    assert answer is not None  # this spending policy sends or raises
    return answer


# -- reading the answer ---------------------------------------------------------------------


def _explanation(answer: str) -> ActionResult:
    markdown = prose_from_answer(answer)
    if not markdown:
        raise ActionFailed("qwen-lsp: the model's explanation was empty; nothing to show")
    return ActionResult(markdown=markdown)


def _rewrite(
    doc: SourceDocument, region: Region, answer: str, *, only_comments: bool = False
) -> ActionResult:
    old_code = region.text(doc)
    new_code = code_from_answer(
        answer, indent=common_indent(old_code), newline=newline_of(doc.text)
    )
    if not new_code.strip():
        raise ActionFailed("qwen-lsp: the model answered no code; nothing was changed")
    if new_code == old_code:
        return ActionResult(note="qwen-lsp: the model found nothing to change")
    text = doc.text
    new_text = text[: region.start] + new_code + text[region.end :]
    changed = (region.start, region.start + len(new_code))
    problem = syntax_problem(doc.language, text, new_text, changed)
    if problem is not None:
        raise ActionFailed(f"qwen-lsp: answer refused, {problem}; nothing was changed")
    if only_comments and code_changed(doc.language, text, new_text):
        raise ActionFailed(
            "qwen-lsp: answer refused, the translation changed the code and not only its "
            "comments; nothing was changed"
        )
    edits = minimal_edits(old_code, new_code, offset=region.start)
    changes = tuple(
        TextChange(doc.position_at(e.start), doc.position_at(e.end), e.text) for e in edits
    )
    return ActionResult(files=(FileEdit(None, changes),))


def _tail_lines(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    return cut[cut.find("\n") + 1 :]


def _head_lines(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind("\n") + 1] if "\n" in cut else ""
