"""Method-call recall on real code (a benchmark, not a test): how often the prompt of a method
call holds the called method's own signature, per receiver kind and per language, and how
often a same-named method of an unrelated class is in the prompt instead (the decoy rate).

Corpus, none of it used by the tests:
- Python: the sources of packages installed beside qwen-lsp (rich, click, httpx, starlette,
  jsonschema, urllib3, aiohttp, anyio, _pytest, pygls, hypothesis, requests), each copied
  into a temporary git work tree. Sites are found with Python's own `ast`, independently of
  the engine: `self.attr.m(` with `self.attr = C(...)` or `self.attr: C` (or `self.attr = p`
  with `p: C`) in the class, `param.m(` with `param: C` (also `Optional[C]`, `C | None`),
  `var.m(` with `var = C(...)` earlier in the function, and `super().m(`; C is a class of the
  same package and `m` is defined by C or one of its bases (several levels, across files).
- TypeScript: the `.ts` sources of the npm packages in `editors/vscode/node_modules` (when
  installed): `this.field.m(` with a typed field or constructor parameter property,
  `param.m(` with `param: C`, `x.m(` with `const x = new C(`, and `super.m(`, found with
  regular expressions over the source, C a class of the same package.
The cursor goes right after the call's `(`. A site counts as found when the method's own
header (`def m(...)` up to its colon, its first 8 lines when it is longer; in TypeScript the
line declaring `m(`) appears in the prompt, whitespace aside, within the default
`context.maxTokens`. A decoy site is one where another class of the package defines a
method of the same name with a different header; it counts as decoyed when such a header is
in the related code the engine chose (the window of the current file is the user's own code,
not a choice).

Also printed: the context build time per keystroke on a 5,000-line file (target p50 <= 3 ms).

Run: python bench/bench_method_recall.py [--sites N] [--seed S] [--languages python,typescript]
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from qwen_lsp.config import load_settings
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.workspace import Workspace
from qwen_lsp.model import Position
from qwen_lsp.prompts import Snippet, fim_prompt

TARGET_OVERALL = 0.95
TARGET_PER_KIND = 0.80
BUILD_TARGET_MS = 3.0
PYTHON_PROJECTS = (
    "rich",
    "click",
    "httpx",
    "starlette",
    "jsonschema",
    "urllib3",
    "aiohttp",
    "anyio",
    "_pytest",
    "pygls",
    "hypothesis",
    "requests",
)
TYPESCRIPT_PACKAGES = ("@azure/msal-common", "@azure/msal-node", "@secretlint/core")
MAX_SITES_PER_FILE = 4
# Every class has one, and the outline of a class the code uses shows it: a constructor of
# another class in the prompt is rarely a wrong guess, so the decoy rate is also given without.
CONSTRUCTORS = frozenset({"__init__", "__new__", "constructor"})
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Site:
    language: str
    project: str
    path: str
    line: int  # 0-based, of the cursor
    column: int  # right after "("
    kind: str  # self.attr, param, var, super
    method: str
    header: str  # collapsed
    decoys: tuple[str, ...]  # collapsed headers of same-named methods of unrelated classes


def collapse(text: str) -> str:
    return " ".join(text.split())


# -- Python sites (ast) -----------------------------------------------------------------------


HEADER_LINES = 8  # a longer header counts as found when its first lines are in the prompt


def _def_header(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    start = node.lineno - 1
    end = node.body[0].lineno - 1 if node.body else start + 1
    if end - start > HEADER_LINES:
        return collapse("\n".join(lines[start : start + HEADER_LINES]))
    text = "\n".join(lines[start : max(end, start + 1)])
    if node.body and node.body[0].lineno - 1 == start:
        text = lines[start][: node.body[0].col_offset]
    colon = text.rfind(":")
    return collapse(text[: colon + 1] if colon >= 0 else text)


def _annotation_class(node: ast.AST | None) -> str | None:
    """The class an annotation names: C, mod.C, Optional[C], C | None, 'C'."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _annotation_class(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        outer = _annotation_class(node.value)
        if outer == "Optional":
            return _annotation_class(node.slice)
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [
            _annotation_class(side)
            for side in (node.left, node.right)
            if not (isinstance(side, ast.Constant) and side.value is None)
        ]
        return sides[0] if len(sides) == 1 else None
    return None


def _constructed_class(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            return node.func.attr
    return None


@dataclass
class _Class:
    path: str
    node: ast.ClassDef
    lines: list[str]

    def methods(self) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
        return {
            m.name: m
            for m in self.node.body
            if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
        }

    def bases(self) -> list[str]:
        out = []
        for base in self.node.bases:
            name = _annotation_class(base) if not isinstance(base, ast.Subscript) else None
            if isinstance(base, ast.Subscript):
                name = _annotation_class(base.value)
            if name:
                out.append(name)
        return out


def python_sites(root: Path, project: str) -> list[Site]:
    parsed: dict[str, tuple[list[str], ast.Module]] = {}
    for file in sorted(root.rglob("*.py")):
        try:
            source = file.read_text(encoding="utf-8")
            parsed[file.relative_to(root).as_posix()] = (source.split("\n"), ast.parse(source))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
    classes: dict[str, list[_Class]] = defaultdict(list)
    for path, (lines, tree) in parsed.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                classes[node.name].append(_Class(path, node, lines))
    unique = {name: found[0] for name, found in classes.items() if len(found) == 1}
    headers_by_method: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for name, found in classes.items():
        for cls in found:
            for method, node in cls.methods().items():
                headers_by_method[method].add((name, _def_header(cls.lines, node)))

    def find_method(class_name: str, method: str, skip_self: bool = False) -> tuple[str, set[str]]:
        """(header of the method C or its nearest base defines, classes on the way)."""
        seen: set[str] = set()
        queue = [class_name]
        first = True
        while queue:
            name = queue.pop(0)
            if name in seen or name not in unique:
                continue
            seen.add(name)
            cls = unique[name]
            if not (skip_self and first):
                node = cls.methods().get(method)
                if node is not None:
                    return _def_header(cls.lines, node), seen
            first = False
            queue.extend(cls.bases())
        return "", seen

    sites: list[Site] = []
    for path, (lines, tree) in parsed.items():
        found: list[Site] = []
        for cls_node in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
            if cls_node.name not in unique or unique[cls_node.name].path != path:
                continue
            attr_types: dict[str, str] = {}
            for member in ast.walk(cls_node):
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    params = {
                        a.arg: _annotation_class(a.annotation)
                        for a in member.args.args + member.args.kwonlyargs
                    }
                    for stmt in ast.walk(member):
                        targets: list[ast.AST] = []
                        value = None
                        annotation = None
                        if isinstance(stmt, ast.Assign):
                            targets, value = stmt.targets, stmt.value
                        elif isinstance(stmt, ast.AnnAssign):
                            targets, value, annotation = [stmt.target], stmt.value, stmt.annotation
                        for target in targets:
                            if (
                                isinstance(target, ast.Attribute)
                                and isinstance(target.value, ast.Name)
                                and target.value.id == "self"
                            ):
                                kind = _annotation_class(annotation) or (
                                    _constructed_class(value) if value is not None else None
                                )
                                if kind is None and isinstance(value, ast.Name):
                                    kind = params.get(value.id)
                                if kind in unique:
                                    attr_types.setdefault(target.attr, kind)
                elif isinstance(member, ast.AnnAssign) and isinstance(member.target, ast.Name):
                    kind = _annotation_class(member.annotation)
                    if kind in unique:
                        attr_types.setdefault(member.target.id, kind)
            for function in cls_node.body:
                if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                params = {
                    a.arg: kind
                    for a in function.args.args + function.args.kwonlyargs
                    if (kind := _annotation_class(a.annotation)) in unique
                }
                found.extend(
                    _python_calls(function, cls_node, params, attr_types, find_method, lines, path)
                )
        for function in tree.body:
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = {
                    a.arg: kind
                    for a in function.args.args + function.args.kwonlyargs
                    if (kind := _annotation_class(a.annotation)) in unique
                }
                found.extend(_python_calls(function, None, params, {}, find_method, lines, path))
        rng = random.Random(path)
        rng.shuffle(found)
        sites.extend(found[:MAX_SITES_PER_FILE])
    out = []
    for site in sites:
        decoys = tuple(sorted({h for _, h in headers_by_method[site.method] if h != site.header}))
        out.append(
            Site(
                "python",
                project,
                site.path,
                site.line,
                site.column,
                site.kind,
                site.method,
                site.header,
                decoys,
            )
        )
    return out


def _python_calls(function, cls_node, params, attr_types, find_method, lines, path) -> list[Site]:
    local_types: dict[str, tuple[str, int]] = {}
    for stmt in ast.walk(function):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            kind = _constructed_class(stmt.value)
            if isinstance(target, ast.Name) and kind and target.id not in params:
                local_types.setdefault(target.id, (kind, stmt.lineno))
    out = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        receiver, method = node.func.value, node.func.attr
        kind = class_name = None
        skip_self = False
        if (
            isinstance(receiver, ast.Attribute)
            and isinstance(receiver.value, ast.Name)
            and receiver.value.id == "self"
            and receiver.attr in attr_types
        ):
            kind, class_name = "self.attr", attr_types[receiver.attr]
        elif isinstance(receiver, ast.Name) and receiver.id in params:
            kind, class_name = "param", params[receiver.id]
        elif (
            isinstance(receiver, ast.Name)
            and receiver.id in local_types
            and local_types[receiver.id][1] < node.lineno
        ):
            kind, class_name = "var", local_types[receiver.id][0]
        elif (
            cls_node is not None
            and isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Name)
            and receiver.func.id == "super"
        ):
            kind, class_name, skip_self = "super", cls_node.name, True
        if kind is None:
            continue
        header, _ = find_method(class_name, method, skip_self)
        if not header:
            continue
        line = node.func.end_lineno - 1
        paren = lines[line].find("(", node.func.end_col_offset)
        if paren < 0:
            continue
        out.append(Site("python", "", path, line, paren + 1, kind, method, header, ()))
    return out


# -- TypeScript sites (regular expressions) ----------------------------------------------------

_TS_CLASS = re.compile(
    r"^(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(\w+)(?:<[^{]*?>)?"
    r"(?:\s+extends\s+(\w+))?[^{]*\{",
    re.M,
)
_TS_METHOD = re.compile(
    r"^[ \t]+(?:(?:public|private|protected|static|async|override|readonly)\s+)*"
    r"(\w+)\s*(?:<[^>]*>)?\(",
    re.M,
)
_TS_TYPED = r"(?:private|public|protected|readonly)\s+(?:readonly\s+)?(\w+)\s*[?!]?:\s*(\w+)"


def _ts_classes(text: str) -> list[tuple[str, str, int, int]]:
    """(name, base, body start, body end) of the classes of a file, braces counted."""
    out = []
    for match in _TS_CLASS.finditer(text):
        depth = 0
        for i in range(match.end() - 1, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    out.append((match.group(1), match.group(2) or "", match.end(), i))
                    break
    return out


def typescript_sites(root: Path, project: str) -> list[Site]:
    files = {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(root.rglob("*.ts"))
        if not p.name.endswith(".d.ts")
    }
    classes: dict[str, list[tuple[str, str, dict[str, str], dict[str, str]]]] = defaultdict(list)
    for path, text in files.items():
        for name, base, start, end in _ts_classes(text):
            body = text[start:end]
            methods = {}
            for m in _TS_METHOD.finditer(body):
                if m.group(1) in ("if", "for", "while", "switch", "catch", "return", "function"):
                    continue
                line = body[m.start() : body.find("\n", m.start())].strip()
                methods.setdefault(m.group(1), collapse(line.split("{")[0]))
            fields = dict((f, t) for f, t in re.findall(r"^\s*" + _TS_TYPED, body, re.M))
            fields.update(
                re.findall(_TS_TYPED, body[: body.find(")") + 1] if "constructor(" in body else "")
            )
            classes[name].append((path, base, methods, fields))
    unique = {n: found[0] for n, found in classes.items() if len(found) == 1}
    by_method: dict[str, set[str]] = defaultdict(set)
    for found in classes.values():
        for _, _, methods, _ in found:
            for m, header in methods.items():
                by_method[m].add(header)

    def find_method(class_name: str, method: str, skip_self: bool) -> str:
        seen = set()
        first = True
        while class_name in unique and class_name not in seen:
            seen.add(class_name)
            _, base, methods, _ = unique[class_name]
            if not (skip_self and first) and method in methods:
                return methods[method]
            first = False
            class_name = base
        return ""

    sites: list[Site] = []
    for path, text in files.items():
        found = []
        for name, _base, start, end in _ts_classes(text):
            if name not in unique or unique[name][0] != path:
                continue
            fields = unique[name][3]
            body = text[start:end]
            for match in re.finditer(r"this\.(\w+)\.(\w+)\(", body):
                class_name = fields.get(match.group(1))
                header = find_method(class_name, match.group(2), False) if class_name else ""
                if header:
                    found.append(("self.attr", start + match.end(), match.group(2), header))
            for match in re.finditer(r"super\.(\w+)\(", body):
                header = find_method(name, match.group(1), True)
                if header:
                    found.append(("super", start + match.end(), match.group(1), header))
            for match in re.finditer(r"(\w+)\s*[?]?:\s*(\w+)\s*[,)]", body):
                param, class_name = match.groups()
                if class_name not in unique:
                    continue
                close = body.find("{", match.end())
                fn_end = body.find("\n  }", close)
                for call in re.finditer(rf"\b{param}\.(\w+)\(", body[close:fn_end]):
                    header = find_method(class_name, call.group(1), False)
                    if header:
                        found.append(("param", start + close + call.end(), call.group(1), header))
            for match in re.finditer(r"(?:const|let)\s+(\w+)\s*=\s*new\s+(\w+)\s*[(<]", body):
                var, class_name = match.groups()
                fn_end = body.find("\n  }", match.end())
                for call in re.finditer(rf"\b{var}\.(\w+)\(", body[match.end() : fn_end]):
                    header = find_method(class_name, call.group(1), False)
                    if header:
                        found.append(
                            ("var", start + match.end() + call.end(), call.group(1), header)
                        )
        rng = random.Random(path)
        rng.shuffle(found)
        for kind, offset, method, header in found[:MAX_SITES_PER_FILE]:
            line = text.count("\n", 0, offset)
            column = offset - (text.rfind("\n", 0, offset) + 1)
            decoys = tuple(sorted(h for h in by_method[method] if h != header))
            sites.append(
                Site("typescript", project, path, line, column, kind, method, header, decoys)
            )
    return sites


# -- running ----------------------------------------------------------------------------------


def copy_project(source: Path, destination: Path) -> Path:
    root = destination / source.name
    shutil.copytree(
        source, root, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc", "*.js", "*.map")
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def fim_text(ctx) -> str:
    snippets = [Snippet(block.path, block.content) for block in ctx.snippets]
    return fim_prompt(ctx, repo_name=ctx.repo_name, snippets=snippets)


def corpora(languages: set[str]) -> list[tuple[str, str, Path]]:
    out = []
    if "python" in languages:
        site_packages = Path(sysconfig.get_paths()["purelib"])
        out += [
            ("python", p, site_packages / p)
            for p in PYTHON_PROJECTS
            if (site_packages / p).is_dir()
        ]
    if "typescript" in languages:
        modules = ROOT / "editors" / "vscode" / "node_modules"
        for package in TYPESCRIPT_PACKAGES:
            src = modules / package / "src"
            if src.is_dir():
                out.append(("typescript", package, src))
    return out


def build_time(settings) -> list[float]:
    """Context build per keystroke on a 5,000-line file of method calls."""
    parts = []
    for i in range(250):
        parts.append(
            f"class Service{i}:\n    def __init__(self, store: Store{i % 7}) -> None:\n"
            f"        self.store = store\n        self.cache = Cache{i % 5}()\n\n"
            f"    def handle{i}(self, request: Request) -> Response:\n"
            f"        item = self.store.get(request.key)\n"
            f"        self.cache.put(request.key, item)\n"
            f"        result = Result{i % 3}(item)\n        return result.render()\n" + "\n" * 10
        )
    text = "".join(parts)
    assert 4_500 <= text.count("\n") <= 5_500, text.count("\n")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "big"
        root.mkdir()
        (root / "big.py").write_text(text)
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        workspace = Workspace(None)
        workspace.configure(settings)
        for index in workspace.set_folders([root]):
            for _ in index.refresh():
                pass
        document = SourceDocument(text, "python")
        workspace.opened(root / "big.py", document)
        lines = text.split("\n")
        targets = [n for n, line in enumerate(lines) if "self.cache.put(" in line][::10]
        timings = []
        for n in targets:
            column = lines[n].index("put(") + 4
            started = time.perf_counter()
            workspace.cursor_context(
                document, Position(n, column), path="big.py", settings=settings.context
            )
            timings.append(time.perf_counter() - started)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=600, help="call sites to sample")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--languages", default="python,typescript")
    parser.add_argument("--misses", action="store_true", help="print every miss")
    args = parser.parse_args()
    settings = load_settings(None, env={}).settings
    rng = random.Random(args.seed)
    results: list[tuple[Site, bool, bool]] = []
    with tempfile.TemporaryDirectory() as scratch:
        workspaces: dict[str, tuple[Path, Workspace]] = {}
        sites: list[Site] = []
        for language, project, source in corpora(set(args.languages.split(","))):
            root = copy_project(source, Path(scratch) / project.replace("/", "_"))
            workspace = Workspace(None)
            workspace.configure(settings)
            for index in workspace.set_folders([root]):
                for _ in index.refresh():
                    pass
            workspaces[project] = (root, workspace)
            found = (
                python_sites(root, project)
                if language == "python"
                else typescript_sites(root, project)
            )
            sites.extend(found)
        rng.shuffle(sites)
        sites = sites[: args.sites]
        for site in sites:
            root, workspace = workspaces[site.project]
            text = (root / site.path).read_text(encoding="utf-8")
            document = SourceDocument(text, site.language)
            workspace.opened(root / site.path, document)
            ctx = workspace.cursor_context(
                document,
                Position(site.line, site.column),
                path=site.path,
                settings=settings.context,
            )
            workspace.closed(root / site.path)
            prompt = collapse(fim_text(ctx))
            hit = site.header in prompt
            related = collapse("\n".join(block.content for block in ctx.snippets))
            decoyed = any(d in related for d in site.decoys)
            results.append((site, hit, decoyed))
    if not results:
        print("no sites found: are the corpus packages installed?")
        return 1
    hits = sum(h for _, h, _ in results)
    print(f"method-call sites: {len(results)} (cursor right after the call's '(')")
    failed = hits / len(results) < TARGET_OVERALL
    for label, key in (("receiver", lambda s: s.kind), ("language", lambda s: s.language)):
        groups: dict[str, list[tuple[Site, bool, bool]]] = defaultdict(list)
        for row in results:
            groups[key(row[0])].append(row)
        for name, rows in sorted(groups.items()):
            found = sum(h for _, h, _ in rows)
            share = found / len(rows)
            verdict = ""
            if label == "receiver":
                verdict = "ok" if share >= TARGET_PER_KIND else "MISSED"
                failed |= share < TARGET_PER_KIND
            print(
                f"  {label} {name:<11} {found:4}/{len(rows):<4} found {share:6.1%}"
                + (f"   target >= {TARGET_PER_KIND:.0%}  {verdict}" if verdict else "")
            )
    for label, wanted in (
        ("decoy in prompt", lambda site: True),
        ("  constructors aside", lambda site: site.method not in CONSTRUCTORS),
    ):
        decoy_sites = [(s, d) for s, _, d in results if s.decoys and wanted(s)]
        if decoy_sites:
            decoyed = sum(d for _, d in decoy_sites)
            print(
                f"{label}: {decoyed}/{len(decoy_sites)} sites with a same-named method of "
                f"another class ({decoyed / len(decoy_sites):.1%})"
            )
    timings = sorted(build_time(settings))
    p50 = statistics.median(timings) * 1e3
    print(
        f"context build per keystroke, 5,000-line file: p50 {p50:.2f} ms "
        f"(target <= {BUILD_TARGET_MS} ms  {'ok' if p50 <= BUILD_TARGET_MS else 'MISSED'}), "
        f"p90 {timings[int(0.9 * (len(timings) - 1))] * 1e3:.2f} ms"
    )
    misses = [s for s, h, _ in results if not h]
    for site in misses if args.misses else misses[:10]:
        print(
            f"  miss {site.language} {site.kind:<9} {site.project}/{site.path}:{site.line + 1} "
            f"{site.method}  wants: {site.header[:90]}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
