"""A file's imports, and the workspace files they name, per language.

`read_imports` finds the import statements with the `queries/<language>-imports.scm` query and
reads each into `ImportRef`s: the module as written, the names taken from it (with the local
name each is bound to), and the local name of the module itself. `resolve` maps one ImportRef
to workspace files, by each language's rules: Python packages and relative imports,
JavaScript/TypeScript relative specifiers with their extensions and index files, Go import
paths under the `go.mod` module path, Rust `crate::`/`super::`/`self::` paths and `mod x;`,
Java packages (and wildcards), C/C++ quoted includes. What does not resolve (the standard
library, third-party packages) is dropped: only the workspace's own files can be shown.
Files a language sees without an import (Go and Java files of the same package) are listed by
`implicit_files`.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tree_sitter import Node, QueryCursor, Tree

from qwen_lsp.context.tags import load_query

WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class ImportRef:
    """One module named by an import statement."""

    module: str  # as written: "a.b", "..x", "./util", "example.com/m/geo", "crate::geo", "x.h"
    names: tuple[tuple[str, str], ...] = ()  # (name in the module, local name); ("*", "*")
    alias: str = ""  # the local name bound to the module itself ("" when none)
    line: int = 0


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where an import points in the workspace."""

    path: str
    names: tuple[tuple[str, str], ...] = ()
    alias: str = ""


class FileLookup(Protocol):
    """What resolution needs to know about the workspace's files (relative POSIX paths)."""

    def has(self, path: str) -> bool: ...

    def files_in(self, directory: str) -> Sequence[str]: ...

    def ending_with(self, suffix: str) -> Sequence[str]:
        """Files whose path is `suffix` or ends with "/" + `suffix`."""
        ...

    def folders_ending_with(self, suffix: str) -> Sequence[str]:
        """Folders (with at least one file) whose path is `suffix` or ends with "/" + it."""
        ...

    def go_modules(self) -> dict[str, str]:
        """Module path -> the folder of its go.mod ("" for the root)."""
        ...

    def ts_paths(self, from_path: str) -> TsPaths | None:
        """The `paths`/`baseUrl` of the tsconfig.json or jsconfig.json nearest above a file."""
        ...


@dataclass(frozen=True, slots=True)
class TsPaths:
    """What a tsconfig.json/jsconfig.json says about bare import specifiers."""

    base: str  # the folder `paths` targets and bare specifiers are relative to ("" = root)
    paths: tuple[tuple[str, tuple[str, ...]], ...] = ()  # ("@app/*", ("src/app/*",)), ...
    base_url: bool = False  # `baseUrl` is set: bare specifiers resolve from `base` too


# -- reading ------------------------------------------------------------------------------


def read_imports(tree: Tree, source: bytes, language: str) -> list[ImportRef]:
    """The imports of a parsed file; [] for a language without an imports query."""
    query = load_query(language, "imports")
    if query is None:
        return []
    reader = _READERS.get(language)
    if reader is None:
        return []
    out: list[ImportRef] = []
    for _, captures in QueryCursor(query).matches(tree.root_node):
        statement = captures.get("import")
        if not statement:
            continue
        out.extend(reader(statement[0], captures, source))
    return out


def _text(source: bytes, node: Node | None) -> str:
    if node is None:
        return ""
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _first(captures: dict[str, list[Node]], name: str) -> Node | None:
    nodes = captures.get(name)
    return nodes[0] if nodes else None


def _python(node: Node, captures: dict[str, list[Node]], source: bytes) -> list[ImportRef]:
    line = node.start_point[0]
    if node.type == "import_statement":
        out = []
        for child in node.children_by_field_name("name"):
            if child.type == "aliased_import":
                module = _text(source, child.child_by_field_name("name"))
                out.append(
                    ImportRef(module, (), _text(source, child.child_by_field_name("alias")), line)
                )
            else:
                out.append(ImportRef(_text(source, child), (), "", line))
        return out
    if node.type != "import_from_statement":
        return []
    module = _text(source, node.child_by_field_name("module_name"))
    names: list[tuple[str, str]] = []
    for child in node.children_by_field_name("name"):
        if child.type == "aliased_import":
            name = _text(source, child.child_by_field_name("name"))
            names.append((name, _text(source, child.child_by_field_name("alias"))))
        else:
            name = _text(source, child)
            names.append((name, name))
    if any(child.type == "wildcard_import" for child in node.named_children):
        names.append((WILDCARD, WILDCARD))
    return [ImportRef(module, tuple(names), "", line)]


def _javascript(node: Node, captures: dict[str, list[Node]], source: bytes) -> list[ImportRef]:
    module = _text(source, _first(captures, "source"))
    if not module:
        return []
    names: list[tuple[str, str]] = []
    alias = ""
    for child in _descendants(node, 4):
        if child.type == "import_specifier" or child.type == "export_specifier":
            name = _text(source, child.child_by_field_name("name"))
            local = _text(source, child.child_by_field_name("alias")) or name
            names.append((name, local))
        elif child.type == "namespace_import" or child.type == "namespace_export":
            alias = _text(source, child.named_children[-1]) if child.named_children else ""
        elif child.type == "import_clause":
            for part in child.named_children:
                if part.type == "identifier":
                    names.append(("default", _text(source, part)))
        elif child.type == "variable_declarator":  # require()
            target = child.child_by_field_name("name")
            if target is not None and target.type == "identifier":
                alias = _text(source, target)
            elif target is not None and target.type == "object_pattern":
                names.extend(_object_pattern_names(target, source))
    if node.type == "export_statement" and not names and not alias:
        names.append((WILDCARD, WILDCARD))  # export * from "./x": its names pass through
    return [ImportRef(module, tuple(names), alias, node.start_point[0])]


def _object_pattern_names(pattern: Node, source: bytes) -> list[tuple[str, str]]:
    names = []
    for part in pattern.named_children:
        if part.type == "shorthand_property_identifier_pattern":
            name = _text(source, part)
            names.append((name, name))
        elif part.type == "pair_pattern":
            key = _text(source, part.child_by_field_name("key"))
            value = _text(source, part.child_by_field_name("value"))
            names.append((key, value))
    return names


def _descendants(node: Node, depth: int) -> Iterable[Node]:
    for child in node.named_children:
        yield child
        if depth > 1:
            yield from _descendants(child, depth - 1)


def _go(node: Node, captures: dict[str, list[Node]], source: bytes) -> list[ImportRef]:
    path = _text(source, _first(captures, "source"))
    alias = _text(source, _first(captures, "alias"))
    if not path:
        return []
    if alias in ("", "_"):
        alias = "" if alias == "_" else path.rsplit("/", 1)[-1]
    if alias == ".":
        return [ImportRef(path, ((WILDCARD, WILDCARD),), "", node.start_point[0])]
    return [ImportRef(path, (), alias, node.start_point[0])]


def _rust(node: Node, captures: dict[str, list[Node]], source: bytes) -> list[ImportRef]:
    line = node.start_point[0]
    module = _first(captures, "module")
    if node.type == "mod_item" and module is not None:
        name = _text(source, module)
        return [ImportRef(f"mod::{name}", (), name, line)]
    tree = _text(source, _first(captures, "source"))
    out = []
    for path, local in expand_use_tree(tree):
        head, _, last = path.rpartition("::")
        if last in ("*", "self") or not head:
            out.append(
                ImportRef(
                    head or path,
                    ((WILDCARD, WILDCARD),) if last == "*" else (),
                    local if last == "self" else "",
                    line,
                )
            )
        else:
            # `use a::b::c` names an item c of module a::b, or the module a::b::c itself:
            # resolution tries the module first.
            out.append(ImportRef(head, ((last, local),), "", line))
    return out


_USE_TOKEN = re.compile(r"::|[{},]|\s+as\s+|[A-Za-z_][A-Za-z0-9_]*|\*")


def expand_use_tree(text: str) -> list[tuple[str, str]]:
    """`a::{b, c::d as e, f::*}` -> [("a::b", "b"), ("a::c::d", "e"), ("a::f::*", "*")]."""
    tokens = [t.strip() or t for t in _USE_TOKEN.findall(text)]
    position = 0

    def parse(prefix: str) -> list[tuple[str, str]]:
        nonlocal position
        out: list[tuple[str, str]] = []
        path = prefix
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == "::":
                continue
            if token == "{":
                while position < len(tokens) and tokens[position] != "}":
                    out.extend(parse(path))
                    if position < len(tokens) and tokens[position] == ",":
                        position += 1
                position += 1  # the "}"
                return out
            if token in (",", "}"):
                position -= 1
                break
            if token == "as":
                alias = tokens[position] if position < len(tokens) else ""
                position += 1
                out.append((path, alias))
                return out
            path = f"{path}::{token}" if path else token
        if path != prefix:
            last = path.rsplit("::", 1)[-1]
            out.append((path, last if last != "self" else prefix.rsplit("::", 1)[-1]))
        return out

    return parse("")


def _java(node: Node, captures: dict[str, list[Node]], source: bytes) -> list[ImportRef]:
    text = _text(source, node)
    match = re.match(r"import\s+(static\s+)?([\w.]+?)(\.\*)?\s*;", text)
    if match is None:
        return []
    dotted = match.group(2)
    line = node.start_point[0]
    if match.group(3):
        return [ImportRef(dotted, ((WILDCARD, WILDCARD),), "", line)]
    head, _, last = dotted.rpartition(".")
    if match.group(1):  # import static a.b.C.member
        return [ImportRef(head, ((last, last),), "", line)]
    return [ImportRef(dotted, (), last, line)]


def _c(node: Node, captures: dict[str, list[Node]], source: bytes) -> list[ImportRef]:
    path = _text(source, _first(captures, "source"))
    if not path:
        system = _text(source, _first(captures, "system"))
        path = system.strip("<>")
    if not path:
        return []
    # Everything a header declares is visible to the includer, unqualified.
    return [ImportRef(path, ((WILDCARD, WILDCARD),), "", node.start_point[0])]


_READERS = {
    "python": _python,
    "javascript": _javascript,
    "typescript": _javascript,
    "tsx": _javascript,
    "go": _go,
    "rust": _rust,
    "java": _java,
    "c": _c,
    "cpp": _c,
}


# -- resolving ----------------------------------------------------------------------------


def resolve(ref: ImportRef, from_path: str, language: str, files: FileLookup) -> list[Resolved]:
    """The workspace files `ref` (imported by `from_path`) points at; [] when none."""
    resolver = _RESOLVERS.get(language)
    return resolver(ref, from_path, files) if resolver else []


def implicit_files(from_path: str, language: str, files: FileLookup) -> list[str]:
    """Files whose top-level names `from_path` sees without importing them: the other files
    of its Go or Java package (the same folder)."""
    if language not in ("go", "java"):
        return []
    directory = posixpath.dirname(from_path)
    suffix = ".go" if language == "go" else ".java"
    return [
        path
        for path in files.files_in(directory)
        if path != from_path and path.endswith(suffix) and not path.endswith("_test.go")
    ]


def _closest(candidates: Sequence[str], from_path: str) -> list[str]:
    """Candidates ordered by how much of their folder they share with `from_path`."""
    here = from_path.split("/")

    def shared(path: str) -> int:
        count = 0
        for a, b in zip(here, path.split("/"), strict=False):
            if a != b:
                break
            count += 1
        return count

    return sorted(candidates, key=lambda p: (-shared(p), len(p), p))


def _python_module(module: str, from_path: str, files: FileLookup) -> str | None:
    """The file of a dotted Python module, relative imports included."""
    level = len(module) - len(module.lstrip("."))
    dotted = module[level:]
    rest = dotted.replace(".", "/") if dotted else ""
    if level:
        base = posixpath.dirname(from_path)
        for _ in range(level - 1):
            base = posixpath.dirname(base)
        stem = posixpath.join(base, rest) if rest else base
        for candidate in (f"{stem}.py", f"{stem}.pyi", posixpath.join(stem, "__init__.py")):
            candidate = candidate.lstrip("/")
            if (rest or candidate.endswith("__init__.py")) and files.has(candidate):
                return candidate
        return None
    if not rest:
        return None
    for tail in (f"{rest}.py", f"{rest}.pyi", f"{rest}/__init__.py"):
        found = files.ending_with(tail)
        if found:
            return _closest(found, from_path)[0]
    return None


def _resolve_python(ref: ImportRef, from_path: str, files: FileLookup) -> list[Resolved]:
    if not ref.names:  # import a.b [as c]
        path = _python_module(ref.module, from_path, files)
        if path is None:
            return []
        return [Resolved(path, (), ref.alias or ref.module)]
    out: list[Resolved] = []
    kept: list[tuple[str, str]] = []
    separator = "" if ref.module.endswith(".") else "."
    for name, local in ref.names:
        # `from pkg import mod` may name a submodule rather than a name in pkg/__init__.py
        submodule = (
            _python_module(f"{ref.module}{separator}{name}", from_path, files)
            if name != WILDCARD
            else None
        )
        if submodule is not None:
            out.append(Resolved(submodule, (), local))
        else:
            kept.append((name, local))
    if kept:
        path = _python_module(ref.module, from_path, files)
        if path is not None:
            out.append(Resolved(path, tuple(kept), ""))
    return out


_JS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def _resolve_javascript(ref: ImportRef, from_path: str, files: FileLookup) -> list[Resolved]:
    spec = ref.module
    if spec.startswith("."):
        stem = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), spec))
        candidates = [stem]
    else:
        candidates = _ts_path_candidates(spec, files.ts_paths(from_path))
        if spec.startswith(("@/", "~/")):  # the common alias for the source root
            candidates += [f"src/{spec[2:]}", spec[2:]]
    for stem in candidates:
        path = _js_file(stem, files)
        if path is not None:
            return [Resolved(path, ref.names, ref.alias)]
    return []  # a package from node_modules


def _ts_path_candidates(spec: str, config: TsPaths | None) -> list[str]:
    """Where `paths` (the longest matching pattern first, as TypeScript does) and `baseUrl`
    send a bare specifier."""
    if config is None:
        return []
    out = []
    matches = []
    for pattern, targets in config.paths:
        if "*" in pattern:
            head, _, tail = pattern.partition("*")
            if spec.startswith(head) and spec.endswith(tail) and len(spec) >= len(head + tail):
                star = spec[len(head) : len(spec) - len(tail)]
                matches.append((len(head), [t.replace("*", star, 1) for t in targets]))
        elif spec == pattern:
            matches.append((len(pattern) + 1, list(targets)))
    for _, targets in sorted(matches, key=lambda m: -m[0]):
        out.extend(posixpath.normpath(posixpath.join(config.base, t)) for t in targets)
    if config.base_url:
        out.append(posixpath.normpath(posixpath.join(config.base, spec)))
    return [p.removeprefix("./") for p in out if p != "." and not p.startswith("..")]


_TS_CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
_EXTENDS_DEPTH = 5


def is_ts_config(path: str) -> bool:
    return posixpath.basename(path) in _TS_CONFIG_NAMES


def read_ts_config(path: str, read: Callable[[str], str | None]) -> TsPaths | None:
    """The `baseUrl` and `paths` of the config at `path`, following `extends` to configs in
    the workspace (a package's config under node_modules is not followed); None without
    either. `read` gives a workspace file's text, or None."""
    base_url: str | None = None
    paths: dict | None = None
    paths_from = ""
    current = path
    for _ in range(_EXTENDS_DEPTH):
        text = read(current)
        data = parse_jsonc(text) if text is not None else None
        if not isinstance(data, dict):
            break
        folder = posixpath.dirname(current)
        options = data.get("compilerOptions")
        if isinstance(options, dict):
            if base_url is None and isinstance(options.get("baseUrl"), str):
                base_url = posixpath.normpath(posixpath.join(folder, options["baseUrl"]))
            if paths is None and isinstance(options.get("paths"), dict):
                paths, paths_from = options["paths"], folder
        extends = data.get("extends")
        if isinstance(extends, list):  # TypeScript 5: several; the last one wins first
            extends = extends[-1] if extends else None
        if not isinstance(extends, str) or not extends.startswith("."):
            break
        current = posixpath.normpath(posixpath.join(folder, extends))
        if not current.endswith(".json"):
            current += ".json"
        if current.startswith(".."):
            break
    if base_url is None and paths is None:
        return None
    base = base_url if base_url is not None else paths_from
    table = tuple(
        (pattern, tuple(t for t in targets if isinstance(t, str)))
        for pattern, targets in (paths or {}).items()
        if isinstance(pattern, str) and isinstance(targets, list)
    )
    return TsPaths("" if base == "." else base, table, base_url is not None)


def parse_jsonc(text: str) -> object:
    """JSON with comments and trailing commas, as tsconfig.json is written; None if not
    JSON even then."""
    out = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        char = text[i]
        if in_string:
            out.append(char)
            if char == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        elif char == ",":
            rest = text[i + 1 :].lstrip()
            if not rest.startswith(("}", "]")):
                out.append(char)
        else:
            out.append(char)
        i += 1
    try:
        return json.loads("".join(out))
    except ValueError:
        return None


def _js_file(stem: str, files: FileLookup) -> str | None:
    if stem.startswith("../"):
        return None  # outside the workspace
    if files.has(stem):
        return stem
    base = stem
    for compiled in (".js", ".jsx", ".mjs", ".cjs"):  # TS sources imported as "./x.js"
        if stem.endswith(compiled):
            base = stem[: -len(compiled)]
            break
    for extension in _JS_EXTENSIONS:
        if files.has(base + extension):
            return base + extension
    for extension in _JS_EXTENSIONS:
        index = f"{stem}/index{extension}"
        if files.has(index):
            return index
    return None


def _resolve_go(ref: ImportRef, from_path: str, files: FileLookup) -> list[Resolved]:
    directory = None
    modules = files.go_modules()
    for module in sorted(modules, key=len, reverse=True):
        if ref.module == module or ref.module.startswith(module + "/"):
            directory = posixpath.join(modules[module], ref.module[len(module) :].lstrip("/"))
            directory = directory.strip("/")
            break
    if directory is None:
        directory = _go_folder_without_module(ref.module, from_path, files)
    if directory is None:
        return []
    found = [
        path
        for path in files.files_in(directory.rstrip("/"))
        if path.endswith(".go") and not path.endswith("_test.go")
    ]
    return [Resolved(path, ref.names, ref.alias) for path in found]


def _go_folder_without_module(import_path: str, from_path: str, files: FileLookup) -> str | None:
    """A package of a workspace with no go.mod (GOPATH layout, a vendored tree, a snippet of a
    repository): the folder whose path ends with the longest tail of the import path. The
    standard library (no dot in the first element) is never looked for."""
    segments = import_path.split("/")
    if "." not in segments[0]:
        return None
    for start in range(len(segments) - 1):
        folders = files.folders_ending_with("/".join(segments[start:]))
        if folders:
            return _closest(folders, from_path)[0]
    tail = segments[-1]
    folders = [f for f in files.folders_ending_with(tail) if posixpath.basename(f) == tail]
    return _closest(folders, from_path)[0] if len(folders) == 1 else None


def _rust_crate_root(from_path: str, files: FileLookup) -> str | None:
    directory = posixpath.dirname(from_path)
    while True:
        for root_file in ("lib.rs", "main.rs"):
            if files.has(posixpath.join(directory, root_file).lstrip("/")):
                return directory
        if not directory:
            return None
        directory = posixpath.dirname(directory)


def _rust_module_of(from_path: str, root: str) -> list[str]:
    relative = from_path[len(root) :].lstrip("/") if root else from_path
    parts = relative.removesuffix(".rs").split("/")
    if parts[-1] in ("mod", "lib", "main") and len(parts) >= 1:
        parts = parts[:-1]
    return [p for p in parts if p]


def _rust_file(root: str, segments: Sequence[str], files: FileLookup) -> str | None:
    if not segments:
        for root_file in ("lib.rs", "main.rs"):
            path = posixpath.join(root, root_file).lstrip("/")
            if files.has(path):
                return path
        return None
    stem = posixpath.join(root, *segments).lstrip("/")
    for candidate in (f"{stem}.rs", f"{stem}/mod.rs"):
        if files.has(candidate):
            return candidate
    return None


def _resolve_rust(ref: ImportRef, from_path: str, files: FileLookup) -> list[Resolved]:
    root = _rust_crate_root(from_path, files)
    if root is None:
        return []
    here = _rust_module_of(from_path, root)
    segments = ref.module.split("::")
    if segments[0] == "mod":  # `mod x;` in from_path
        directory = posixpath.dirname(from_path)
        stem = posixpath.basename(from_path).removesuffix(".rs")
        if stem not in ("mod", "lib", "main"):
            directory = posixpath.join(directory, stem)
        base = posixpath.join(directory, segments[1]).lstrip("/")
        for candidate in (f"{base}.rs", f"{base}/mod.rs"):
            if files.has(candidate):
                return [Resolved(candidate, (), ref.alias)]
        return []
    if segments[0] == "crate":
        segments = segments[1:]
    elif segments[0] == "self":
        segments = here + segments[1:]
    elif segments[0] == "super":
        up = here
        while segments and segments[0] == "super":
            up = up[:-1]
            segments = segments[1:]
        segments = up + segments
    # else: a path starting at a module of the crate root (2018 edition) or an external crate
    names = ref.names
    # `use a::b::C`: a::b::C may itself be a module; else C is an item of a::b (or of a, when
    # b is an inline module)
    if names and names[0][0] != WILDCARD:
        name, local = names[0]
        as_module = _rust_file(root, [*segments, name], files)
        if as_module is not None:
            return [Resolved(as_module, (), local)]
    for cut in range(len(segments), -1, -1):
        if cut == 0 and ref.module.split("::")[0] not in ("crate", "self", "super"):
            return []  # an external crate (std, serde, ...)
        path = _rust_file(root, segments[:cut], files)
        if path is not None:
            if cut < len(segments) and not names:
                names = ((segments[cut], segments[cut]),)
            return [Resolved(path, names, ref.alias)]
    return []


def _resolve_java(ref: ImportRef, from_path: str, files: FileLookup) -> list[Resolved]:
    path = ref.module.replace(".", "/")
    if ref.names and ref.names[0][0] == WILDCARD:
        found = [
            p
            for folder in files.folders_ending_with(path)
            for p in files.files_in(folder)
            if p.endswith(".java")
        ]
        if not found:  # `import a.b.C.*`: the nested members of class C
            found = list(files.ending_with(path + ".java"))
        return [Resolved(p, ref.names, "") for p in found]
    found = files.ending_with(path + ".java")
    if found:
        return [Resolved(_closest(found, from_path)[0], ref.names, ref.alias)]
    head = path.rsplit("/", 1)[0]  # a nested class: a.b.Outer.Inner
    found = files.ending_with(head + ".java")
    if found and not ref.names:
        return [Resolved(_closest(found, from_path)[0], ((ref.alias, ref.alias),), "")]
    return []


def _resolve_c(ref: ImportRef, from_path: str, files: FileLookup) -> list[Resolved]:
    beside = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), ref.module))
    if files.has(beside):
        return [Resolved(beside, ref.names, "")]
    found = files.ending_with(ref.module)
    if found:
        return [Resolved(_closest(found, from_path)[0], ref.names, "")]
    return []


_RESOLVERS = {
    "python": _resolve_python,
    "javascript": _resolve_javascript,
    "typescript": _resolve_javascript,
    "tsx": _resolve_javascript,
    "go": _resolve_go,
    "rust": _resolve_rust,
    "java": _resolve_java,
    "c": _resolve_c,
    "cpp": _resolve_c,
}


def read_go_module(text: str) -> str | None:
    """The module path declared by a go.mod file."""
    match = re.search(r"^\s*module\s+(\S+)", text, re.MULTILINE)
    return match.group(1).strip('"') if match else None
