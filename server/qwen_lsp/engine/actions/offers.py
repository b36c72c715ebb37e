"""Listing code actions: the AI actions that make sense at a place, found without calling a
model, so an editor may ask at every cursor move. A document whose text may not be sent
(secrets, `exclude`, ignored by git, a link leading away: `Workspace.why_not_sent`, the same
rule as completion) gets none."""

from __future__ import annotations

import logging

from qwen_lsp.config import Settings
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.actions.conventions import offers_tests
from qwen_lsp.engine.actions.model import (
    CUSTOM,
    DOCUMENT,
    EXPLAIN,
    FIX,
    KINDS,
    SIMPLIFY,
    TESTS,
    TRANSLATE,
    TYPE_HINTS,
    ActionOffer,
    ActionTarget,
)
from qwen_lsp.engine.actions.regions import (
    comments_in,
    has_cjk,
    is_blank,
    region_for,
)
from qwen_lsp.engine.runtime import Runtime

log = logging.getLogger(__name__)

MAX_FIX_OFFERS = 3  # "Fix" actions listed for one request, one per diagnostic
TYPED_LANGUAGES = ("python", "typescript", "tsx")  # where "Add type hints" means something


# -- listing: free --------------------------------------------------------------------------


def offer_actions(runtime: Runtime, target: ActionTarget) -> list[ActionOffer]:
    """The AI actions that make sense here, without calling a model; none for a document
    whose text may not be sent."""
    if not runtime.settings.actions.enabled:
        return []
    refused = runtime.workspace.why_not_sent(target.file, target.path)
    if refused is not None:
        log.debug("no code actions: %s", refused)
        return []
    return offers_for(runtime.settings, target)


def offers_for(settings: Settings, target: ActionTarget) -> list[ActionOffer]:
    """The actions that fit the code at `target` (the settings allowing them)."""
    if not settings.actions.enabled:
        return []
    doc = target.document
    # Listing runs at every cursor move: it reads the last tree without parsing the latest
    # keystrokes, which is plenty to choose what to offer (running the action parses).
    parses = doc.recent_tree is not None  # an edit is accepted only when its result parses
    offers: list[ActionOffer] = []
    if parses:
        for problem in target.diagnostics[:MAX_FIX_OFFERS]:
            title = f"AI: Fix “{_shorten(problem.message)}”"
            offers.append(ActionOffer(FIX, title, KINDS[FIX], diagnostics=(problem,)))
    region = region_for(doc, target.start, target.end, fresh=False)
    if not is_blank(doc, region):
        offers.append(ActionOffer(EXPLAIN, "AI: Explain this code", KINDS[EXPLAIN]))
        if parses:
            offers.extend(_rewrites(settings, doc))
    if parses and offers_tests(doc.language, target.path) and target.file is not None:
        offers.append(ActionOffer(TESTS, "AI: Write unit tests", KINDS[TESTS]))
    if parses:
        wide = region_for(doc, target.start, target.end, whole_file_fallback=True, fresh=False)
        comments = comments_in(doc, wide, fresh=False)
        if comments:
            to = "en" if any(has_cjk(c) for c in comments) else "zh"
            title = f"AI: Translate comments to {'English' if to == 'en' else 'Chinese'}"
            offers.append(ActionOffer(TRANSLATE, title, KINDS[TRANSLATE], argument=to))
    return offers


def _rewrites(settings: Settings, doc: SourceDocument) -> list[ActionOffer]:
    docs = "AI: Add docstring" if doc.language == "python" else "AI: Add doc comment"
    offers = [ActionOffer(DOCUMENT, docs, KINDS[DOCUMENT])]
    if doc.language in TYPED_LANGUAGES:
        offers.append(ActionOffer(TYPE_HINTS, "AI: Add type hints", KINDS[TYPE_HINTS]))
    offers.append(ActionOffer(SIMPLIFY, "AI: Simplify / refactor", KINDS[SIMPLIFY]))
    offers.extend(
        ActionOffer(CUSTOM, f"AI: {custom.title}", KINDS[CUSTOM], argument=custom.title)
        for custom in settings.actions.custom
    )
    return offers


def _shorten(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
