"""Definitions in a source file, read with the tree-sitter tag queries in `queries/`.

This module owns what the workspace index knows about a definition: its name and kind, where
it is, its signature as written (a function's header up to its body; for a class, struct,
interface or enum an outline of its fields and method headers) and the first line of its
docstring or leading comment. The queries are data (`queries/<language>-tags.scm`, capture
`@definition.<kind>` on the definition and `@name.definition.<kind>` on its name, optionally
`@scope` on the type a method belongs to; a first line `; inherits: <language>` includes
another language's file). A language without a query file yields no definitions, and the
completion context degrades to the cursor window. `render` turns a definition back into the
compact text a prompt shows.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tree_sitter import Node, Query, QueryCursor, QueryError, Tree

from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.languages import get_language

log = logging.getLogger(__name__)

QUERY_DIR = Path(__file__).parent / "queries"
# Languages that share another's query files.
_QUERY_ALIASES = {"tsx": "typescript"}

CONTAINER_KINDS = frozenset({"class", "interface", "enum"})
_FUNCTION_KINDS = frozenset({"function", "method"})

# Nodes that own a scope of their own: a definition inside one of these is local and is not
# indexed (a helper inside a function is not visible from other files).
_FUNCTION_NODES = frozenset(
    {
        "function_definition",  # python, c, cpp
        "function_declaration",  # javascript, typescript, go
        "generator_function_declaration",
        "function_expression",
        "arrow_function",
        "method_definition",  # javascript, typescript
        "method_declaration",  # go, java
        "constructor_declaration",  # java
        "function_item",  # rust
        "lambda",
        "lambda_expression",
    }
)
# Nodes whose body holds members: the "scope header" a method is shown under.
_CONTAINER_NODES = frozenset(
    {
        "class_definition",  # python
        "class_declaration",  # javascript, typescript, java
        "abstract_class_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "impl_item",  # rust
        "trait_item",
        "class_specifier",  # cpp
        "struct_specifier",
    }
)
# Nodes holding the members of a container, in the bundled grammars.
_BODY_NODES = frozenset(
    {
        "class_body",
        "interface_body",
        "enum_body",
        "object_type",
        "field_declaration_list",
        "declaration_list",
        "enum_variant_list",
        "enumerator_list",
        "interface_type",
    }
)
_COMMENT_NODES = frozenset({"comment", "line_comment", "block_comment"})
# Wrappers whose text belongs to the definition they hold (`export`, decorators, templates).
_WRAPPER_NODES = frozenset(
    {
        "export_statement",
        "decorated_definition",
        "template_declaration",
        "ambient_declaration",
        "attribute_item",
    }
)
# Go groups specs in one declaration (`const ( A = 1; B = 2 )`): the keyword goes first.
_SPEC_GROUPS = {"const_declaration": "const", "var_declaration": "var", "type_declaration": "type"}

MAX_MEMBERS = 40  # an outline longer than this ends in "..."
MAX_OUTLINE_CHARS = 1600  # methods beyond this are left out of an outline
MAX_CONSTRUCTOR_LINES = 40
MAX_HEADER_LINES = 12
MAX_VALUE_LINES = 3  # a constant's value beyond this many lines is elided
MAX_LINE_CHARS = 240
MAX_DOC_CHARS = 200


@dataclass(frozen=True, slots=True)
class Definition:
    """One definition of a file, as the index keeps it."""

    name: str
    kind: str  # function, method, class, interface, enum, type, constant, macro
    line: int  # 0-based line where the definition starts
    end_line: int
    indent: str  # the whitespace before it on its first line
    signature: str  # header or outline as written (first line without its indentation)
    doc: str  # first line of the docstring or leading comment, "" if none
    scope: str  # the type or class it belongs to, "" at top level
    scope_header: str  # that container's header line (with indentation), "" if none
    tokens: int  # estimated tokens of `render(self)`


# -- queries ------------------------------------------------------------------------------


def query_source(language: str, kind: str) -> str | None:
    """The text of `queries/<language>-<kind>.scm` with its inherited files, or None."""
    name = _QUERY_ALIASES.get(language, language)
    path = QUERY_DIR / f"{name}-{kind}.scm"
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    first = text.split("\n", 1)[0]
    if first.startswith("; inherits:"):
        base = first.split(":", 1)[1].strip()
        inherited = query_source(base, kind)
        if inherited:
            text = inherited + "\n" + text
    return text


@lru_cache(maxsize=64)
def load_query(language: str | None, kind: str) -> Query | None:
    """The compiled `kind` query ("tags" or "imports") for a language; None without one."""
    if language is None:
        return None
    source = query_source(language, kind)
    grammar = get_language(language)
    if source is None or grammar is None:
        return None
    try:
        return Query(grammar, source)
    except QueryError as exc:  # a query that does not fit the installed grammar
        log.warning("%s %s query unusable (%s): no symbols for it", language, kind, exc)
        return None


def has_tags(language: str | None) -> bool:
    return load_query(language, "tags") is not None


@lru_cache(maxsize=1)
def queries_version() -> str:
    """A hash of every query file: an index built with other queries must be rebuilt."""
    digest = hashlib.sha256()
    for path in sorted(QUERY_DIR.glob("*.scm")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# -- extraction ---------------------------------------------------------------------------


def definitions(tree: Tree, source: bytes, language: str) -> list[Definition]:
    """The definitions of a parsed file, in source order; [] for a language without tags."""
    query = load_query(language, "tags")
    if query is None:
        return []
    found: dict[tuple[int, int, str], tuple[Node, Node, str, str]] = {}
    for _, captures in QueryCursor(query).matches(tree.root_node):
        match = _definition_in(captures)
        if match is None:
            continue
        node, name_node, kind = match
        scope_nodes = captures.get("scope")
        scope = _text(source, scope_nodes[0]) if scope_nodes else ""
        key = (node.start_byte, node.end_byte, _text(source, name_node))
        if key in found and not _more_specific(kind, scope, found[key]):
            continue
        found[key] = (node, name_node, kind, scope)
    reader = _Reader(source, language)
    out: list[Definition] = []
    enclosing: list[tuple[Node, str]] = []  # definitions around the current one, outermost first
    for node, name_node, kind, scope in sorted(
        found.values(), key=lambda f: (f[0].start_byte, -f[0].end_byte)
    ):
        if _is_local(node):
            continue
        name = _text(source, name_node)
        while enclosing and enclosing[-1][0].end_byte < node.end_byte:
            enclosing.pop()
        if any(outer_name == name for _, outer_name in enclosing):
            continue  # `typedef struct P {...} P`, a constructor named as its class
        enclosing.append((node, name))
        out.append(reader.definition(node, name, kind, scope))
    return out


def _definition_in(captures: dict[str, list[Node]]) -> tuple[Node, Node, str] | None:
    for capture, nodes in captures.items():
        if capture.startswith("definition."):
            kind = capture.removeprefix("definition.")
            names = captures.get(f"name.definition.{kind}")
            if names:
                return nodes[0], names[0], kind
    return None


def _more_specific(kind: str, scope: str, previous: tuple[Node, Node, str, str]) -> bool:
    """Two patterns caught the same node (a Rust fn inside an impl is a function and a
    method): keep the one that knows more."""
    _, _, old_kind, old_scope = previous
    return (bool(scope), kind == "method") > (bool(old_scope), old_kind == "method")


def _is_local(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTION_NODES:
            return True
        parent = parent.parent
    return False


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


class _Reader:
    """Reads headers, outlines and docs of one file's definitions."""

    def __init__(self, source: bytes, language: str) -> None:
        self.source = source
        self.language = language
        # a container's header line, by its span: every method of a class shows the same one
        self._headers: dict[tuple[int, int], str] = {}

    def text(self, start: int, end: int) -> str:
        return self.source[start:end].decode("utf-8", "replace")

    def indent_of(self, node: Node) -> str:
        line_start = self.source.rfind(b"\n", 0, node.start_byte) + 1
        before = self.source[line_start : node.start_byte]
        return before.decode("utf-8", "replace") if not before.strip() else ""

    def definition(self, node: Node, name: str, kind: str, scope: str) -> Definition:
        container = _container_of(node)
        if kind == "function" and container is not None and container.type != "impl_item":
            kind = "method"
        if not scope and container is not None:
            scope = self.container_name(container)
        opening = self.opening_of(node)
        start = opening.start_byte
        signature = self.signature(node, kind, start)
        doc = self.doc(node, kind)
        header = self.header_line(container) if container is not None else ""
        if container is None and not scope and self.language == "cpp":
            # `namespace geo { double area(...); }`: the namespace is its scope, so that
            # `geo::area` finds it rather than another namespace's `area`
            namespace = _namespace_of(node)
            if namespace is not None:
                scope = self.container_name(namespace)
                header = self.header_line(namespace)
        indent = "" if self.keyword_for(node, start) else self.indent_of(node)
        if not indent and container is not None and self.source[start - 1 : start] != b"\n":
            indent = self.indent_of(container) + "    "  # a member sharing its line: `{ m() {} }`
        line = opening.start_point[0]  # tree-sitter counts rows by "\n", as the index does
        definition = Definition(
            name=name,
            kind=kind,
            line=line,
            end_line=node.end_point[0],
            indent=indent,
            signature=signature,
            doc=doc,
            scope=scope,
            scope_header=header,
            tokens=0,
        )
        tokens = estimate_tokens(render(definition, self.language))
        return _with_tokens(definition, tokens)

    # -- signature ------------------------------------------------------------------

    def opening_of(self, node: Node) -> Node:
        """The node a definition's text starts with: Go's single-spec groups start at the
        keyword (`const X = 1`, `type P struct`)."""
        parent = node.parent
        if parent is not None and parent.type in _SPEC_GROUPS and parent.named_child_count == 1:
            return parent
        return node

    def keyword_for(self, node: Node, start: int) -> str:
        parent = node.parent
        if parent is not None and parent.type in _SPEC_GROUPS and start == node.start_byte:
            return _SPEC_GROUPS[parent.type] + " "
        return ""

    def signature(self, node: Node, kind: str, start: int) -> str:
        keyword = self.keyword_for(node, start)
        body = node.child_by_field_name("body")
        if kind in _FUNCTION_KINDS:
            if body is None or body.type in ("ERROR",):
                return keyword + _cap_lines(self.text(start, node.end_byte), MAX_HEADER_LINES)
            return keyword + _cap_lines(
                self.text(start, body.start_byte).rstrip(), MAX_HEADER_LINES
            )
        members_body = _members_body(node)
        whole = self.text(start, node.end_byte).rstrip()
        if members_body is not None and (
            kind in CONTAINER_KINDS or whole.count("\n") >= MAX_VALUE_LINES
        ):
            return keyword + self.outline(node, members_body, start)
        return keyword + _cap_lines(whole, MAX_VALUE_LINES)

    def outline(self, node: Node, body: Node, start: int) -> str:
        """The container's header, then its members in source order (fields as written,
        methods as headers), then the closing brace. Fields and constructors are always
        shown (up to `MAX_MEMBERS`); other methods while the outline is under
        `MAX_OUTLINE_CHARS`; "..." marks what was left out."""
        opening = _opening_end(body)
        lines = [_cap_lines(self.text(start, opening).rstrip(), MAX_HEADER_LINES)]
        base_indent = self.indent_of(node)
        member_indent = base_indent + "    "
        members = [m for m in body.named_children if m.type not in _COMMENT_NODES]
        doc_first = self.language == "python" and members and _is_docstring(members[0])
        if doc_first:
            doc = _first_doc_line(_text(self.source, members[0]))
            if doc:
                lines.append(f'{member_indent}"""{doc}"""')
            members = members[1:]
        shown = []  # (position, essential, text)
        for position, member in enumerate(members):
            found = self.member(member)
            if found is not None:
                text, essential = found
                shown.append(
                    (position, essential, (self.indent_of(member) or member_indent) + text)
                )
        kept = [item for item in shown if item[1]][:MAX_MEMBERS]
        room = MAX_OUTLINE_CHARS - sum(len(text) for _, _, text in kept)
        for item in (item for item in shown if not item[1]):
            if len(kept) == MAX_MEMBERS or len(item[2]) > room:
                break
            kept.append(item)
            room -= len(item[2])
        lines.extend(text for _, _, text in sorted(kept))
        if len(kept) < len(shown):
            lines.append(member_indent + ("..." if self.language == "python" else "// ..."))
        if opening != body.start_byte or body.type == "interface_type":  # a braced body
            # from the closing brace to the end: `}`, or `} Rect;` for a C typedef
            closing = self.text(body.end_byte - 1, node.end_byte).strip()
            lines.append(base_indent + (closing if closing.startswith("}") else "}"))
        elif not shown and not doc_first:
            lines.append(member_indent + "...")
        return "\n".join(lines)

    def member(self, member: Node) -> tuple[str, bool] | None:
        """How an outline shows a member, and whether it is essential (a field, a
        constructor: what using the type needs) rather than a method."""
        if member.type == "decorated_definition":
            inner = member.child_by_field_name("definition")
            member = inner if inner is not None else member
        name_node = member.child_by_field_name("name")
        name = _text(self.source, name_node) if name_node is not None else ""
        private = self.language == "python" and _is_private_python(name)
        if member.type == "enum_body_declarations" or (
            private and member.type == "function_definition"
        ):
            return None  # Java: methods after the enum constants; Python's private helpers
        if member.type == "access_specifier":  # C++ `public:`
            return _text(self.source, member) + ":", True
        body = member.child_by_field_name("body")
        if body is not None and member.type in _FUNCTION_NODES:
            header = self.text(member.start_byte, body.start_byte).rstrip()
            suffix = " ..." if self.language == "python" else ""
            if _is_constructor(member, name):  # shown whole: calling the type needs it
                return _cap_lines(header, MAX_CONSTRUCTOR_LINES) + suffix, True
            # one line however the header was wrapped (annotations, long parameter lists)
            header = " ".join(header.split())
            if len(header) > MAX_LINE_CHARS:
                header = header[:MAX_LINE_CHARS] + " ..."
            return header + suffix, False
        if body is not None and member.type in _CONTAINER_NODES:
            head = _one_line(self.text(member.start_byte, _opening_end(body)).rstrip())
            return head + " ... }", False
        return _one_line(_text(self.source, member)), True

    def container_name(self, container: Node) -> str:
        name = container.child_by_field_name("name") or container.child_by_field_name("type")
        return _text(self.source, name) if name is not None else ""

    def header_line(self, container: Node) -> str:
        key = (container.start_byte, container.end_byte)
        header = self._headers.get(key)
        if header is None:
            header = self._headers[key] = self._header_line(container)
        return header

    def _header_line(self, container: Node) -> str:
        body = _members_body(container)
        end = _opening_end(body) if body is not None else container.end_byte
        head = self.text(container.start_byte, end).rstrip()
        return self.indent_of(container) + _one_line(head)

    # -- docs -----------------------------------------------------------------------

    def doc(self, node: Node, kind: str) -> str:
        if self.language == "python" and kind in _FUNCTION_KINDS | CONTAINER_KINDS:
            body = node.child_by_field_name("body")
            first = body.named_children[0] if body is not None and body.named_children else None
            if first is not None and _is_docstring(first):
                return _first_doc_line(_text(self.source, first))
        outer = node
        while outer.parent is not None and (
            outer.parent.type in _WRAPPER_NODES
            or (outer.parent.type in _SPEC_GROUPS and outer.parent.named_child_count == 1)
        ):
            outer = outer.parent
        comment = outer.prev_named_sibling
        while comment is not None and comment.type in ("attribute_item", "decorator"):
            comment = comment.prev_named_sibling
        if comment is None or comment.type not in _COMMENT_NODES:
            return ""
        if comment.end_point[0] < outer.start_point[0] - 1:
            return ""  # a blank line between them: the comment is about something else
        # a run of line comments: the first line of the run
        while (
            (previous := comment.prev_named_sibling) is not None
            and previous.type in _COMMENT_NODES
            and previous.end_point[0] == comment.start_point[0] - 1
        ):
            comment = previous
        return _first_doc_line(_text(self.source, comment))


def _with_tokens(definition: Definition, tokens: int) -> Definition:
    return Definition(
        definition.name,
        definition.kind,
        definition.line,
        definition.end_line,
        definition.indent,
        definition.signature,
        definition.doc,
        definition.scope,
        definition.scope_header,
        tokens,
    )


def _container_of(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type in _CONTAINER_NODES:
            return parent
        if parent.type in _FUNCTION_NODES:
            return None
        parent = parent.parent
    return None


def _namespace_of(node: Node) -> Node | None:
    """The innermost named C++ namespace around a definition."""
    parent = node.parent
    while parent is not None:
        if parent.type == "namespace_definition" and parent.child_by_field_name("name"):
            return parent
        parent = parent.parent
    return None


def is_namespace_member(definition: Definition) -> bool:
    """A definition whose scope is a C++ namespace (visible unqualified where the namespace
    is), not a class."""
    return definition.scope_header.lstrip().startswith("namespace ")


def _members_body(node: Node, depth: int = 0) -> Node | None:
    """The node holding a container's members: its `body`, or a body-like node a level or
    two down (Go `type P struct {...}`, C `typedef struct {...} P`)."""
    body = node.child_by_field_name("body")
    if body is not None and (body.type in _BODY_NODES or body.type == "block"):
        return body
    if depth == 2:
        return None
    for child in node.named_children:
        if child.type in _BODY_NODES:
            return child
    for child in node.named_children:
        found = _members_body(child, depth + 1)
        if found is not None:
            return found
    return None


def _opening_end(body: Node) -> int:
    """Where the header ends: after the body's `{`, or (Python) where the block starts."""
    for child in body.children:
        if child.type == "{":
            return child.end_byte
        if child.is_named:
            break
    return body.start_byte


def _is_constructor(member: Node, name: str) -> bool:
    return (
        name in ("__init__", "constructor") or member.type == "constructor_declaration"  # java
    )


def _is_docstring(node: Node) -> bool:
    return (
        node.type == "expression_statement"
        and node.named_child_count == 1
        and node.named_children[0].type in ("string", "concatenated_string")
    )


def _is_private_python(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


_DOC_MARKERS = ('"""', "'''", "/**", "/*!", "/*", "*/", "///", "//!", "//", "#", "*")


def _first_doc_line(text: str) -> str:
    """The first line of words in a docstring or comment, without its markers."""
    for raw in text.splitlines():
        line = raw.strip()
        # in order: removing one marker can uncover the next (`/** *`); a line starting
        # with none of them keeps its text, so most lines skip the loop
        if line.startswith(_DOC_MARKERS):
            for marker in _DOC_MARKERS:
                if line.startswith(marker):
                    line = line[len(marker) :].strip()
        for marker in ('"""', "'''", "*/"):
            if line.endswith(marker):
                line = line[: -len(marker)].strip()
        if line.startswith(("r", "b", "u", "f")) and line[1:2] in ('"', "'"):
            line = line[1:].strip("\"'").strip()
        line = line.strip("\"'").strip()
        if line:
            return line[:MAX_DOC_CHARS]
    return ""


def _one_line(text: str) -> str:
    """A member shown on one line: its first line, marked when more was cut."""
    first, _, rest = text.partition("\n")
    first = first.rstrip()
    if len(first) > MAX_LINE_CHARS:
        return first[:MAX_LINE_CHARS] + " ..."
    return first + " ..." if rest.strip() else first


def _cap_lines(text: str, limit: int) -> str:
    lines = text.split("\n")
    lines = [
        line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " ..." for line in lines
    ]
    if len(lines) <= limit:
        return "\n".join(lines)
    return "\n".join(lines[:limit]) + " ..."


# -- rendering ----------------------------------------------------------------------------


def comment_prefix(language: str | None) -> str:
    return "#" if language == "python" else "///" if language == "rust" else "//"


def render(definition: Definition, language: str | None, *, with_scope: bool = True) -> str:
    """The definition as a prompt shows it: its scope's header (for a method), its doc and
    its signature or outline, with the indentation it has in its file."""
    parts = []
    if with_scope and definition.scope_header:
        parts.append(definition.scope_header)
    indent = definition.indent
    body = indent + definition.signature
    if language == "python":
        if definition.kind in _FUNCTION_KINDS:
            if definition.doc:
                body += f'\n{indent}    """{definition.doc}"""'
            else:
                body += " ..."
        parts.append(body)
    else:
        if definition.doc:
            parts.append(f"{indent}{comment_prefix(language)} {definition.doc}")
        parts.append(body)
    return "\n".join(parts)
