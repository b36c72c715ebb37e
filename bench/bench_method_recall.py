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


# -- Go, Rust and Java sites (regular expressions and braces) ----------------------------------


def _block(text: str, open_brace: int) -> int:
    """Where the block opened at `open_brace` closes (strings and comments are not skipped:
    the corpora's braces balance well enough for site finding)."""
    depth = 0
    for i in range(open_brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def _header(text: str, start: int) -> str:
    """A declaration's header: from `start` to its body's `{`, at most 8 lines, collapsed."""
    brace = text.find("{", start)
    semicolon = text.find(";", start)
    end = brace if brace >= 0 and (semicolon < 0 or brace < semicolon) else semicolon
    lines = text[start:end].split("\n")[:HEADER_LINES]
    return collapse("\n".join(lines))


@dataclass
class _Type:
    path: str
    methods: dict[str, str]  # name -> header
    fields: dict[str, str]  # name -> type name
    base: str = ""


def _brace_sites(language: str, root: Path, project: str, suffix: str) -> list[Site]:
    files = {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(root.rglob(f"*{suffix}"))
        if not p.name.endswith("_test.go")
    }
    types: dict[str, list[_Type]] = defaultdict(list)
    bodies: list[tuple[str, str, str, int, int]] = []  # path, type, receiver, start, end
    for path, text in files.items():
        if language == "go":
            for m in re.finditer(r"^type (\w+) struct \{", text, re.M):
                end = _block(text, m.end() - 1)
                fields = dict(
                    (f, t)
                    for f, t in re.findall(
                        r"^\s+(\w+)\s+\*?(?:\w+\.)?(\w+)\s*$", text[m.end() : end], re.M
                    )
                )
                types[m.group(1)].append(_Type(path, {}, fields))
        elif language == "rust":
            for m in re.finditer(r"^pub(?:\([^)]*\))? struct (\w+)(?:<[^{;]*>)? \{", text, re.M):
                end = _block(text, m.end() - 1)
                fields = dict(
                    re.findall(
                        r"^\s+(?:pub(?:\([^)]*\))?\s+)?(\w+):\s*&?(?:'\w+\s+)?(?:mut\s+)?(\w+)",
                        text[m.end() : end],
                        re.M,
                    )
                )
                types[m.group(1)].append(_Type(path, {}, fields))
        else:
            for m in re.finditer(
                r"^\s*(?:(?:public|private|protected|static|final|abstract)\s+)*class (\w+)"
                r"(?:<[^{]*?>)?(?:\s+extends\s+(\w+))?[^{]*\{",
                text,
                re.M,
            ):
                end = _block(text, m.end() - 1)
                body = text[m.end() : end]
                fields = dict(
                    (f, t)
                    for t, f in re.findall(
                        r"^\s+(?:(?:private|protected|public|final|static)\s+)+(\w+)(?:<[^;=]*>)?\s+(\w+)\s*[;=]",
                        body,
                        re.M,
                    )
                )
                methods = {}
                for mm in re.finditer(
                    r"^\s+(?:(?:public|private|protected|static|final|synchronized|abstract)\s+)*"
                    r"(?:<[^>]+>\s+)?\w+(?:<[^>]*>)?(?:\[\])*\s+(\w+)\s*\(",
                    body,
                    re.M,
                ):
                    if mm.group(1) not in ("if", "for", "while", "switch", "return", "new"):
                        start = m.end() + mm.start() + len(mm.group(0)) - len(mm.group(0).lstrip())
                        methods.setdefault(mm.group(1), _header(text, start))
                types[m.group(1)].append(_Type(path, methods, fields, m.group(2) or ""))
                bodies.append((path, m.group(1), "this", m.end(), end))
    # methods of Go and Rust types live beside them
    for path, text in files.items():
        if language == "go":
            for m in re.finditer(r"^func \((\w+) \*?(\w+)\) (\w+)\(", text, re.M):
                for t in types.get(m.group(2), []):
                    t.methods.setdefault(m.group(3), _header(text, m.start()))
                brace = text.find("{", m.end())
                bodies.append((path, m.group(2), m.group(1), brace, _block(text, brace)))
        elif language == "rust":
            for m in re.finditer(r"^impl(?:<[^{]*?>)? (\w+)(?:<[^{]*?>)? \{", text, re.M):
                end = _block(text, m.end() - 1)
                for f in re.finditer(
                    r"^\s+(?:pub(?:\([^)]*\))?\s+)?fn (\w+)", text[m.end() : end], re.M
                ):
                    start = m.end() + f.start() + len(f.group(0)) - len(f.group(0).lstrip())
                    for t in types.get(m.group(1), []):
                        t.methods.setdefault(f.group(1), _header(text, start))
                bodies.append((path, m.group(1), "self", m.end(), end))
    unique = {n: found[0] for n, found in types.items() if len(found) == 1}
    by_method: dict[str, set[str]] = defaultdict(set)
    for found in types.values():
        for t in found:
            for name, header in t.methods.items():
                by_method[name].add(header)

    def find(type_name: str, method: str, skip_self: bool = False) -> str:
        seen = set()
        first = True
        while type_name in unique and type_name not in seen:
            seen.add(type_name)
            t = unique[type_name]
            if not (skip_self and first) and method in t.methods:
                return t.methods[method]
            first = False
            type_name = t.base
        return ""

    sites: list[Site] = []
    per_file: dict[str, list] = defaultdict(list)
    for path, type_name, receiver, start, end in bodies:
        if type_name not in unique:
            continue
        text = files[path]
        body = text[start:end]
        fields = unique[type_name].fields
        r = re.escape(receiver)
        found = []
        for m in re.finditer(rf"\b{r}\.(\w+)\.(\w+)\(", body):
            kind_type = fields.get(m.group(1))
            if kind_type and (header := find(kind_type, m.group(2))):
                found.append(("self.attr", start + m.end(), m.group(2), header))
        if language != "java":
            for m in re.finditer(rf"\b{r}\.(\w+)\(", body):
                if header := find(type_name, m.group(1)):
                    found.append(("self", start + m.end(), m.group(1), header))
        else:
            for m in re.finditer(r"(?<![\w.])(\w+)\.(\w+)\(", body):
                kind_type = fields.get(m.group(1))
                if kind_type and (header := find(kind_type, m.group(2))):
                    found.append(("self.attr", start + m.end(), m.group(2), header))
            for m in re.finditer(r"\bsuper\.(\w+)\(", body):
                if header := find(type_name, m.group(1), skip_self=True):
                    found.append(("super", start + m.end(), m.group(1), header))
        if language == "go":
            params = re.findall(
                r"[(,]\s*(\w+) \*?(\w+)[,)]", text[text.rfind("func", 0, start) : start]
            )
            declared = re.finditer(r"\b(\w+) :?= &?(\w+)\{", body)
        elif language == "rust":
            params = re.findall(r"[(,]\s*(\w+): &?(?:mut )?(\w+)[,)]", body)
            declared = re.finditer(r"\blet (?:mut )?(\w+) = (\w+)::new\(", body)
        else:
            params = re.findall(r"[(,]\s*(?:final\s+)?(\w+)(?:<[^>]*>)? (\w+)[,)]", body)
            params = [(name, t) for t, name in params]
            declared = re.finditer(r"\b(\w+)(?:<[^>]*>)? (\w+) = new \1\b", body)
        for name, kind_type in params:
            if kind_type not in unique or name in (receiver,):
                continue
            for m in re.finditer(rf"(?<![\w.]){re.escape(name)}\.(\w+)\(", body):
                if header := find(kind_type, m.group(1)):
                    found.append(("param", start + m.end(), m.group(1), header))
        for d in declared:
            name, kind_type = (
                (d.group(1), d.group(2)) if language != "java" else (d.group(2), d.group(1))
            )
            if kind_type not in unique:
                continue
            for m in re.finditer(rf"(?<![\w.]){re.escape(name)}\.(\w+)\(", body[d.end() :]):
                if header := find(kind_type, m.group(1)):
                    found.append(("var", start + d.end() + m.end(), m.group(1), header))
        per_file[path].extend(found)
    for path, found in per_file.items():
        text = files[path]
        rng = random.Random(path)
        rng.shuffle(found)
        for kind, offset, method, header in found[:MAX_SITES_PER_FILE]:
            line = text.count("\n", 0, offset)
            column = offset - (text.rfind("\n", 0, offset) + 1)
            decoys = tuple(sorted(h for h in by_method[method] if h != header))
            sites.append(Site(language, project, path, line, column, kind, method, header, decoys))
    return sites


# Real code of other languages, fetched through the package managers this machine has, into a
# cache folder of the benchmark's own: Debian's source packages of Go and Rust libraries
# (/usr/share/gocode, /usr/share/cargo/registry inside them) and the Java sources that the
# JPype1 source distribution on PyPI carries.
DEBIAN_CORPORA = {
    "go": ("golang-github-spf13-cobra-dev", "golang-github-sirupsen-logrus-dev"),
    "rust": ("librust-clap-dev", "librust-regex-automata-dev"),
}
JAVA_SDIST = "jpype1==1.7.1"
SUFFIXES = {"go": ".go", "rust": ".rs", "java": ".java"}
CORPUS_CACHE = Path(tempfile.gettempdir()) / "qwen-lsp-bench-corpora"


def fetched_corpora(language: str) -> list[tuple[str, Path]]:
    """(project, source folder) of a language's corpus, fetched once; [] when it cannot be."""
    folder = CORPUS_CACHE / language
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            if language == "java":
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "pip",
                        "download",
                        "--quiet",
                        "--no-deps",
                        "--no-binary",
                        ":all:",
                        JAVA_SDIST,
                        "-d",
                        str(folder),
                    ],
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
                for archive in folder.glob("*.tar.gz"):
                    shutil.unpack_archive(archive, folder)
            else:
                packages = DEBIAN_CORPORA[language]
                subprocess.run(
                    ["apt-get", "download", *packages],
                    cwd=folder,
                    check=True,
                    capture_output=True,
                    timeout=300,
                )
                for deb in folder.glob("*.deb"):
                    subprocess.run(["dpkg", "-x", str(deb), str(folder / "x")], check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"  ({language} corpus not available: {exc})")
            shutil.rmtree(folder, ignore_errors=True)
            return []
    if language == "java":
        return [(p.name, p / "native") for p in folder.glob("jpype1-*") if (p / "native").is_dir()]
    base = folder / "x" / "usr" / "share" / ("gocode/src" if language == "go" else "cargo/registry")
    found = sorted(base.glob("github.com/*/*" if language == "go" else "*"))
    # a package's compatibility links (github.com/Sirupsen -> sirupsen) are not a second project
    return [
        (p.name, p)
        for p in found
        if p.is_dir() and not p.is_symlink() and not p.parent.is_symlink()
    ]


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
    for language in ("go", "rust", "java"):
        if language in languages:
            out.extend((language, project, src) for project, src in fetched_corpora(language))
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
    parser.add_argument("--sites", type=int, default=400, help="call sites per language")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--languages", default="python,typescript,go,rust,java")
    parser.add_argument("--misses", action="store_true", help="print every miss")
    args = parser.parse_args()
    settings = load_settings(None, env={}).settings
    rng = random.Random(args.seed)
    results: list[tuple[Site, bool, bool]] = []
    with tempfile.TemporaryDirectory() as scratch:
        workspaces: dict[str, tuple[Path, Workspace]] = {}
        sites: list[Site] = []
        chosen = corpora(set(args.languages.split(",")))
        for number, (language, project, source) in enumerate(chosen):
            root = copy_project(source, Path(scratch) / f"{number}")
            workspace = Workspace(None)
            workspace.configure(settings)
            for index in workspace.set_folders([root]):
                for _ in index.refresh():
                    pass
            workspaces[project] = (root, workspace)
            if language == "python":
                found = python_sites(root, project)
            elif language == "typescript":
                found = typescript_sites(root, project)
            else:
                found = _brace_sites(language, root, project, SUFFIXES[language])
            sites.extend(found)
        by_language: dict[str, list[Site]] = defaultdict(list)
        for site in sites:
            by_language[site.language].append(site)
        sites = []
        for language in sorted(by_language):
            rng.shuffle(by_language[language])
            sites.extend(by_language[language][: args.sites])
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
