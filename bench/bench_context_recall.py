"""Context recall on real code (a benchmark, not a test): how often the prompt of a cross-file
call holds the callee's signature, against the prefix/suffix-only baseline.

Corpus: the sources of Python packages installed beside qwen-lsp (pytest, hypothesis, rich,
aiohttp, ...), each copied into a temporary git work tree and indexed as a workspace.
Call sites: calls `name(` of a function or class defined at the top level of exactly one other
file of the same package, that the calling file imports by name or through its module (found
with Python's own `ast`, independently of the engine's tree-sitter and import resolution).
The cursor goes right after the callee's opening parenthesis. A site counts as recalled when
the whole signature (`def name(...) -> ...:` up to its colon; for a class, its `class` line and
its `__init__` signature when it has one) appears in the prompt, whitespace aside, within the
default `context.maxTokens` (2048). The baseline is the same prompt without related code.

Also printed: the time to build the context of one completion, and how far the per-keystroke
token estimate is from Qwen's tokenizer on the prompts built.

Run: python bench/bench_context_recall.py [--sites N] [--seed S]
"""

from __future__ import annotations

import argparse
import ast
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.config import load_settings
from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.extract import extract_window
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.tokenizer import qwen_token_counter
from qwen_lsp.engine.workspace import Workspace
from qwen_lsp.model import Position
from qwen_lsp.prompts import Snippet, fim_prompt

TARGET = 0.80
PROJECTS = (
    "_pytest",
    "hypothesis",
    "rich",
    "aiohttp",
    "jsonschema",
    "starlette",
    "fastapi",
    "pygls",
    "click",
    "typer",
    "httpx",
    "requests",
    "urllib3",
    "anyio",
    "pydantic",
    "cattrs",
)
MAX_SITES_PER_FILE = 3


@dataclass(frozen=True)
class Site:
    project: str
    path: str  # relative to the project's work tree
    line: int  # 0-based, of the cursor
    column: int  # right after "("
    callee: str
    signature: tuple[str, ...]  # what must appear, whitespace collapsed


def collapse(text: str) -> str:
    return " ".join(text.split())


def header(source_lines: list[str], node: ast.FunctionDef | ast.ClassDef) -> str:
    """A definition's header as written: from its keyword to the colon before its body."""
    start = node.lineno - 1
    end = node.body[0].lineno - 1 if node.body else start + 1
    text = "\n".join(source_lines[start : max(end, start + 1)])
    if node.body and node.body[0].lineno - 1 == start:  # `def f(): return 1` on one line
        text = source_lines[start][: node.body[0].col_offset]
    colon = text.rfind(":")
    return text[: colon + 1] if colon >= 0 else text


def signature_of(source: str, node: ast.AST) -> tuple[str, ...] | None:
    lines = source.split("\n")
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return (collapse(header(lines, node)),)
    if isinstance(node, ast.ClassDef):
        parts = [collapse(header(lines, node))]
        for member in node.body:
            if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                member.name == "__init__"
            ):
                parts.append(collapse(header(lines, member)))
        return tuple(parts)
    return None


def top_level_definitions(tree: ast.Module) -> dict[str, ast.AST]:
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


def find_sites(root: Path, project: str) -> list[Site]:
    parsed: dict[str, tuple[str, ast.Module]] = {}
    for file in sorted(root.rglob("*.py")):
        try:
            source = file.read_text(encoding="utf-8")
            parsed[file.relative_to(root).as_posix()] = (source, ast.parse(source))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
    defined_in: dict[str, list[str]] = {}
    for path, (_, tree) in parsed.items():
        for name in top_level_definitions(tree):
            defined_in.setdefault(name, []).append(path)
    sites = []
    for path, (source, tree) in parsed.items():
        own = set(top_level_definitions(tree))
        imported_names = set()
        imported_modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                imported_names.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                imported_modules.update(alias.asname or alias.name for alias in node.names)
        lines = source.split("\n")
        found = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in imported_names:
                name = func.id
            elif (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and (func.value.id in imported_names or func.value.id in imported_modules)
            ):
                name = func.attr
            else:
                continue
            homes = defined_in.get(name, [])
            if name in own or len(homes) != 1 or homes[0] == path:
                continue
            home_source, home_tree = parsed[homes[0]]
            signature = signature_of(home_source, top_level_definitions(home_tree)[name])
            line = func.end_lineno - 1
            paren = lines[line].find("(", func.end_col_offset)
            if signature is None or paren < 0:
                continue
            found.append(Site(project, path, line, paren + 1, name, signature))
        sites.extend(found[:MAX_SITES_PER_FILE])
    return sites


def copy_project(source: Path, destination: Path) -> Path:
    root = destination / source.name
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def fim_text(ctx) -> str:
    snippets = [Snippet(block.path, block.content) for block in ctx.snippets]
    return fim_prompt(ctx, repo_name=ctx.repo_name, snippets=snippets)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=400, help="call sites to sample")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    site_packages = Path(sysconfig.get_paths()["purelib"])
    settings = load_settings(None, env={}).settings
    rng = random.Random(args.seed)
    count = qwen_token_counter()
    results: dict[str, list[tuple[bool, bool]]] = {}
    timings: list[float] = []
    ratios: list[float] = []
    misses: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        workspaces: dict[str, tuple[Path, Workspace]] = {}
        sites: list[Site] = []
        for project in PROJECTS:
            source = site_packages / project
            if not source.is_dir():
                continue
            root = copy_project(source, Path(scratch))
            workspace = Workspace(None)
            workspace.configure(settings)
            for index in workspace.set_folders([root]):
                for _ in index.refresh():
                    pass
            workspaces[project] = (root, workspace)
            sites.extend(find_sites(root, project))
        rng.shuffle(sites)
        sites = sites[: args.sites]
        for site in sites:
            root, workspace = workspaces[site.project]
            text = (root / site.path).read_text(encoding="utf-8")
            document = SourceDocument(text, "python")
            workspace.opened(root / site.path, document)
            position = Position(site.line, site.column)
            started = time.perf_counter()
            ctx = workspace.cursor_context(
                document, position, path=site.path, settings=settings.context
            )
            timings.append(time.perf_counter() - started)
            workspace.closed(root / site.path)
            prompt = collapse(fim_text(ctx))
            baseline_ctx = extract_window(
                document, position, max_tokens=settings.context.max_tokens, path=site.path
            )
            baseline = collapse(fim_text(baseline_ctx))
            hit = all(part in prompt for part in site.signature)
            results.setdefault(site.project, []).append(
                (hit, all(part in baseline for part in site.signature))
            )
            if not hit:
                misses.append(f"{site.project}/{site.path}:{site.line + 1} {site.callee}")
            if count is not None:
                raw = fim_text(ctx)
                ratios.append(estimate_tokens(raw) / max(count(raw), 1))

    total = sum(len(r) for r in results.values())
    hits = sum(h for r in results.values() for h, _ in r)
    base = sum(b for r in results.values() for _, b in r)
    print(f"call sites: {total} in {len(results)} projects (cursor right after the callee's '(')")
    for project, rows in sorted(results.items()):
        recalled = sum(h for h, _ in rows) / len(rows)
        baseline = sum(b for _, b in rows) / len(rows)
        print(
            f"  {project:<12} {len(rows):4} sites  recall {recalled:6.1%}  baseline {baseline:6.1%}"
        )
    recall = hits / total if total else 0.0
    verdict = "ok" if recall >= TARGET else "MISSED"
    print(
        f"signature in prompt: {recall:.1%} ({hits}/{total})   target >= {TARGET:.0%}  {verdict}"
        f"   prefix/suffix only: {base / total if total else 0:.1%}"
    )
    ordered = sorted(timings)
    print(
        f"context build per completion: p50 {statistics.median(ordered) * 1e3:.2f} ms, "
        f"p90 {ordered[int(0.9 * (len(ordered) - 1))] * 1e3:.2f} ms"
    )
    if ratios:
        errors = sorted(abs(r - 1) for r in ratios)
        within = errors[int(0.95 * (len(errors) - 1))]
        print(
            "token estimate / Qwen tokenizer on these prompts: "
            f"mean {statistics.mean(ratios):.3f}, sd {statistics.pstdev(ratios):.3f}, "
            f"95% within {within:.1%}"
        )
    if misses:
        print("some misses:", "; ".join(misses[:8]))
    return 0 if recall >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
