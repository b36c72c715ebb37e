"""Which class a method call's receiver is, inferred cheaply without a type checker.

`receiver_type` reads the code around the cursor (the enclosing function and class, found with
tree-sitter) for what a reader would use to know the type of `recv` in `recv.method(`:

- Python: `self`/`cls` (the enclosing class), `super()` (its bases), parameter and variable
  annotations (`C`, `Optional[C]`, `C | None`, `"C"`, a generic's outer type), `x = C(...)`,
  `x = f(...)` (what `f`'s return annotation says), `with C(...) as x`, and attributes:
  `self.x = C(...)`, `self.x: C`, `self.x = param` with `param: C`, class-level `x: C`;
- TypeScript/JavaScript: `this`, `super`, typed parameters and variables, `new C(...)`,
  class fields and constructor parameter properties;
- Java: declared types of locals, parameters and fields, `this`, `super`, `new C(...)`;
- Go: the method's receiver, typed parameters, `var x T`, `x := T{...}` / `&T{...}`,
  `x := NewT(...)` (its result type), struct fields;
- Rust: `self` in an `impl T` block, `let x: T`, `T::new(...)` / `T { ... }`, typed
  parameters, struct fields.
Chains (`self.a.b.m(`) are followed one attribute at a time, through the class's own text when
it is in the current file, else through its outline in the index (`attribute_type`).

The result is a `TypeRef`: a name as written, the module it is qualified by, and whether it
is what a call returns (resolved against the index by `snippets.py`, which also walks the
bases). Nothing here reads a file: the current document's text and the index's signatures
are all it uses, so it stays within the per-keystroke budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from qwen_lsp.context.parsing import SourceDocument


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A type named in the code: `module.name`, or what calling `name` returns."""

    name: str
    module: str = ""
    returned_by: bool = False  # the type is the result of calling `name`
    bases_only: bool = False  # super(): look the method up in the bases, not the class


_FUNCTIONS = {
    "python": ("function_definition",),
    "typescript": (
        "method_definition",
        "function_declaration",
        "arrow_function",
        "function_expression",
        "function",
    ),
    "tsx": (
        "method_definition",
        "function_declaration",
        "arrow_function",
        "function_expression",
        "function",
    ),
    "javascript": (
        "method_definition",
        "function_declaration",
        "arrow_function",
        "function_expression",
        "function",
    ),
    "java": ("method_declaration", "constructor_declaration"),
    "go": ("method_declaration", "function_declaration", "func_literal"),
    "rust": ("function_item",),
    "cpp": ("function_definition",),
}
_CLASSES = {
    "python": ("class_definition",),
    "typescript": ("class_declaration", "abstract_class_declaration", "class"),
    "tsx": ("class_declaration", "abstract_class_declaration", "class"),
    "javascript": ("class_declaration", "class"),
    "java": ("class_declaration", "enum_declaration", "record_declaration"),
    "rust": ("impl_item",),
    "cpp": ("class_specifier", "struct_specifier"),
}
_SELF = {
    "python": ("self", "cls"),
    "typescript": ("this",),
    "tsx": ("this",),
    "javascript": ("this",),
    "java": ("this",),
    "rust": ("self", "Self"),
    "cpp": ("this",),
}
_SUPER = {
    "python": "super()",
    "typescript": "super",
    "tsx": "super",
    "javascript": "super",
    "java": "super",
}
_IDENT = r"[A-Za-z_$][\w$]*"
_DOTTED = re.compile(rf"{_IDENT}(?:\s*(?:\.|::)\s*{_IDENT})*")
_REFERENCE_MARKS = re.compile(
    r"^(?:&\s*(?:'\w+\s+)?(?:mut\s+)?|\*+|\?|readonly\s+|final\s+|const\s+)"
)
_WRAPPERS = frozenset({"Optional", "Final", "ClassVar", "Annotated", "Required", "NotRequired"})
_NOT_CLASSES = frozenset(
    {"None", "Any", "object", "str", "int", "float", "bool", "bytes", "dict", "list", "tuple"}
)


# -- annotations ------------------------------------------------------------------------------


def type_from_annotation(text: str) -> TypeRef | None:
    """The class an annotation names: `C`, `mod.C`, `Optional[C]`, `C | None`, `"C"`,
    `list[C]` (its outer type, `list`, is not a class of the workspace: None), `*T`, `&mut T`,
    `T<U>`, `Box<T>` (the outer type)."""
    text = text.strip().strip("\"'").strip()
    text = _REFERENCE_MARKS.sub("", text)
    text = text.strip()
    if not text:
        return None
    alternatives = _split_top(text, "|") if "|" in text else [text]
    if len(alternatives) > 1:  # C | None, None | C, C | undefined
        parts = [p.strip() for p in alternatives if p.strip() not in ("None", "null", "undefined")]
        return type_from_annotation(parts[0]) if len(parts) == 1 else None
    match = _DOTTED.match(text)
    if match is None:
        return None
    dotted = re.sub(r"\s+", "", match.group(0)).replace("::", ".")
    rest = text[match.end() :].lstrip()
    module, _, name = dotted.rpartition(".")
    if name in _WRAPPERS and rest.startswith("["):
        inner = _bracketed(rest)
        if inner is not None:
            first = _split_top(inner, ",")[0]
            return type_from_annotation(first)
    if name in _NOT_CLASSES or (name == "Self" and not module):
        return None
    return TypeRef(name, module.rsplit(".", 1)[-1] if module else "")


def _bracketed(text: str) -> str | None:
    """What the bracket opening `text` holds."""
    depth = 0
    for i, char in enumerate(text):
        if char in "[<(":
            depth += 1
        elif char in "]>)":
            depth -= 1
            if depth == 0:
                return text[1:i]
    return None


def _split_top(text: str, separator: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "[(<{":
            depth += 1
        elif char in "])>}":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _annotation_at(text: str, start: int) -> str:
    """The annotation starting at `start`: up to a top-level `,` `=` `)` `;` `{` or line end."""
    depth = 0
    for i in range(start, min(len(text), start + 200)):
        char = text[i]
        if char in "[(<":
            depth += 1
        elif char in "])>":
            if depth == 0:
                return text[start:i]
            depth -= 1
        elif depth == 0 and (char in ",=;{\n" or (char == ")")):
            return text[start:i]
    return text[start : start + 200]


def _annotated(text: str, start: int) -> TypeRef | None:
    return type_from_annotation(_annotation_at(text, start))


def returned_type(signature: str, language: str | None) -> TypeRef | None:
    """The type a function's signature says it returns."""
    header = signature.split("\n{", 1)[0]
    if language == "python" or language in ("rust",):
        match = re.search(r"->\s*(.+?)\s*(?::\s*$|\{|\bwhere\b|$)", header.strip(), re.S)
        if match:
            returned = match.group(1)
            if returned.strip() == "Self":
                return None
            return type_from_annotation(_result_inner(returned, language))
        return None
    if language in ("typescript", "tsx", "javascript"):
        close = _closing_paren(header)
        if close is not None:
            after = header[close + 1 :].lstrip()
            if after.startswith(":"):
                returned = after[1:].split("{")[0].strip()
                promise = re.match(r"Promise\s*<(.+)>$", returned)
                return type_from_annotation(promise.group(1) if promise else returned)
        return None
    if language == "go":
        close = _closing_paren(header, skip_receiver=header.startswith("func ("))
        if close is not None:
            after = header[close + 1 :].strip().rstrip("{").strip()
            if after.startswith("("):
                after = _split_top(after[1:-1], ",")[0]
            return type_from_annotation(after) if after else None
        return None
    if language == "java":
        match = re.match(
            rf"\s*(?:@\w+\s+)*(?:(?:public|private|protected|static|final|abstract|synchronized|"
            rf"default)\s+)*(?:<[^>]+>\s+)?({_IDENT}(?:\.{_IDENT})*)(?:<[^>]*>)?\s+{_IDENT}\s*\(",
            header,
        )
        return type_from_annotation(match.group(1)) if match else None
    return None


_WRAPPED_RESULT = re.compile(
    r"\s*(?:Result|Option|io::Result|Awaitable|Coroutine)\s*[<\[](.+)[>\]]\s*$"
)


def _result_inner(text: str, language: str | None) -> str:
    """Rust `Result<T, E>` / `Option<T>` and Python `Awaitable[T]`: T."""
    match = _WRAPPED_RESULT.match(text)
    if match:
        inner = _split_top(match.group(1), ",")
        return inner[-1] if text.strip().startswith("Coroutine") else inner[0]
    return text


def _closing_paren(header: str, skip_receiver: bool = False) -> int | None:
    start = header.find("(")
    if skip_receiver and start >= 0:
        start = header.find("(", _match_paren(header, start) or start + 1)
    if start < 0:
        return None
    return _match_paren(header, start)


def _match_paren(text: str, start: int) -> int | None:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def base_names(signature: str, language: str | None) -> list[TypeRef]:
    """The bases a class header names: Python `class C(A, m.B):`, `extends`/`implements` in
    TypeScript and Java, `: public B` in C++, embedded fields of a Go struct."""
    header = signature.split("\n", 1)[0]
    out: list[str] = []
    if language == "python":
        open_ = header.find("(")
        close = _match_paren(header, open_) if open_ >= 0 else None
        if close is not None:
            for part in _split_top(header[open_ + 1 : close], ","):
                if "=" not in part and part.strip() and not part.strip().startswith("*"):
                    out.append(part)
    elif language in ("typescript", "tsx", "javascript", "java"):
        for keyword in ("extends", "implements"):
            match = re.search(rf"\b{keyword}\s+(.+?)(?:\bimplements\b|\{{|$)", header)
            if match:
                out.extend(_split_top(match.group(1), ","))
    elif language == "cpp":
        match = re.search(r"[^:]:(?!:)\s*(.+?)(?:\{|$)", header)
        if match:
            for part in _split_top(match.group(1), ","):
                out.append(re.sub(r"\b(?:public|private|protected|virtual)\b", "", part))
    elif language == "go":
        for line in signature.split("\n")[1:]:
            embedded = re.fullmatch(r"\s*\*?([\w.]+)\s*(?://.*)?", line)
            if embedded and embedded.group(1) != "}":
                out.append(embedded.group(1))
    refs = []
    for part in out:
        part = re.sub(r"<.*", "", part.strip())
        part = part.split("[", 1)[0]
        ref = type_from_annotation(part)
        if ref is not None:
            refs.append(ref)
    return refs


def attribute_type(class_text: str, attribute: str, language: str | None) -> TypeRef | None:
    """The type of `attribute` of a class, from the class's text or its outline."""
    name = re.escape(attribute)
    if language == "python":
        for pattern in (
            rf"\bself\.{name}\s*:\s*",  # self.x: C = ...
            rf"^[ \t]+{name}\s*:\s*",  # class-level `x: C` (dataclasses, attrs, pydantic)
        ):
            match = re.search(pattern, class_text, re.M)
            if match:
                found = _annotated(class_text, match.end())
                if found is not None:
                    return found
        for match in re.finditer(rf"\bself\.{name}\s*=\s*(?!=)", class_text):
            found = _python_value_type(class_text, match.end(), class_text[: match.start()])
            if found is not None:
                return found
        return None
    if language in ("typescript", "tsx", "javascript"):
        match = re.search(
            rf"(?:^|[\s(,;{{])(?:(?:private|public|protected|readonly|static|declare)\s+)*"
            rf"{name}\s*[?!]?\s*:\s*",
            class_text,
        )
        if match:
            found = _annotated(class_text, match.end())
            if found is not None:
                return found
        match = re.search(rf"\bthis\.{name}\s*=\s*new\s+({_IDENT}(?:\.{_IDENT})*)", class_text)
        if match:
            return type_from_annotation(match.group(1))
        match = re.search(rf"\b{name}\s*=\s*new\s+({_IDENT}(?:\.{_IDENT})*)", class_text)
        return type_from_annotation(match.group(1)) if match else None
    if language == "java" or language == "cpp":
        match = re.search(
            rf"({_IDENT}(?:(?:\.|::){_IDENT})*)(?:<[^;=(){{}}]*>)?[\s*&]+{name}\s*[;=,)]",
            class_text,
        )
        if match and match.group(1) not in ("return", "new", "this"):
            return type_from_annotation(match.group(1))
        return None
    if language == "go":
        match = re.search(rf"^\s*{name}(?:\s*,\s*\w+)*\s+(\S[^/\n]*)", class_text, re.M)
        if match:
            return type_from_annotation(match.group(1).split("`")[0].strip())
        return None
    if language == "rust":
        match = re.search(rf"(?:^|[\s,{{(])(?:pub(?:\([^)]*\))?\s+)?{name}\s*:\s*", class_text)
        if match:
            return _annotated(class_text, match.end())
    return None


# -- the code around the cursor ---------------------------------------------------------------


def _enclosing(document: SourceDocument, cursor: int) -> tuple[Node | None, Node | None]:
    """The innermost function and class (or Rust `impl`, Go method) around `cursor`."""
    tree = document.tree
    language = document.language
    if tree is None or language is None:
        return None, None
    byte = max(document.byte_offset(cursor) - 1, 0)  # the character typed last: inside the
    # function even at the end of the text, where the cursor itself is past every node
    node: Node | None = tree.root_node.descendant_for_byte_range(byte, byte)
    functions = _FUNCTIONS.get(language, ())
    classes = _CLASSES.get(language, ())
    function = klass = None
    while node is not None:
        if function is None and node.type in functions:
            function = node
        elif node.type in classes:
            klass = node
            break
        node = node.parent
    return function, klass


def _node_text(document: SourceDocument, node: Node) -> str:
    return document.text[
        document.offset_at_point(node.start_point) : document.offset_at_point(node.end_point)
    ]


def class_name_of(document: SourceDocument, klass: Node) -> str:
    """The name of a class node (for Rust's `impl T`, T)."""
    if document.language == "rust":
        node = klass.child_by_field_name("type")
    else:
        node = klass.child_by_field_name("name")
    if node is None or node.text is None:
        return ""
    text = node.text.decode("utf-8", "replace")
    return re.split(r"[<\s]", text, maxsplit=1)[0]


def receiver_type(document: SourceDocument, cursor: int, qualifier: str) -> list[str | TypeRef]:
    """What the receiver `qualifier` ("self.store", "param", "super()") of a call at `cursor`
    is: the type of its head, then the attribute names to follow from it. [] when unknown."""
    language = document.language
    if language is None or not qualifier:
        return []
    segments = qualifier.split(".")
    head, rest = segments[0], segments[1:]
    function, klass = _enclosing(document, cursor)
    text = document.text
    class_name = class_name_of(document, klass) if klass is not None else ""
    if head == "super()" or (head == "super" and _SUPER.get(language) == "super"):
        if not class_name:
            return []
        return [TypeRef(class_name, bases_only=True), *rest]
    if head in _SELF.get(language, ()):
        if not class_name:
            if language == "go":  # `s` is a receiver in Go, not `self`
                pass
            return []
        return [TypeRef(class_name), *rest]
    if language == "go" and function is not None and function.type == "method_declaration":
        receiver = function.child_by_field_name("receiver")
        if receiver is not None:
            written = _node_text(document, receiver)
            match = re.search(rf"\(\s*{re.escape(head)}\s+\*?\s*(\w+)", written)
            if match:
                return [TypeRef(match.group(1)), *rest]
    found = None
    if function is not None:
        start = document.offset_at_point(function.start_point)
        found = _local_type(text[start:cursor], head, language)
    if found is None and language == "python":
        found = _module_level_python(text, cursor, head)
    if found is None and klass is not None and language in ("java", "typescript", "tsx", "cpp"):
        found = attribute_type(_node_text(document, klass), head, language)  # implicit this
    if found is None:
        return []
    return [found, *rest]


def attribute_in_document(
    document: SourceDocument, start_line: int, end_line: int, attribute: str
) -> TypeRef | None:
    """The type of `attribute` of the class on lines `start_line`..`end_line` of `document`."""
    if document.language is None or start_line >= document.line_count:
        return None
    begin = document.line_start(start_line)
    last = min(end_line + 1, document.line_count - 1)
    stop = document.line_start(last) if end_line + 1 < document.line_count else len(document.text)
    return attribute_type(document.text[begin:stop], attribute, document.language)


def _local_type(text: str, name: str, language: str) -> TypeRef | None:
    """The type of local `name` as `text` (a function from its header to the cursor) says:
    the last assignment or declaration before the cursor wins, then the parameters."""
    n = re.escape(name)
    if language == "python":
        candidates: list[tuple[int, TypeRef | None]] = []
        for match in re.finditer(rf"^[ \t]*{n}[ \t]*:[ \t]*(?=[^=\n])", text, re.M):
            candidates.append((match.start(), _annotated(text, match.end())))
        for match in re.finditer(rf"^[ \t]*{n}[ \t]*=[ \t]*(?!=)", text, re.M):
            candidates.append((match.start(), _python_value_type(text, match.end(), text)))
        with_as = rf"^[ \t]*(?:async[ \t]+)?with[ \t]([^\n]*?)[ \t]as[ \t]+{n}\b"
        for match in re.finditer(with_as, text, re.M):
            candidates.append((match.start(), _call_type(match.group(1).rsplit(",", 1)[-1])))
        header_end = text.find(":\n")
        header = text[: header_end if header_end > 0 else 400]
        match = re.search(rf"[(,\s]\*{{0,2}}{n}\s*:\s*", header)
        if match:
            candidates.append((-1, _annotated(header, match.end())))
        return _latest(candidates)
    if language in ("typescript", "tsx", "javascript"):
        candidates = []
        for match in re.finditer(
            rf"(?:(?:const|let|var)\s+|[(,]\s*(?:(?:private|public|protected|readonly)\s+)*){n}"
            rf"\s*[?!]?\s*:\s*",
            text,
        ):
            candidates.append((match.start(), _annotated(text, match.end())))
        for match in re.finditer(rf"(?:const|let|var)\s+{n}\s*=\s*(?:await\s+)?", text):
            candidates.append((match.start(), _ts_value_type(_after(text, match.end()))))
        return _latest(candidates)
    if language == "java" or language == "cpp":
        candidates = []
        for match in re.finditer(
            rf"({_IDENT}(?:(?:\.|::){_IDENT})*)(?:<[^;=(){{}}]*>)?[\s*&]+{n}\s*[;=,):]", text
        ):
            kind = match.group(1)
            if kind in ("return", "new", "throw", "else", "this", "case"):
                continue
            if kind in ("var", "auto"):
                value = _after(text, match.end())
                candidates.append((match.start(), _ts_value_type(value)))
                continue
            candidates.append((match.start(), type_from_annotation(kind)))
        return _latest(candidates)
    if language == "go":
        candidates = []
        for match in re.finditer(rf"\bvar\s+{n}\s+([^=\n]+)", text):
            candidates.append((match.start(), type_from_annotation(match.group(1))))
        for match in re.finditer(rf"(?:^|[\s,(]){n}(?:\s*,\s*\w+)*\s*:?=\s*", text, re.M):
            candidates.append((match.start(), _go_value_type(_after(text, match.end()))))
        header = text.split("{", 1)[0]
        for match in re.finditer(rf"[(,]\s*{n}(?:\s*,\s*\w+)*\s+([^,)]+)", header):
            candidates.append((-1, type_from_annotation(match.group(1))))
        return _latest(candidates)
    if language == "rust":
        candidates = []
        for match in re.finditer(rf"\blet\s+(?:mut\s+)?{n}\s*:\s*", text):
            candidates.append((match.start(), _annotated(text, match.end())))
        for match in re.finditer(rf"\blet\s+(?:mut\s+)?{n}\s*=\s*", text):
            candidates.append((match.start(), _rust_value_type(_after(text, match.end()))))
        header = text.split("{", 1)[0]
        match = re.search(rf"[(,]\s*(?:mut\s+)?{n}\s*:\s*", header)
        if match:
            candidates.append((-1, _annotated(header, match.end())))
        return _latest(candidates)
    return None


_MODULE_ASSIGNMENT = re.compile(
    r"[ \t]*(?::[ \t]*(?P<annotation>[^=\n]+?)[ \t]*)?(?:(?P<assign>=)(?!=)[ \t]*|$)", re.M
)


def _module_level_python(text: str, cursor: int, name: str) -> TypeRef | None:
    """`name = C(...)`, `name: C = ...` or `name: C` at the start of a line of the module,
    before `cursor`, the last one first (found with `str.rfind`, so a long module costs
    little)."""
    needle = "\n" + name
    position = text.rfind(needle, 0, cursor)
    while position >= 0:
        match = _MODULE_ASSIGNMENT.match(text, position + len(needle))
        if match is not None:
            found = None
            if match.group("annotation"):
                found = type_from_annotation(match.group("annotation"))
            if found is None and match.group("assign"):
                found = _python_value_type(text, match.end(), "")
            if found is not None:
                return found
        position = text.rfind(needle, 0, position)
    return None


def _after(text: str, start: int) -> str:
    return text[start : start + 200]


def _latest(candidates: list[tuple[int, TypeRef | None]]) -> TypeRef | None:
    for _, found in sorted(candidates, key=lambda c: -c[0]):
        if found is not None:
            return found
    return None


def _python_value_type(text: str, start: int, before: str) -> TypeRef | None:
    """`C(...)`, `mod.C(...)`, `f(...)` (what f returns), or a parameter with an annotation."""
    value = text[start : start + 200].split("\n", 1)[0]
    found = _call_type(value)
    if found is not None:
        return found
    match = re.match(rf"\s*({_IDENT})\s*(?:$|#|\bor\b|\bif\b)", value)
    if match:  # self.x = x, with `x: C` a parameter of the method
        header = before[before.rfind("def ") :] if "def " in before else ""
        param = re.search(rf"[(,\s]{re.escape(match.group(1))}\s*:\s*", header)
        if param:
            return type_from_annotation(_annotation_at(header, param.end()))
    return None


_CALL = re.compile(rf"\s*(?:await\s+)?({_IDENT}(?:\s*\.\s*{_IDENT})*)\s*(?:\[[^\]]*\])?\s*\(")


def _call_type(value: str) -> TypeRef | None:
    match = _CALL.match(value)
    if match is None:
        return None
    dotted = re.sub(r"\s+", "", match.group(1))
    module, _, name = dotted.rpartition(".")
    if name in _NOT_CLASSES or module.split(".")[0] in ("self", "cls", "this"):
        return None
    return TypeRef(name, module.rsplit(".", 1)[-1], returned_by=not name[:1].isupper())


def _ts_value_type(value: str) -> TypeRef | None:
    match = re.match(rf"\s*new\s+({_IDENT}(?:\.{_IDENT})*)", value)
    if match:
        return type_from_annotation(match.group(1))
    match = re.match(rf"\s*({_IDENT}(?:\.{_IDENT})*)\s*(?:<[^>]*>)?\s*\(", value)
    if match:
        module, _, name = match.group(1).rpartition(".")
        if module.split(".")[0] in ("this", "self"):
            return None
        if module and name in ("create", "getInstance", "of", "from", "builder", "build", "new"):
            return TypeRef(module.rsplit(".", 1)[-1])
        return TypeRef(name, module.rsplit(".", 1)[-1], returned_by=True)
    return None


def _go_value_type(value: str) -> TypeRef | None:
    match = re.match(rf"\s*&?\s*({_IDENT}(?:\.{_IDENT})?)\s*\{{", value)
    if match:
        return type_from_annotation(match.group(1))
    match = re.match(rf"\s*({_IDENT}(?:\.{_IDENT})?)\s*\(", value)
    if match:
        module, _, name = match.group(1).rpartition(".")
        return TypeRef(name, module, returned_by=True)
    match = re.match(rf"\s*new\(\s*({_IDENT}(?:\.{_IDENT})?)\s*\)", value)
    return type_from_annotation(match.group(1)) if match else None


_RUST_VALUE = re.compile(
    rf"\s*&?(?:mut\s+)?({_IDENT}(?:::{_IDENT})*)\s*(::\s*<[^>]*>)?\s*([{{(]|::)"
)


def _rust_value_type(value: str) -> TypeRef | None:
    match = _RUST_VALUE.match(value)
    if match is None:
        return None
    path = match.group(1).split("::")
    if match.group(3) == "{" or (match.group(3) == "(" and path[-1][:1].isupper()):
        return TypeRef(path[-1], path[-2] if len(path) > 1 else "")
    if len(path) >= 2 and path[-2][:1].isupper():  # T::new(), T::with_capacity()
        if path[-1] in ("new", "default", "from", "with_capacity", "builder", "open", "connect"):
            return TypeRef(path[-2], path[-3] if len(path) > 2 else "")
        return TypeRef(path[-1], path[-2], returned_by=True)
    return TypeRef(path[-1], path[-2] if len(path) > 1 else "", returned_by=True)
