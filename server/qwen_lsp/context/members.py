"""The definitions a typed receiver leads to: its class, the class's bases, their members.

`receivers.py` says what type a receiver has, as written in the code (`TypeRef`); this module
finds that type's definitions through the index, the way the file that names it sees them
(its imports first, then its own definitions, then the files of its package, then the
nearest definition of that name), and from a class finds a member: in the class, then in its
bases (as the class's header names them, resolved from the class's own file), nearest first,
several levels deep and across files. Go and Rust methods live beside their type rather than
inside it: a method whose scope is the type's name counts wherever it is defined in the type's
folder (Go) or anywhere in the workspace (Rust).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from qwen_lsp.context.index import WorkspaceIndex
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.receivers import (
    TypeRef,
    attribute_in_document,
    attribute_type,
    base_names,
    returned_type,
)
from qwen_lsp.context.tags import Definition

CLASS_KINDS = frozenset({"class", "interface", "type", "enum"})
MAX_BASE_DEPTH = 5
MAX_OVERLOADS = 3
_NOT_FOUND: list[tuple[str, Definition]] = []

Found = tuple[str, Definition]


class MemberFinder:
    """Finds types and members for one completion (memoised: a keystroke asks for the same
    types several times)."""

    def __init__(
        self, index: WorkspaceIndex, here: str, document: SourceDocument | None = None
    ) -> None:
        self.index = index
        self.here = here
        self.document = document
        self._types: dict[tuple[str, TypeRef], list[Found]] = {}

    def language_of(self, path: str) -> str | None:
        entry = self.index.entry(path)
        return entry.language if entry is not None else None

    # -- types ------------------------------------------------------------------------------

    def types(self, ref: TypeRef, seen_from: str | None = None, depth: int = 0) -> list[Found]:
        """The class definitions `ref` names, as the file `seen_from` sees them."""
        origin = seen_from or self.here
        key = (origin, ref)
        cached = self._types.get(key)
        if cached is not None:
            return cached
        self._types[key] = _NOT_FOUND  # a cycle (a function returning its own call) ends here
        found = self._types_uncached(ref, origin, depth)
        self._types[key] = found
        return found

    def _types_uncached(self, ref: TypeRef, origin: str, depth: int) -> list[Found]:
        if ref.returned_by:
            if depth > 3:
                return []
            out: list[Found] = []
            for path, function in self._named(ref.name, ref.module, origin, kinds=None):
                if function.kind in CLASS_KINDS:
                    out.append((path, function))
                    continue
                returned = returned_type(function.signature, self.language_of(path))
                if returned is None and "Self" in function.signature and function.scope:
                    returned = TypeRef(function.scope)
                if returned is not None:
                    out.extend(self.types(returned, path, depth + 1))
            return out[:2]
        return self._named(ref.name, ref.module, origin, kinds=CLASS_KINDS)[:2]

    def _named(
        self, name: str, module: str, origin: str, *, kinds: frozenset[str] | None
    ) -> list[Found]:
        index = self.index

        def wanted(items: Sequence[Found]) -> list[Found]:
            return [(p, d) for p, d in items if kinds is None or d.kind in kinds]

        scope = index.scope(origin)
        if scope is not None:
            if module:
                files = scope.modules.get(module) or []
                found = wanted([f for path in files for f in index.exported(path, name)])
                if found:
                    return found
            imported = scope.names.get(name, [])
            found = wanted([f for o, original in imported for f in index.exported(o, original)])
            if found:
                return found
        own = wanted(self._defined_in(origin, name))
        if own:
            return own
        if scope is not None:
            for other in scope.open_files:  # Go and Java: the files of the same package
                found = wanted(self._defined_in(other, name))
                if found:
                    return found
        candidates = wanted(index.lookup(name))
        return nearest(candidates, origin)[:2]

    def _defined_in(self, path: str, name: str) -> list[Found]:
        """The definitions of `name` in `path`, through the name table (a file of thousands of
        definitions is not walked)."""
        return [(p, d) for p, d in self.index.lookup(name) if p == path]

    # -- members ----------------------------------------------------------------------------

    def member(
        self, classes: Sequence[Found], name: str, *, bases_only: bool = False
    ) -> list[Found]:
        """`name` as a member of the first class in `classes` (or its nearest base) that
        defines it."""
        for path, cls, depth in self._with_bases(classes):
            if not (bases_only and depth == 0):
                found = self._own_member(path, cls, name)
                if found:
                    return found
        return []

    def _with_bases(self, classes: Sequence[Found]) -> Iterator[tuple[str, Definition, int]]:
        """`classes`, then their bases, nearest first (each once, `MAX_BASE_DEPTH` deep), with
        how many levels up each is; the bases are looked up only when asked for."""
        queue = [(path, cls, 0) for path, cls in classes]
        seen: set[tuple[str, str, int]] = set()
        while queue:
            path, cls, depth = queue.pop(0)
            key = (path, cls.name, cls.line)
            if key in seen:
                continue
            seen.add(key)
            yield path, cls, depth
            if depth < MAX_BASE_DEPTH:
                queue.extend((p, d, depth + 1) for p, d in self._bases(path, cls))

    def _own_member(self, path: str, cls: Definition, name: str) -> list[Found]:
        found = [(p, d) for p, d in self._defined_in(path, name) if d.scope == cls.name]
        language = self.language_of(path)
        if found:
            # Python's `@overload`s come first and the implementation last; elsewhere each
            # overload is real (Java's `add(long)` and `add(long[])`): the first few
            return found[-1:] if language == "python" else found[:MAX_OVERLOADS]
        if language not in ("go", "rust"):
            return []
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        beside = [
            (p, d)
            for p, d in self.index.lookup(name)
            if d.scope == cls.name
            and (language == "rust" or (p.rsplit("/", 1)[0] if "/" in p else "") == folder)
        ]
        return nearest(beside, path)[:1]

    def _bases(self, path: str, cls: Definition) -> list[Found]:
        language = self.language_of(path)
        out: list[Found] = []
        for base in base_names(cls.signature, language):
            out.extend(self.types(base, path))
        return out

    def attribute(self, classes: Sequence[Found], name: str) -> list[Found]:
        """The classes of attribute `name` of the first of `classes` (or a base) that
        declares it."""
        for path, cls, _ in self._with_bases(classes):
            ref = None
            if path == self.here and self.document is not None:
                ref = attribute_in_document(self.document, cls.line, cls.end_line, name)
            if ref is None:
                ref = attribute_type(cls.signature, name, self.language_of(path))
            if ref is not None:
                found = self.types(ref, path)
                if found:
                    return found
        return []

    def follow(self, chain: Sequence[str | TypeRef]) -> tuple[list[Found], bool]:
        """The classes a receiver chain (a TypeRef, then attribute names) ends at, and whether
        the last step was `super` (members are then looked up from the bases)."""
        if not chain or not isinstance(chain[0], TypeRef):
            return [], False
        head = chain[0]
        plain = TypeRef(head.name, head.module, head.returned_by)
        classes = self.types(plain)
        bases_only = head.bases_only
        for attribute in chain[1:]:
            if not classes:
                return [], False
            if bases_only:
                classes = [b for p, c in classes for b in self._bases(p, c)]
                bases_only = False
            classes = self.attribute(classes, str(attribute))
        return classes, bases_only


def nearest(candidates: Sequence[Found], here: str) -> list[Found]:
    """Definitions in the folders nearest `here` first."""

    def shared(item: Found) -> int:
        count = 0
        for a, b in zip(here.split("/"), item[0].split("/"), strict=False):
            if a != b:
                break
            count += 1
        return count

    return sorted(candidates, key=shared, reverse=True)
