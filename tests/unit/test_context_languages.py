"""Per language, on a fixture repository: at a cursor right after a cross-file call, the
context holds the callee's signature from another module, the fields of a class it uses and
an imported constant, and nothing from files that .gitignore, the exclude setting or a
sensitive file name keep out.

Each fixture (tests/data/repos/<language>) has the same shape: `area(rect, rounded)`,
`Rect {width, height}` and a unit constant in one module; a file calling `area(█` in
another; and `legacy_helper` (called next to the cursor) defined only in an ignored folder,
in `legacy/` (excluded) and in a `secrets.*` file, each with IGNORED in its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from qwen_lsp.config import load_settings
from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument
from tests.unit.context_repos import checkout, context_at, indexed_workspace, related_text


@dataclass(frozen=True)
class Expected:
    signature: str  # the callee's signature as the other module writes it
    fields: tuple[str, ...]  # the fields of the rectangle type
    constant: str  # the imported constant's definition
    doc: str = "Area of a rectangle, in square units."
    home: str = ""  # the file the signature must be shown from


CASES = {
    "python": Expected(
        "def area(rect: Rect, *, rounded: bool = False) -> float:",
        ("width: float", "height: float"),
        'UNIT = "cm"',
        home="shapes/geometry.py",
    ),
    "javascript": Expected(
        "function area(rect, { rounded = false } = {})",
        ("width = 0", "height = 0"),
        'const UNIT = "cm";',
        home="src/geometry.js",
    ),
    "typescript": Expected(
        "function area(rect: Rect, rounded: boolean = false): number",
        ("width: number", "height: number"),
        'const UNIT = "cm";',
        home="src/geometry.ts",
    ),
    "go": Expected(
        "func Area(r Rect, rounded bool) float64",
        ("Width  float64", "Height float64"),
        'const Unit = "cm"',
        doc="Area returns the area of a rectangle, in square units.",
        home="geometry/geometry.go",
    ),
    "rust": Expected(
        "pub fn area(rect: &Rect, rounded: bool) -> f64",
        ("pub width: f64", "pub height: f64"),
        'pub const UNIT: &str = "cm";',
        home="src/geometry.rs",
    ),
    "java": Expected(
        "public static double area(Rect rect, boolean rounded)",
        ("public final double width;", "public final double height;"),
        'public static final String UNIT = "cm";',
        doc="",  # shown inside the class outline, which has no member docs
        home="src/main/java/com/acme/geometry/Geometry.java",
    ),
    "c": Expected(
        "double area(const Rect *rect, int rounded);",
        ("double width;", "double height;", "} Rect;"),
        '#define UNIT "cm"',
        home="include/geometry.h",
    ),
    "cpp": Expected(
        "double area(const Rect& rect, bool rounded = false);",
        ("double width;", "double height;"),
        "constexpr int kPrecision = 2;",
        home="include/shapes/geometry.hpp",
    ),
}


@pytest.fixture(params=sorted(CASES))
def language(request) -> str:
    return request.param


def block_of(ctx, path: str) -> str:
    blocks = {block.path: block.content for block in ctx.snippets}
    assert path in blocks, f"no related code from {path}; got {sorted(blocks)}"
    return blocks[path]


def test_cross_file_definitions_are_in_the_context(language: str, tmp_path: Path):
    expected = CASES[language]
    repo = checkout(language, tmp_path)
    ctx = context_at(repo, indexed_workspace(repo.root))
    home = block_of(ctx, expected.home)
    assert expected.signature in home
    if expected.doc:
        assert expected.doc in home
    related = related_text(ctx)
    for field in expected.fields:
        assert field in related
    assert expected.constant in related
    assert ctx.repo_name == language  # the folder's name heads the repo-level prompt


def test_nothing_from_ignored_excluded_or_sensitive_files(language: str, tmp_path: Path):
    repo = checkout(language, tmp_path)
    workspace = indexed_workspace(repo.root)
    ctx = context_at(repo, workspace)
    whole = related_text(ctx) + ctx.prefix + ctx.suffix
    assert "IGNORED" not in whole
    indexed = workspace.indexes[0].paths()
    assert indexed, "the fixture's own files are indexed"
    assert not [p for p in indexed if p.startswith("legacy/") or "secrets" in p]
    assert not [p for p in indexed if "IGNORED" in (repo.root / p).read_text(encoding="utf-8")]


def test_without_git_the_gitignore_file_still_applies(tmp_path: Path):
    repo = checkout("python", tmp_path, git=False)
    workspace = indexed_workspace(repo.root)
    assert "vendor/helpers.py" not in workspace.indexes[0].paths()
    assert "IGNORED" not in related_text(context_at(repo, workspace))


def test_cross_file_context_can_be_turned_off(tmp_path: Path):
    repo = checkout("python", tmp_path)
    workspace = indexed_workspace(repo.root)
    ctx = context_at(repo, workspace)
    assert ctx.snippets
    settings = load_settings(repo.root, cli={"context": {"crossFile": False}}, env={}).settings
    document = SourceDocument(repo.text, language_for(None, repo.path), encoding="utf-32")
    workspace.opened(repo.root / repo.path, document)
    off = workspace.cursor_context(
        document, repo.position, path=repo.path, settings=settings.context
    )
    assert off.snippets == () and off.repo_name is None
    assert off.prefix.endswith("area(")
