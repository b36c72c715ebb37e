"""The templates of code actions, and how a refused one fails the action.

An action's prompt is `actions/system.md` (or `actions/explain.system.md`) plus
`actions/<action>.md`, each looked up first in the project's `.qwen-lsp/prompts/`, then in
the user's `<config dir>/qwen-lsp/prompts/`, then among the shipped templates; `prompts.py`
reads them, under its rules for every template that is not shipped. A template those rules
refuse fails the action with `ActionFailed` naming the file and why, and nothing is sent: the
shipped template is not used in its place, so nobody is left believing their template
applied. Overrides are read afresh for every action (nothing next to a model call), so an
edited template applies at once, and a template's version (the hash of its text) is part of
the answer's cache key.
"""

from __future__ import annotations

from qwen_lsp.engine.actions.model import ActionFailed
from qwen_lsp.prompts import PromptSources, Template, TemplateRefused, load_template

__all__ = ["PromptSources", "action_template"]


def action_template(sources: PromptSources, name: str) -> Template:
    """The template `name` ("actions/fix"): the project's, the user's, or the shipped one."""
    try:
        return load_template(name, sources.folders())
    except TemplateRefused as exc:
        raise ActionFailed(str(exc)) from None
