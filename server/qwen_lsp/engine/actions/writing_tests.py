"""The "Write unit tests" action: the prompt that asks for tests, and the edits that add them.

Where the tests go comes from `testing_conventions`. The model sees the code under test and
what the test file holds now (as the editor has it, unsaved changes included), and answers the
complete new test file, or for Rust the complete `#[cfg(test)] mod tests` of the file itself.
A new file becomes a creation plus its content; an existing one gets only the lines the model
added; an answer that does not parse is refused like any other.
"""

from __future__ import annotations

from pathlib import Path

from qwen_lsp.config import Settings
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.actions.conventions import UnitTestPlan, plan_unit_tests
from qwen_lsp.engine.actions.edits import minimal_edits
from qwen_lsp.engine.actions.model import (
    TESTS,
    ActionFailed,
    ActionJob,
    ActionResult,
    ActionTarget,
    FileEdit,
    ReadText,
    TextChange,
)
from qwen_lsp.engine.actions.regions import Region
from qwen_lsp.engine.actions.templates import PromptSources, action_template
from qwen_lsp.model import Message
from qwen_lsp.postprocess.answers import code_from_answer, newline_of, syntax_problem


def tests_job(
    settings: Settings,
    target: ActionTarget,
    region: Region,
    values: dict[str, str],
    prompts: PromptSources,
    read: ReadText,
) -> ActionJob:
    doc = target.document
    language = doc.language or ""
    plan = plan_unit_tests(target.file, language, target.root) if target.file else None
    if plan is None:
        raise ActionFailed(f"qwen-lsp: no unit test convention is known for {language or 'this'}")
    existing = doc.text if plan.same_file else read(plan.path)
    span = _tests_span(doc, plan, existing)
    current = existing[span[0] : span[1]] if existing is not None else ""
    values.update(
        framework=plan.framework,
        test_path=_shown_path(plan.path, target),
        module=_module_name(target),
        existing_tests=current or "(none yet)",
        answer_scope=(
            "the complete `#[cfg(test)] mod tests` module"
            if plan.same_file
            else "the complete new content of that test file, keeping every existing test"
        ),
    )
    system = action_template(prompts, "actions/system")
    user = action_template(prompts, "actions/tests")
    messages = (Message("system", system.render(values)), Message("user", user.render(values)))

    def interpret(answer: str) -> ActionResult:
        return _tests_result(doc, plan, existing, span, answer)

    return ActionJob(TESTS, messages, f"{system.version}.{user.version}", interpret)


def _tests_span(doc: SourceDocument, plan: UnitTestPlan, existing: str | None) -> tuple[int, int]:
    """The part of the test file the answer replaces: all of it, or Rust's tests module."""
    if existing is None:
        return 0, 0
    if not plan.same_file:
        return 0, len(existing)
    tree = doc.tree
    if tree is not None:
        for node in tree.root_node.named_children:
            name = node.child_by_field_name("name")
            if node.type == "mod_item" and name is not None and name.text == b"tests":
                start = node
                previous = node.prev_named_sibling
                if previous is not None and previous.type == "attribute_item":
                    start = previous
                first = doc.line_at(doc.offset_at_point(start.start_point))
                last = doc.line_at(doc.offset_at_point(node.end_point))
                return doc.line_start(first), doc.line_range(last)[1]
    end = len(existing.rstrip())
    return end, end


def _tests_result(
    doc: SourceDocument,
    plan: UnitTestPlan,
    existing: str | None,
    span: tuple[int, int],
    answer: str,
) -> ActionResult:
    old = existing or ""
    newline = newline_of(old or doc.text)
    code = code_from_answer(answer, newline=newline)
    if not code.strip():
        raise ActionFailed("qwen-lsp: the model answered no tests; nothing was changed")
    appended = span[0] == span[1] and old != ""
    replacement = (newline * 2 + code) if appended else code
    if not plan.same_file:
        replacement += newline  # a file ends with a line break
    new_text = old[: span[0]] + replacement + old[span[1] :]
    changed = (span[0], span[0] + len(replacement))
    problem = syntax_problem(plan.language, old, new_text, changed)
    if problem is not None:
        raise ActionFailed(f"qwen-lsp: tests refused, {problem}; nothing was changed")
    target_doc = SourceDocument(old, None, encoding=doc.encoding)  # type: ignore[arg-type]
    edits = minimal_edits(old, new_text)
    changes = tuple(
        TextChange(target_doc.position_at(e.start), target_doc.position_at(e.end), e.text)
        for e in edits
    )
    path = None if plan.same_file else plan.path
    return ActionResult(files=(FileEdit(path, changes, create=existing is None),))


def _shown_path(path: Path, target: ActionTarget) -> str:
    if target.root is not None:
        try:
            return path.relative_to(target.root).as_posix()
        except ValueError:
            pass
    return path.name


def _module_name(target: ActionTarget) -> str:
    """The dotted import path of a Python file (`src/` layouts drop the `src`)."""
    parts = list(Path(target.path).with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)
