"""Where a project keeps its unit tests, per language, so "Write unit tests" follows it.

Python: pytest, `tests/test_<module>.py` (or the project's `test/` folder, or an existing
`test_<module>.py` wherever the project has one). TypeScript and JavaScript:
`<name>.test.ts` (or an existing `.spec.` file) beside the source, with the test runner the
nearest `package.json` names. Go: `<name>_test.go` beside the source. Java: `src/test/java/…/
<Name>Test.java` mirroring `src/main/java`. Rust: a `#[cfg(test)] mod tests` in the file
itself. Deciding whether the action is offered at all only looks at names (it runs while
actions are listed); finding the file looks at the disk (it runs when the action is picked).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.context.files import is_test_file

log = logging.getLogger(__name__)

# How far an existing Python test file is looked for under tests/ (a huge tree is not walked).
_MAX_FILES_SEARCHED = 5000
_JS_LANGUAGES = ("typescript", "tsx", "javascript")


@dataclass(frozen=True)
class UnitTestPlan:
    """The file the tests go in, and what to tell the model about how they are written."""

    path: Path
    framework: str
    language: str
    same_file: bool = False  # Rust: the tests module lives in the source file itself


def offers_tests(language: str | None, path: str) -> bool:
    """Whether "Write unit tests" makes sense for this file (names only, no disk access)."""
    known = language in ("python", "go", "rust", "java", *_JS_LANGUAGES)
    return known and bool(path) and not is_test_file(path)


def plan_unit_tests(source: Path, language: str, root: Path | None) -> UnitTestPlan | None:
    """Where tests of `source` go in this project, or None for a language without a rule."""
    root = root or source.parent
    if language == "python":
        return UnitTestPlan(_python_test_file(source, root), "pytest", "python")
    if language in _JS_LANGUAGES:
        return UnitTestPlan(_js_test_file(source), _js_framework(source, root), language)
    if language == "go":
        framework = "Go's testing package: func TestXxx(t *testing.T), in the same package"
        return UnitTestPlan(source.with_name(f"{source.stem}_test.go"), framework, "go")
    if language == "java":
        return UnitTestPlan(_java_test_file(source), "JUnit 5 (org.junit.jupiter.api)", "java")
    if language == "rust":
        framework = "a #[cfg(test)] mod tests with #[test] functions, at the end of the file"
        return UnitTestPlan(source, framework, "rust", same_file=True)
    return None


def _python_test_file(source: Path, root: Path) -> Path:
    name = f"test_{source.stem}.py"
    for candidate in (source.with_name(name), source.parent / "tests" / name):
        if candidate.is_file():
            return candidate
    folders = [root / "tests", root / "test"]
    for folder in folders:
        if folder.is_dir() and (found := _find(folder, name)) is not None:
            return found
    home = next((f for f in folders if f.is_dir()), folders[0])
    return home / name


def _find(folder: Path, name: str) -> Path | None:
    for seen, path in enumerate(folder.rglob("*.py")):
        if seen >= _MAX_FILES_SEARCHED:
            return None
        if path.name == name:
            return path
    return None


def _js_test_file(source: Path) -> Path:
    stem, suffix = source.name.split(".", 1)[0], source.suffix
    for candidate in (
        source.with_name(f"{stem}.spec{suffix}"),
        source.parent / "__tests__" / f"{stem}.test{suffix}",
    ):
        if candidate.is_file():
            return candidate
    return source.with_name(f"{stem}.test{suffix}")


def _js_framework(source: Path, root: Path) -> str:
    for folder in (source.parent, *source.parents):
        manifest = folder / "package.json"
        if manifest.is_file():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.debug("cannot read %s: %s", manifest, exc)
                break
            names = {**data.get("dependencies", {}), **data.get("devDependencies", {})}
            for package, framework in (
                ("vitest", "Vitest (import { describe, it, expect } from 'vitest')"),
                ("jest", "Jest (describe / it / expect globals)"),
                ("mocha", "Mocha with node:assert"),
            ):
                if package in names:
                    return framework
            break
        if folder == root:
            break
    return "node:test (import test from 'node:test'; import assert from 'node:assert/strict')"


def _java_test_file(source: Path) -> Path:
    parts = source.parts
    name = f"{source.stem}Test.java"
    for index in range(len(parts) - 3):
        if parts[index : index + 3] == ("src", "main", "java"):
            mirrored = Path(*parts[:index], "src", "test", "java", *parts[index + 3 : -1])
            return mirrored / name
    return source.with_name(name)
