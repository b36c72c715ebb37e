"""Context that follows types: at `recv.method(█`, the prompt holds the method of the
receiver's inferred class (or its nearest base), not a same-named method of another class.

Each case is a small workspace written to a real git work tree: the class with the method in
one file, a decoy class with a same-named method (and a different signature) in another, and
the call site with the cursor in a third. The decoy file is nearer the call site, so a lookup
by name alone would pick it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.receivers import (
    TypeRef,
    base_names,
    receiver_type,
    returned_type,
    type_from_annotation,
)
from qwen_lsp.model import Position
from tests.unit.context_repos import Checkout, context_at, indexed_workspace, related_text

CURSOR = "█"


def workspace_with(tmp_path: Path, files: dict[str, str]) -> Checkout:
    root = tmp_path / "repo"
    found = None
    for relative, text in files.items():
        file = root / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        if CURSOR in text:
            before = text[: text.index(CURSOR)]
            position = Position(before.count("\n"), len(before) - (before.rfind("\n") + 1))
            text = text.replace(CURSOR, "")
            found = Checkout(root, relative, text, position)
        file.write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert found is not None
    return found


def related_at(tmp_path: Path, files: dict[str, str]) -> str:
    checkout = workspace_with(tmp_path, files)
    workspace = indexed_workspace(checkout.root)
    return related_text(context_at(checkout, workspace))


PY_STORE = """\
class Store:
    \"\"\"Rows on disk.\"\"\"

    def fetch(self, key: str, *, fresh: bool = False) -> bytes:
        \"\"\"The row stored under `key`.\"\"\"
        return b""

    def _evict(self, count: int) -> None:
        \"\"\"Drop the oldest rows.\"\"\"
"""
PY_DECOY = """\
class Remote:
    def fetch(self, url: str, timeout: float) -> str:
        return ""

    def _evict(self, host: str) -> None:
        pass
"""

PYTHON_CASES = {
    "self.attr = C()": """\
from store import Store


class Service:
    def __init__(self) -> None:
        self.store = Store()
        self.remote = None

    def handle(self, key):
        return self.store.fetch(█)
""",
    "self.attr = param with param: C": """\
from store import Store


class Service:
    def __init__(self, store: Store) -> None:
        self.store = store

    def handle(self, key):
        return self.store.fetch(█)
""",
    "class-level annotation": """\
from dataclasses import dataclass

from store import Store


@dataclass
class Service:
    store: Store

    def handle(self, key):
        return self.store.fetch(█)
""",
    "param: Optional[C]": """\
from typing import Optional

from store import Store


def handle(store: Optional[Store], key):
    return store.fetch(█)
""",
    "param: C | None": """\
from store import Store


def handle(key, store: "Store | None" = None):
    return store.fetch(█)
""",
    "var = C()": """\
import store as storage


def handle(key):
    rows = storage.Store()
    return rows.fetch(█)
""",
    "var = f() with f() -> C": """\
from factory import open_store


def handle(key):
    rows = open_store()
    return rows.fetch(█)
""",
    "with C() as var": """\
from store import Store


def handle(key):
    with Store() as rows:
        return rows.fetch(█)
""",
    "super() across files, two levels": """\
from middle import Middle


class Leaf(Middle):
    def fetch(self, key: str, *, fresh: bool = False) -> bytes:
        return super().fetch(█)
""",
    "private method": """\
from store import Store


def trim(store: Store):
    store._evict(█)
""",
}


@pytest.mark.parametrize("case", sorted(PYTHON_CASES))
def test_python_receivers_lead_to_the_method_of_their_class(tmp_path: Path, case: str):
    files = {
        "store.py": PY_STORE,
        "factory.py": "from store import Store\n\n\ndef open_store() -> Store:\n    ...\n",
        "middle.py": "from store import Store\n\n\nclass Middle(Store):\n    pass\n",
        "app/remote.py": PY_DECOY,
        "app/service.py": PYTHON_CASES[case],
    }
    related = related_at(tmp_path, files)
    if "_evict(" in PYTHON_CASES[case]:
        assert "def _evict(self, count: int) -> None:" in related
        assert "Drop the oldest rows." in related  # the first doc line comes with it
        assert "def _evict(self, host: str)" not in related
    else:
        assert "def fetch(self, key: str, *, fresh: bool = False) -> bytes:" in related, related
        assert "def fetch(self, url: str, timeout: float)" not in related, related


def test_without_a_known_class_the_guess_by_name_still_comes(tmp_path: Path):
    files = {
        "store.py": PY_STORE,
        "app/service.py": "def handle(thing, key):\n    return thing.fetch(█)\n",
    }
    assert "def fetch(self, key: str" in related_at(tmp_path, files)


def test_a_long_outline_does_not_hide_the_method_the_cursor_needs(tmp_path: Path):
    members = "".join(
        f"    def method_{i}(self, value: int, other: str = 'x') -> int:\n        return {i}\n\n"
        for i in range(60)
    )
    files = {
        "big.py": f"class Big:\n{members}    def wanted(self, flag: bool) -> None:\n        pass\n",
        "use.py": "from big import Big\n\n\ndef go(big: Big):\n    big.wanted(█)\n",
    }
    related = related_at(tmp_path, files)
    assert "def wanted(self, flag: bool) -> None:" in related


TS_STORE = "export class Store {\n  fetch(key: string, fresh: boolean): Uint8Array {}\n}\n"
TS_REMOTE = "export class Remote {\n  fetch(url: string, timeout: number): string {}\n}\n"
JAVA_STORE = """\
package com.acme.store;

public class Store {
    public byte[] fetch(String key, boolean fresh) {
        return null;
    }
}
"""
JAVA_REMOTE = """\
package com.acme.app;

public class Remote {
    public String fetch(String url, double timeout) {
        return null;
    }
}
"""
JAVA_SERVICE = """\
package com.acme.app;

import com.acme.store.Store;

public class Service {
    private Store store;

    public byte[] handle(String key) {
        return store.fetch(█);
    }
}
"""
GO_SERVICE = """\
package service

import "example.com/shop/store"

type Service struct {
\tstore *store.Store
}

func (s *Service) Handle(key string) []byte {
\treturn s.store.Fetch(█)
}
"""
RUST_STORE = """\
pub struct Store {}

impl Store {
    pub fn new() -> Self {
        Store {}
    }
    pub fn fetch(&self, key: &str, fresh: bool) -> Vec<u8> {
        Vec::new()
    }
}
"""
RUST_REMOTE = """\
pub struct Remote {}

impl Remote {
    pub fn fetch(&self, url: &str, timeout: f64) -> String {
        String::new()
    }
}
"""
OTHER_LANGUAGES = {
    "typescript typed field": {
        "src/store.ts": TS_STORE,
        "src/app/remote.ts": TS_REMOTE,
        "src/app/service.ts": """\
import { Store } from '../store';

export class Service {
  private store: Store;
  constructor(private other: number) {
    this.store = new Store();
  }
  handle(key: string) {
    return this.store.fetch(█);
  }
}
""",
    },
    "typescript new C() and extends": {
        "src/base.ts": TS_STORE.replace("class Store", "class Base"),
        "src/store.ts": "import { Base } from './base';\nexport class Store extends Base {}\n",
        "src/app/remote.ts": TS_REMOTE,
        "src/app/service.ts": """\
import { Store } from '../store';

export function handle(key: string) {
  const rows = new Store();
  return rows.fetch(█);
}
""",
    },
    "java declared type and field": {
        "src/main/java/com/acme/store/Store.java": JAVA_STORE,
        "src/main/java/com/acme/app/Remote.java": JAVA_REMOTE,
        "src/main/java/com/acme/app/Service.java": JAVA_SERVICE,
    },
    "go receiver field": {
        "go.mod": "module example.com/shop\n\ngo 1.22\n",
        "store/store.go": "package store\n\ntype Store struct{}\n\n"
        "func (s *Store) Fetch(key string, fresh bool) []byte {\n\treturn nil\n}\n",
        "remote/remote.go": "package remote\n\ntype Remote struct{}\n\n"
        'func (r *Remote) Fetch(url string, timeout float64) string {\n\treturn ""\n}\n',
        "service/service.go": GO_SERVICE,
    },
    "rust let x = T::new()": {
        "Cargo.toml": '[package]\nname = "shop"\nversion = "0.1.0"\n',
        "src/main.rs": "mod store;\nmod remote;\nmod service;\nfn main() {}\n",
        "src/store.rs": RUST_STORE,
        "src/remote.rs": RUST_REMOTE,
        "src/service.rs": "use crate::store::Store;\n\npub fn handle(key: &str) -> Vec<u8> {\n"
        "    let rows = Store::new();\n    rows.fetch(█)\n}\n",
    },
}
WANTED = {
    "typescript": ("fetch(key: string, fresh: boolean)", "fetch(url: string"),
    "java": ("public byte[] fetch(String key, boolean fresh)", "fetch(String url"),
    "go": ("Fetch(key string, fresh bool)", "Fetch(url string"),
    "rust": ("pub fn fetch(&self, key: &str, fresh: bool)", "fetch(&self, url"),
}


@pytest.mark.parametrize("case", sorted(OTHER_LANGUAGES))
def test_other_languages_follow_types_too(tmp_path: Path, case: str):
    wanted, decoy = WANTED[case.split()[0]]
    related = related_at(tmp_path, OTHER_LANGUAGES[case])
    assert wanted in related, related
    assert decoy not in related, related


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("Store", TypeRef("Store")),
        ("store.Store", TypeRef("Store", "store")),
        ("Optional[Store]", TypeRef("Store")),
        ("Store | None", TypeRef("Store")),
        ("None | Store", TypeRef("Store")),
        ("'Store'", TypeRef("Store")),
        ("Mapping[str, Store]", TypeRef("Mapping")),  # a generic's outer type
        ("*Store", TypeRef("Store")),
        ("&mut Store", TypeRef("Store")),
        ("Store | Remote", None),
        ("str", None),
        ("", None),
    ],
)
def test_annotations_name_their_class(annotation: str, expected: TypeRef | None):
    assert type_from_annotation(annotation) == expected


@pytest.mark.parametrize(
    ("signature", "language", "expected"),
    [
        ("def open_store(path) -> Store:", "python", "Store"),
        ("async def open_store() -> Optional[Store]:", "python", "Store"),
        ("function openStore(path: string): Store", "typescript", "Store"),
        ("async function openStore(): Promise<Store>", "typescript", "Store"),
        ("func NewStore(path string) (*Store, error)", "go", "Store"),
        ("func (f *Factory) Make() *Store", "go", "Store"),
        ("pub fn open(path: &str) -> Result<Store, Error>", "rust", "Store"),
        ("public static Store open(String path)", "java", "Store"),
    ],
)
def test_return_annotations_name_their_class(signature: str, language: str, expected: str):
    found = returned_type(signature, language)
    assert found is not None and found.name == expected


@pytest.mark.parametrize(
    ("header", "language", "expected"),
    [
        ("class Leaf(Middle, mixins.Logged, metaclass=Meta):", "python", ["Middle", "Logged"]),
        ("class Leaf(Generic[T], Base[T]):", "python", ["Generic", "Base"]),
        ("export class Leaf extends Base implements Named {", "typescript", ["Base", "Named"]),
        (
            "public class Leaf extends Base implements Named, Sized {",
            "java",
            ["Base", "Named", "Sized"],
        ),
        ("class Leaf : public Base, private Other {", "cpp", ["Base", "Other"]),
    ],
)
def test_class_headers_name_their_bases(header: str, language: str, expected: list[str]):
    assert [b.name for b in base_names(header, language)] == expected


def test_the_last_assignment_before_the_cursor_wins():
    text = "def f():\n    x = Store()\n    x = Remote()\n    x.fetch(\n"
    document = SourceDocument(text, "python")
    cursor = text.index("x.fetch(") + len("x.fetch(")
    assert receiver_type(document, cursor, "x") == [TypeRef("Remote")]


def test_a_chain_is_followed_from_its_head():
    text = "class S:\n    def go(self):\n        self.a.b.fetch(\n"
    document = SourceDocument(text, language_for(None, "s.py"))
    cursor = text.index("fetch(") + len("fetch(")
    assert receiver_type(document, cursor, "self.a.b") == [TypeRef("S"), "a", "b"]


# -- resolving imports the index could not follow before --------------------------------------


TS_BASE_CONFIG = """\
{
  // shared by the packages (comments and trailing commas, as tsconfig allows)
  "compilerOptions": {
    "baseUrl": ".",
    "paths": {
      "@shop/*": ["packages/shop/src/*",],
      "#money": ["packages/money/index.ts"],
    },
  },
}
"""


def test_typescript_paths_from_an_extended_tsconfig_resolve(tmp_path: Path):
    files = {
        "tsconfig.base.json": TS_BASE_CONFIG,
        "apps/web/tsconfig.json": '{"extends": "../../tsconfig.base", "include": ["src"]}',
        "packages/shop/src/cart.ts": "export function addToCart(sku: string, count: number):"
        " void {}\n",
        "packages/money/index.ts": "export function formatPrice(cents: number, currency:"
        " string): string {}\n",
        "apps/web/src/legacy/cart.ts": "export function addToCart(item: object): void {}\n",
        "apps/web/src/legacy/money.ts": "export function formatPrice(value: number): string {}\n",
        "apps/web/src/page.ts": "import { addToCart } from '@shop/cart';\n"
        "import { formatPrice } from '#money';\n\nexport function buy() {\n"
        "  formatPrice(1, 'EUR');\n  addToCart(█\n}\n",
    }
    related = related_at(tmp_path, files)
    assert "addToCart(sku: string, count: number)" in related
    assert "formatPrice(cents: number, currency: string)" in related
    assert "addToCart(item" not in related and "formatPrice(value" not in related


def test_jsconfig_base_url_resolves_bare_specifiers(tmp_path: Path):
    files = {
        "jsconfig.json": '{"compilerOptions": {"baseUrl": "src"}}',
        "src/lib/totals.js": "export function grandTotal(lines, taxRate) {\n  return 0;\n}\n",
        "src/old/totals.js": "export function grandTotal(order) {\n  return 0;\n}\n",
        "src/app.js": "import { grandTotal } from 'lib/totals';\n\ngrandTotal(█\n",
    }
    related = related_at(tmp_path, files)
    assert "grandTotal(lines, taxRate)" in related
    assert "grandTotal(order)" not in related


def test_go_packages_resolve_without_a_go_mod(tmp_path: Path):
    files = {
        "src/github.com/acme/shop/store/store.go": "package store\n\n"
        "func Open(path string, readOnly bool) *Store {\n\treturn nil\n}\n\ntype Store struct{}\n",
        "src/github.com/acme/shop/other/store.go": "package other\n\n"
        "func Open(name string) error {\n\treturn nil\n}\n",
        "src/github.com/acme/shop/cmd/main.go": "package main\n\n"
        'import "github.com/acme/shop/store"\n\nfunc main() {\n\tstore.Open(█)\n}\n',
    }
    related = related_at(tmp_path, files)
    assert "func Open(path string, readOnly bool) *Store" in related
    assert "func Open(name string) error" not in related


def test_jsonc_and_ts_paths_edge_cases():
    from qwen_lsp.context.imports import parse_jsonc, read_ts_config

    assert parse_jsonc('{"a": "// not a comment", /* c */ "b": [1,],}') == {
        "a": "// not a comment",
        "b": [1],
    }
    assert parse_jsonc("{oops") is None
    configs = {
        "a/tsconfig.json": '{"extends": "./b.json", "compilerOptions": {"paths": {"x": ["y"]}}}',
        "a/b.json": '{"compilerOptions": {"baseUrl": "src"}}',
        "loop/tsconfig.json": '{"extends": "./tsconfig.json"}',
        "out/tsconfig.json": '{"extends": "../../elsewhere.json"}',
    }
    found = read_ts_config("a/tsconfig.json", configs.get)
    assert found is not None and found.base == "a/src" and found.paths == (("x", ("y",)),)
    assert read_ts_config("loop/tsconfig.json", configs.get) is None  # ends, finds nothing
    assert read_ts_config("out/tsconfig.json", configs.get) is None  # never leaves the folder


def test_cpp_namespaces_pick_the_namespace_named(tmp_path: Path):
    files = {
        "include/geo.h": "namespace geo {\ndouble area(const Shape& shape, int precision);\n}\n",
        "src/paint/paint.h": "namespace paint {\ndouble area(const Canvas& canvas);\n}\n",
        "src/paint/draw.cpp": '#include "geo.h"\n#include "paint.h"\n\n'
        "double total(const Shape& s) {\n    return geo::area(█\n}\n",
    }
    related = related_at(tmp_path, files)
    assert "double area(const Shape& shape, int precision);" in related
    assert "area(const Canvas& canvas)" not in related


def test_cpp_namespace_members_are_found_unqualified_too(tmp_path: Path):
    files = {
        "include/geo.h": "namespace geo {\ndouble perimeter(const Shape& shape);\n}\n",
        "src/main.cpp": '#include "geo.h"\nusing namespace geo;\n\nint main() {\n'
        "    perimeter(█\n}\n",
    }
    assert "double perimeter(const Shape& shape);" in related_at(tmp_path, files)


def test_java_overloads_all_come_and_python_overloads_give_way_to_the_implementation(
    tmp_path: Path,
):
    java = {
        "src/main/java/a/Sink.java": "package a;\n\npublic class Sink {\n"
        "    void add(long v) {}\n    void add(long[] v) {}\n}\n",
        "src/main/java/a/Use.java": "package a;\n\npublic class Use {\n    private Sink sink;\n"
        "    void go() {\n        sink.add(█);\n    }\n}\n",
    }
    related = related_at(tmp_path / "java", java)
    assert "void add(long v)" in related and "void add(long[] v)" in related
    python = {
        "sink.py": "from typing import overload\n\n\nclass Sink:\n    @overload\n"
        "    def add(self, v: int) -> None: ...\n    @overload\n"
        "    def add(self, v: list[int]) -> None: ...\n"
        "    def add(self, v: int | list[int]) -> None:\n        pass\n",
        "use.py": "from sink import Sink\n\n\ndef go(sink: Sink):\n    sink.add(█)\n",
    }
    assert "def add(self, v: int | list[int]) -> None:" in related_at(tmp_path / "py", python)
