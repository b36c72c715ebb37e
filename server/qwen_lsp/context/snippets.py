"""Where a completion's cross-file context comes from: candidate pieces of code, each scored.

Sources, each a small function over the index and the open documents:
- `references_near`: the identifiers around the cursor, weighted by closeness, the call being
  typed weighing most (`parse(█` wants `parse`'s signature);
- `definition_pieces`: the definitions those references name, resolved through the file's
  imports first (module aliases, imported names, wildcard and same-package files), then by
  name anywhere in the workspace, nearer folders first;
- `import_pieces`: the definitions the file's imports bring in, used near the cursor or not;
- `scope_pieces`: the headers of the functions and classes around the cursor, for when the
  window starts below them;
- `recent_edit_pieces` and `similar_pieces`: the lines around recent edits, and the windows of
  other open documents most similar to the code before the cursor.
Ranking and the token budget are `ranking.py`'s; this module only proposes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tree_sitter import Node

from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.index import ImportScope, WorkspaceIndex
from qwen_lsp.context.members import Found, MemberFinder, nearest
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.receivers import receiver_type
from qwen_lsp.context.similarity import WindowIndex, identifiers
from qwen_lsp.context.tags import Definition, is_namespace_member, render

# Scores: a piece's score is its reference's weight times how surely the name resolved.
CALLEE_WEIGHT = 12.0  # the call being typed
MEMBER_WEIGHT = 6.0  # `obj.█`: the thing whose members are wanted
SCOPE_SCORE = 9.0  # the header of an enclosing function or class
IMPORT_SCORE = 0.8  # an imported definition not used near the cursor
TYPED_CERTAINTY = 1.6  # a member of the receiver's inferred class: above any guess by name
RECENT_SCORE = 2.5
SIMILAR_SCORE = 8.0  # times the similarity (0.3 to 1)
_MAX_WEIGHT = 14.0
_LINES_BEFORE = 25
_LINES_AFTER = 5
_MAX_REFERENCES = 24
_RECENT_BEFORE, _RECENT_AFTER = 4, 6

_CHAIN = re.compile(r"[A-Za-z_$][\w$]*(?:[ \t]*(?:\.|::|->)[ \t]*[A-Za-z_$][\w$]*)*")
_SEPARATOR = re.compile(r"\s*(?:\.|::|->)\s*")
_TRAILING_CHAIN = re.compile(r"([A-Za-z_$][\w$]*(?:\s*(?:\.|::|->)\s*[A-Za-z_$][\w$]*)*)\s*$")
_SUPER_CALL = re.compile(r"\bsuper\(\s*\)\s*\.\s*([A-Za-z_]\w*)")  # Python's `super().name`
_SUPER_BEFORE = re.compile(r"\bsuper\(\s*\)\s*\.\s*$")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_KEYWORDS = _words(
    """
    if else elif for while do return def class import from as in is not and or with try
    except finally raise yield lambda pass break continue global nonlocal del assert async
    await None True False self cls print len range str int float dict list set tuple bool
    isinstance super object type const let var function new this typeof instanceof void null
    undefined true false export default extends implements interface enum public private
    protected static final abstract package throws throw catch switch case func go defer
    chan map struct select fallthrough goto fn mut pub impl trait use mod crate match loop
    where ref move dyn Self Some None Ok Err Vec String Box Option Result unsafe extern char
    long short unsigned signed double auto sizeof typedef namespace template typename using
    include define ifdef ifndef endif nullptr delete operator virtual override std string
    boolean byte any unknown never readonly declare keyof require module exports console log
    err error nil make append cap copy panic
    """
)


@dataclass(frozen=True, slots=True)
class Reference:
    """An identifier used near the cursor: `qualifier.name`, or `name` alone."""

    name: str
    qualifier: str  # dotted: "a.b" for a.b.name (also for a::b::name and a->b->name)
    weight: float


@dataclass(frozen=True, slots=True)
class Piece:
    """A candidate for the prompt: some lines of a file, and how much they are wanted."""

    path: str
    start_line: int
    end_line: int  # inclusive
    text: str
    tokens: int
    score: float
    source: str  # "definition", "import", "scope", "recent" or "similar"
    scope_header: str = ""  # shown once above the pieces of a file that share it


@dataclass(frozen=True, slots=True)
class OpenFile:
    """Another open document of the same workspace folder."""

    path: str
    document: SourceDocument


@dataclass(frozen=True, slots=True)
class EditMark:
    """Where the user edited lately (0-based line)."""

    path: str
    line: int


# -- references ---------------------------------------------------------------------------


def references_near(text: str, cursor: int) -> list[Reference]:
    """Identifiers used around `cursor`, heaviest first (one entry per qualified name)."""
    weights: dict[tuple[str, str], float] = {}

    def add(qualifier: str, name: str, weight: float) -> None:
        if name in _KEYWORDS or len(name) < 2:
            return
        key = (qualifier, name)
        weights[key] = min(weights.get(key, 0.0) + weight, _MAX_WEIGHT)

    line_start = text.rfind("\n", 0, cursor) + 1
    start = line_start
    for _ in range(_LINES_BEFORE):
        if start == 0:
            break
        start = text.rfind("\n", 0, start - 1) + 1
    end = cursor
    for _ in range(_LINES_AFTER + 1):
        found = text.find("\n", end + 1)
        if found < 0:
            end = len(text)
            break
        end = found
    cursor_line = text.count("\n", start, cursor)
    for number, line in enumerate(text[start:end].split("\n")):
        weight = _line_weight(number - cursor_line)
        if "super(" in line:  # `super().name` is a member of a base, not a name in scope
            for name in _SUPER_CALL.findall(line):
                add("super()", name, weight)
            line = _SUPER_CALL.sub("", line)
        for chain in _CHAIN.findall(line):
            if "." not in chain and ":" not in chain and "->" not in chain:
                add("", chain, weight)
                continue
            segments = [s for s in _SEPARATOR.split(chain) if s]
            for i, segment in enumerate(segments):
                add(".".join(segments[:i]), segment, weight)

    callee = _callee_before(text, cursor)
    if callee is not None:
        *qualifier, name = callee
        add(".".join(qualifier), name, CALLEE_WEIGHT)
    before = text[line_start:cursor].rstrip()
    if before.endswith((".", "::", "->")):
        head = _TRAILING_CHAIN.search(before.rstrip(".:->"))
        if head is not None:
            *qualifier, name = _SEPARATOR.split(head.group(1))
            add(".".join(qualifier), name, MEMBER_WEIGHT)
    ordered = sorted(weights.items(), key=lambda item: -item[1])
    return [Reference(name, qualifier, w) for (qualifier, name), w in ordered[:_MAX_REFERENCES]]


def _line_weight(line: int) -> float:
    if line == 0:
        return 4.0
    if -3 <= line < 0:
        return 3.0
    if -10 <= line < 0:
        return 2.0
    if line < 0:
        return 1.0
    return 1.5


def _callee_before(text: str, cursor: int) -> list[str] | None:
    """The name chain of the call whose argument list holds the cursor: `a.b(x, █` -> a, b.
    The search stops at the statement's start (`;`, a brace) or 400 characters back."""
    depth = 0
    stop = max(cursor - 400, 0)
    for i in range(cursor - 1, stop - 1, -1):
        char = text[i]
        if char in ")]":
            depth += 1
        elif char in "([":
            if depth == 0:
                if char == "[":
                    return None
                match = _TRAILING_CHAIN.search(text, max(stop, i - 200), i)
                if match is None:
                    return None
                chain = [s for s in _SEPARATOR.split(match.group(1)) if s]
                if _SUPER_BEFORE.search(text, max(stop, match.start() - 20), match.start()):
                    chain.insert(0, "super()")
                return chain
            depth -= 1
        elif char in ";{}" and depth == 0:
            return None
    return None


# -- definitions --------------------------------------------------------------------------


def definition_pieces(
    index: WorkspaceIndex,
    path: str,
    references: Sequence[Reference],
    document: SourceDocument | None = None,
    cursor: int | None = None,
) -> list[Piece]:
    """The definitions the references name, scored by weight times resolution certainty.

    With the document and cursor, a qualified reference (`self.store.get`, `param.get`,
    `super().get`) is first resolved through its receiver's inferred class: the member of that
    class or its nearest base, or for `obj.attr` the class of the attribute. When the class is
    known, no same-named definition of another class is guessed at."""
    scope = index.scope(path) or ImportScope({}, {}, (), frozenset())
    finder = MemberFinder(index, path, document) if document is not None else None
    receivers: dict[str, tuple[list[Found], bool]] = {}
    out: list[Piece] = []
    for ref in references:
        if finder is not None and cursor is not None and ref.qualifier:
            typed = _typed_member(finder, receivers, ref, document, cursor)
            if typed is not None:
                for found_path, definition in typed:
                    score = ref.weight * TYPED_CERTAINTY
                    out.append(_piece(index, found_path, definition, score, "definition"))
                continue
        for found_path, definition, certainty in resolve_reference(index, path, scope, ref):
            out.append(_piece(index, found_path, definition, ref.weight * certainty, "definition"))
    return out


def _typed_member(
    finder: MemberFinder,
    receivers: dict[str, tuple[list[Found], bool]],
    ref: Reference,
    document: SourceDocument | None,
    cursor: int,
) -> list[Found] | None:
    """What `ref` names through its receiver's class; None when the class is not known."""
    if document is None:
        return None
    known = receivers.get(ref.qualifier)
    if known is None:
        known = finder.follow(receiver_type(document, cursor, ref.qualifier))
        receivers[ref.qualifier] = known
    classes, bases_only = known
    if not classes:
        return None
    found = finder.member(classes, ref.name, bases_only=bases_only)
    if found:
        return found
    return finder.attribute(classes, ref.name)


def import_pieces(index: WorkspaceIndex, path: str) -> list[Piece]:
    """What the file imports by name, whether or not it is used near the cursor."""
    scope = index.scope(path)
    if scope is None:
        return []
    out = []
    for imported in scope.names.values():
        for origin, name in imported:
            for found_path, definition in index.exported(origin, name)[:2]:
                out.append(_piece(index, found_path, definition, IMPORT_SCORE, "import"))
    return out


def resolve_reference(
    index: WorkspaceIndex, here: str, scope: ImportScope, ref: Reference
) -> list[tuple[str, Definition, float]]:
    """(file, definition, certainty) for what `ref` most likely names; certainty 0..1.5."""
    if ref.qualifier:
        qualifier = ref.qualifier
        last = qualifier.rsplit(".", 1)[-1]
        module_files = scope.modules.get(qualifier) or scope.modules.get(last)
        if module_files:
            found = [(p, d, 1.5) for f in module_files for p, d in index.exported(f, ref.name)]
            found.extend(
                (f, d, 1.4)  # Java: a static member of an imported class
                for f in module_files
                for d in index.definitions_in(f, ref.name)
                if d.scope
            )
            if found:
                return found[:3]
        owners = scope.names.get(last, [])
        members = [
            (p, d, 1.4)
            for origin, original in owners
            for p, owner in index.exported(origin, original)
            for d in index.definitions_in(p, ref.name)
            if d.scope == owner.name
        ]
        if members:
            return members[:3]
        candidates = index.lookup(ref.name)
        spaced = [(p, d) for p, d in candidates if d.scope == last and is_namespace_member(d)]
        if spaced:  # C++ `geo::area`: the `area` of namespace geo
            return [(p, d, 1.3) for p, d in nearest(spaced, here)[:2]]
        if last in ("self", "this", "cls"):
            mine = [(p, d, 1.2) for p, d in candidates if p == here]
            if mine:
                return mine[:2]
        return _best_by_proximity(candidates, here, scope, certainty=0.7, limit=2)
    imported = scope.names.get(ref.name)
    if imported:
        found = [
            (p, d, 1.5)
            for origin, original in imported
            for p, d in index.exported(origin, original)
        ]
        if found:
            return found[:3]
    candidates = [
        (p, d)
        for p, d in index.lookup(ref.name)
        if not d.scope or p == here or is_namespace_member(d)
    ]
    if scope.open_files:
        visible = set(scope.open_files)
        found = [(p, d, 1.3) for p, d in candidates if p in visible]
        if found:
            return found[:3]
    mine = [(p, d, 1.2) for p, d in candidates if p == here]
    if mine:
        return mine[:2]
    return _best_by_proximity(candidates, here, scope, certainty=0.6, limit=2)


def _best_by_proximity(
    candidates: Sequence[tuple[str, Definition]],
    here: str,
    scope: ImportScope,
    *,
    certainty: float,
    limit: int,
) -> list[tuple[str, Definition, float]]:
    """Unresolved names: the definitions in imported files, then in nearer folders; less
    certain the more files define the name."""
    if not candidates:
        return []
    folder = here.rsplit("/", 1)[0] if "/" in here else ""

    def closeness(item: tuple[str, Definition]) -> tuple[int, int, int]:
        path = item[0]
        shared = 0
        for a, b in zip(here.split("/"), path.split("/"), strict=False):
            if a != b:
                break
            shared += 1
        return (path in scope.files, path.startswith(folder + "/") or not folder, shared)

    ranked = sorted(candidates, key=closeness, reverse=True)
    files = len({p for p, _ in candidates})
    certainty /= 1 + 0.25 * (files - 1)
    return [(p, d, certainty) for p, d in ranked[:limit]]


def _piece(index: WorkspaceIndex, path: str, d: Definition, score: float, source: str) -> Piece:
    entry = index.entry(path)
    language = entry.language if entry is not None else None
    return Piece(
        path,
        d.line,
        d.end_line,
        render(d, language, with_scope=False),
        d.tokens,
        score,
        source,
        d.scope_header,
    )


# -- the current file ---------------------------------------------------------------------

# Nodes whose header says where the cursor is (a subset of tags.py's, plus C++/Go specifics).
_SCOPE_NODES = frozenset(
    {
        "function_definition",
        "function_declaration",
        "method_definition",
        "method_declaration",
        "constructor_declaration",
        "function_item",
        "class_definition",
        "class_declaration",
        "abstract_class_declaration",
        "interface_declaration",
        "enum_declaration",
        "impl_item",
        "trait_item",
        "class_specifier",
        "struct_specifier",
        "namespace_definition",
        "mod_item",
    }
)


def scope_pieces(document: SourceDocument, cursor: int, path: str) -> list[Piece]:
    """The headers of the definitions enclosing the cursor, outermost first."""
    tree = document.recent_tree
    if tree is None:
        return []
    point = document.point_at(cursor)
    node: Node | None = tree.root_node.descendant_for_point_range(point, point)
    headers: list[Piece] = []
    text = document.text
    while node is not None:
        if node.type in _SCOPE_NODES:
            body = node.child_by_field_name("body")
            if body is not None and body.start_point[0] > node.start_point[0] - 1:
                start = document.offset_at_point(node.start_point)
                end = document.offset_at_point(body.start_point)
                line = document.line_at(start)
                head = text[document.line_start(line) : end].rstrip()
                if body.type != "block" and not head.endswith("{"):
                    head += " {"  # the opening brace starts the body node in some grammars
                headers.append(
                    Piece(path, line, line, head, estimate_tokens(head), SCOPE_SCORE, "scope")
                )
        node = node.parent
    headers.reverse()
    return headers


# -- open documents -----------------------------------------------------------------------


def recent_edit_pieces(
    marks: Sequence[EditMark], documents: dict[str, SourceDocument]
) -> list[Piece]:
    """The lines around recent edits, most recent first and most wanted."""
    out = []
    for rank, mark in enumerate(marks):
        document = documents.get(mark.path)
        if document is None:
            continue
        first = max(mark.line - _RECENT_BEFORE, 0)
        last = min(mark.line + _RECENT_AFTER, document.line_count - 1)
        text = document.text[document.line_start(first) : document.line_range(last)[1]]
        if not text.strip():
            continue
        score = RECENT_SCORE * (0.8**rank)
        out.append(Piece(mark.path, first, last, text, estimate_tokens(text), score, "recent"))
    return out


def similar_pieces(
    query_text: str, windows: Sequence[tuple[str, WindowIndex]], *, limit: int = 2
) -> list[Piece]:
    """The windows of other documents most like `query_text` (the lines before the cursor)."""
    query = identifiers(query_text)
    if len(query) < 3:
        return []  # too little to compare: any match would be chance
    found = []
    for path, index in windows:
        for window in index.most_similar(query, limit=1):
            found.append((window.score, path, index, window))
    found.sort(key=lambda item: -item[0])
    out = []
    for score, path, index, window in found[:limit]:
        text = index.text(window)
        out.append(
            Piece(
                path,
                window.start_line,
                window.end_line - 1,
                text,
                estimate_tokens(text),
                SIMILAR_SCORE * score,
                "similar",
            )
        )
    return out
