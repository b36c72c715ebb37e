"""Imports read per language, and resolved to the workspace's files by each language's rules."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

import pytest

from qwen_lsp.context.imports import (
    ImportRef,
    Resolved,
    expand_use_tree,
    implicit_files,
    read_go_module,
    read_imports,
    resolve,
)
from qwen_lsp.context.languages import get_parser


class Files:
    """A workspace's file list (what WorkspaceIndex answers from its entries)."""

    def __init__(self, *paths: str, go_modules: dict[str, str] | None = None) -> None:
        self.paths = set(paths)
        self.modules = go_modules or {}

    def has(self, path: str) -> bool:
        return path in self.paths

    def files_in(self, directory: str) -> Sequence[str]:
        return sorted(p for p in self.paths if posixpath.dirname(p) == directory)

    def ending_with(self, suffix: str) -> Sequence[str]:
        return sorted(p for p in self.paths if p == suffix or p.endswith("/" + suffix))

    def folders_ending_with(self, suffix: str) -> Sequence[str]:
        folders = {posixpath.dirname(p) for p in self.paths}
        return sorted(f for f in folders if f == suffix or f.endswith("/" + suffix))

    def go_modules(self) -> dict[str, str]:
        return self.modules

    def ts_paths(self, from_path: str) -> None:
        return None


def imports_of(language: str, source: str) -> list[tuple[str, tuple, str]]:
    data = source.encode()
    refs = read_imports(get_parser(language).parse(data), data, language)
    return [(r.module, r.names, r.alias) for r in refs]


READ = {
    "python": (
        "import os, a.b as ab\nfrom .x import y as z, w\nfrom .. import q\nfrom m import *\n",
        [
            ("os", (), ""),
            ("a.b", (), "ab"),
            (".x", (("y", "z"), ("w", "w")), ""),
            ("..", (("q", "q"),), ""),
            ("m", (("*", "*"),), ""),
        ],
    ),
    "typescript": (
        'import { a, b as c } from "./x";\nimport * as ns from "../y";\n'
        'import def from "./d";\nexport * from "./e";\nconst r = require("./f");\n',
        [
            ("./x", (("a", "a"), ("b", "c")), ""),
            ("../y", (), "ns"),
            ("./d", (("default", "def"),), ""),
            ("./e", (("*", "*"),), ""),
            ("./f", (), "r"),
        ],
    ),
    "javascript": (
        'const { p, q: qq } = require("./g");\n',
        [("./g", (("p", "p"), ("q", "qq")), "")],
    ),
    "go": (
        'package main\nimport (\n\t"fmt"\n\tm "example.com/x/mathx"\n\t. "example.com/dot"\n)\n',
        [
            ("fmt", (), "fmt"),
            ("example.com/x/mathx", (), "m"),
            ("example.com/dot", (("*", "*"),), ""),
        ],
    ),
    "rust": (
        "use crate::geo::{Point, shapes::Circle as C};\nuse super::util::*;\nmod inner;\n",
        [
            ("crate::geo", (("Point", "Point"),), ""),
            ("crate::geo::shapes", (("Circle", "C"),), ""),
            ("super::util", (("*", "*"),), ""),
            ("mod::inner", (), "inner"),
        ],
    ),
    "java": (
        "import a.b.Strings;\nimport static a.b.Math.sqrt;\nimport a.shapes.*;\n",
        [
            ("a.b.Strings", (), "Strings"),
            ("a.b.Math", (("sqrt", "sqrt"),), ""),
            ("a.shapes", (("*", "*"),), ""),
        ],
    ),
    "c": (
        '#include "util/strs.h"\n#include <stdio.h>\n',
        [("util/strs.h", (("*", "*"),), ""), ("stdio.h", (("*", "*"),), "")],
    ),
}


@pytest.mark.parametrize("language", sorted(READ))
def test_imports_are_read(language: str):
    source, expected = READ[language]
    assert imports_of(language, source) == expected


def test_use_trees_expand_to_paths():
    assert expand_use_tree("a::{b, c::d as e, f::*, self}") == [
        ("a::b", "b"),
        ("a::c::d", "e"),
        ("a::f::*", "*"),
        ("a::self", "a"),
    ]
    assert expand_use_tree("std::fmt") == [("std::fmt", "fmt")]


def where(language: str, ref: ImportRef, here: str, files: Files) -> list[Resolved]:
    return resolve(ref, here, language, files)


def test_python_absolute_relative_and_submodule_imports():
    files = Files("src/pkg/__init__.py", "src/pkg/core.py", "src/pkg/sub/util.py", "app.py")
    assert where("python", ImportRef("pkg.core"), "app.py", files) == [
        Resolved("src/pkg/core.py", (), "pkg.core")
    ]
    from_pkg = ImportRef("pkg", (("core", "core"), ("thing", "thing")))
    assert where("python", from_pkg, "app.py", files) == [
        Resolved("src/pkg/core.py", (), "core"),  # a submodule
        Resolved("src/pkg/__init__.py", (("thing", "thing"),), ""),  # a name in the package
    ]
    relative = ImportRef("..core", (("X", "X"),))
    assert where("python", relative, "src/pkg/sub/util.py", files) == [
        Resolved("src/pkg/core.py", (("X", "X"),), "")
    ]
    assert where("python", ImportRef("os"), "app.py", files) == []  # the standard library


def test_javascript_specifiers_with_extensions_and_index_files():
    files = Files("src/a.ts", "src/lib/index.tsx", "src/b.js", "src/c.ts")
    here = "src/main.ts"
    assert where("typescript", ImportRef("./a"), here, files)[0].path == "src/a.ts"
    assert where("typescript", ImportRef("./lib"), here, files)[0].path == "src/lib/index.tsx"
    assert where("typescript", ImportRef("./b.js"), here, files)[0].path == "src/b.js"
    assert where("typescript", ImportRef("./c.js"), here, files)[0].path == "src/c.ts"  # ESM
    assert where("typescript", ImportRef("@/a"), here, files)[0].path == "src/a.ts"
    assert where("typescript", ImportRef("react"), here, files) == []


def test_go_packages_under_the_module_path_and_the_same_package():
    files = Files(
        "go.mod-is-not-listed",
        "geo/geo.go",
        "geo/shapes.go",
        "geo/geo_test.go",
        "cmd/app/main.go",
        "cmd/app/flags.go",
        go_modules={"example.com/m": ""},
    )
    found = where("go", ImportRef("example.com/m/geo", (), "geo"), "cmd/app/main.go", files)
    assert [r.path for r in found] == ["geo/geo.go", "geo/shapes.go"]
    assert all(r.alias == "geo" for r in found)
    assert implicit_files("cmd/app/main.go", "go", files) == ["cmd/app/flags.go"]
    assert read_go_module("// x\nmodule example.com/m\n\ngo 1.22\n") == "example.com/m"


def test_rust_crate_super_and_mod_paths():
    files = Files("src/lib.rs", "src/geo.rs", "src/geo/shapes.rs", "src/util/mod.rs")
    assert where(
        "rust", ImportRef("crate::geo", (("Point", "Point"),)), "src/util/mod.rs", files
    ) == [Resolved("src/geo.rs", (("Point", "Point"),), "")]
    shapes = ImportRef("crate::geo", (("shapes", "shapes"),))  # a module, not an item
    assert where("rust", shapes, "src/lib.rs", files) == [
        Resolved("src/geo/shapes.rs", (), "shapes")
    ]
    up = ImportRef("super::geo", (("Point", "P"),))
    assert where("rust", up, "src/util/mod.rs", files)[0].path == "src/geo.rs"
    assert where("rust", ImportRef("mod::geo", (), "geo"), "src/lib.rs", files)[0].path == (
        "src/geo.rs"
    )
    assert where("rust", ImportRef("std", (("fmt", "fmt"),)), "src/lib.rs", files) == []


def test_java_classes_static_members_wildcards_and_the_same_package():
    files = Files(
        "src/main/java/a/b/Strings.java",
        "src/main/java/a/b/Math.java",
        "src/main/java/a/shapes/Circle.java",
        "src/main/java/a/shapes/Square.java",
        "src/main/java/a/app/Main.java",
        "src/main/java/a/app/Helper.java",
    )
    here = "src/main/java/a/app/Main.java"
    assert where("java", ImportRef("a.b.Strings", (), "Strings"), here, files) == [
        Resolved("src/main/java/a/b/Strings.java", (), "Strings")
    ]
    static = where("java", ImportRef("a.b.Math", (("sqrt", "sqrt"),)), here, files)
    assert static == [Resolved("src/main/java/a/b/Math.java", (("sqrt", "sqrt"),), "")]
    wildcard = where("java", ImportRef("a.shapes", (("*", "*"),)), here, files)
    assert sorted(r.path for r in wildcard) == [
        "src/main/java/a/shapes/Circle.java",
        "src/main/java/a/shapes/Square.java",
    ]
    assert implicit_files(here, "java", files) == ["src/main/java/a/app/Helper.java"]


def test_c_includes_beside_the_file_then_anywhere():
    files = Files("src/util.h", "include/geo/point.h", "src/main.c")
    assert where("c", ImportRef("util.h"), "src/main.c", files)[0].path == "src/util.h"
    assert where("cpp", ImportRef("geo/point.h"), "src/main.c", files)[0].path == (
        "include/geo/point.h"
    )
    assert where("c", ImportRef("stdio.h"), "src/main.c", files) == []
