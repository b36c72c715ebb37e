"""Definitions read with the tag queries: names, kinds, scopes, signatures and doc lines, one
table per language; and what a prompt shows of them."""

from __future__ import annotations

import pytest

from qwen_lsp.context.languages import get_parser
from qwen_lsp.context.tags import definitions, has_tags, load_query, query_source, render


def read(language: str, source: str):
    data = source.encode()
    return definitions(get_parser(language).parse(data), data, language)


def table(defs) -> set[tuple[str, str, str]]:
    return {(d.kind, d.name, d.scope) for d in defs}


# language: (source, expected (kind, name, scope) rows)
CASES = {
    "python": (
        '''
import os
MAX_SIZE = 10
Vector = list[float]
lower_case = 3

@cached
def load(path: str,
         *, strict: bool = False) -> dict:
    """Load a file.

    Longer text."""
    def helper():  # local: not indexed
        pass
    return {}

class Store(Base):
    """Keeps things."""
    limit: int = 3
    def put(self, key): ...
    def _hidden(self): ...
''',
        {
            ("constant", "MAX_SIZE", ""),
            ("type", "Vector", ""),
            ("function", "load", ""),
            ("class", "Store", ""),
            ("method", "put", "Store"),
            ("method", "_hidden", "Store"),
        },
    ),
    "javascript": (
        """
export const LIMIT = 5, OTHER = 6;
const helper = (x) => x * 2;
const mod = require("./mod");
// Sums two numbers.
export function add(a, b) { return a + b; }
export class Counter extends Base {
  count = 0;
  increment(by = 1) { this.count += by; }
}
""",
        {
            ("constant", "LIMIT", ""),
            ("constant", "OTHER", ""),
            ("function", "helper", ""),
            ("function", "add", ""),
            ("class", "Counter", ""),
            ("method", "increment", "Counter"),
        },
    ),
    "typescript": (
        """
export interface Shape { area(): number; name: string }
export type Id = string | number;
export enum Color { Red, Green }
export abstract class Base { abstract size(): number; }
declare function external(x: number): void;
export const ORIGIN = { x: 0, y: 0 };
""",
        {
            ("interface", "Shape", ""),
            ("method", "area", "Shape"),
            ("type", "Id", ""),
            ("enum", "Color", ""),
            ("class", "Base", ""),
            ("method", "size", "Base"),
            ("function", "external", ""),
            ("constant", "ORIGIN", ""),
        },
    ),
    "go": (
        """
package geo

const (
	A = 1
	B = 2
)

var ErrEmpty = errors.New("empty")

// Point is a point.
type Point struct {
	X, Y float64
}

type Shape interface {
	Area() float64
}

type ID int

func New(x float64) Point { return Point{X: x} }

func (p *Point) Norm() float64 { return 0 }
""",
        {
            ("constant", "A", ""),
            ("constant", "B", ""),
            ("constant", "ErrEmpty", ""),
            ("class", "Point", ""),
            ("interface", "Shape", ""),
            ("type", "ID", ""),
            ("function", "New", ""),
            ("method", "Norm", "Point"),
        },
    ),
    "rust": (
        """
pub const MAX: u32 = 5;
static NAME: &str = "x";
/// A point.
#[derive(Debug)]
pub struct Point { pub x: f64 }
pub enum Kind { A, B(u32) }
pub trait Shape { fn area(&self) -> f64; }
pub type Id = u32;
impl Point {
    pub fn new(x: f64) -> Self { Point { x } }
}
pub fn dist(a: &Point) -> f64 { fn inner() {} 0.0 }
macro_rules! square { ($x:expr) => { $x * $x }; }
""",
        {
            ("constant", "MAX", ""),
            ("constant", "NAME", ""),
            ("class", "Point", ""),
            ("enum", "Kind", ""),
            ("interface", "Shape", ""),
            ("method", "area", "Shape"),
            ("type", "Id", ""),
            ("method", "new", "Point"),
            ("function", "dist", ""),
            ("macro", "square", ""),
        },
    ),
    "java": (
        """
package a.b;
/** A point. */
public class Point {
    public static final int MAX = 5;
    private double x;
    public Point(double x) { this.x = x; }
    public double norm() { return x; }
}
interface Shape { double area(); }
enum Kind { A, B }
record Pair(int a, int b) {}
""",
        {
            ("class", "Point", ""),
            ("constant", "MAX", "Point"),
            ("method", "norm", "Point"),
            ("interface", "Shape", ""),
            ("method", "area", "Shape"),
            ("enum", "Kind", ""),
            ("class", "Pair", ""),
        },
    ),
    "c": (
        """
#define LIMIT 64
#define SQUARE(x) ((x) * (x))
typedef struct { double x; double y; } Point;
struct node { int value; struct node *next; };
enum color { RED, GREEN };
/* Distance between points. */
double distance(const Point *a, const Point *b);
static char *copy(const char *s) { return 0; }
""",
        {
            ("constant", "LIMIT", ""),
            ("macro", "SQUARE", ""),
            ("type", "Point", ""),
            ("class", "node", ""),
            ("enum", "color", ""),
            ("function", "distance", ""),
            ("function", "copy", ""),
        },
    ),
    "cpp": (
        """
namespace geo {
constexpr int kSides = 4;
class Shape : public Base {
 public:
  virtual double area() const = 0;
  int sides() const { return n_; }
 private:
  int n_;
};
template <typename T> T clamp(T v) { return v; }
double Shape::perimeter() const { return 0; }
using Id = unsigned;
}
""",
        {
            ("constant", "kSides", "geo"),  # a namespace's members are scoped by it
            ("class", "Shape", "geo"),
            ("method", "area", "Shape"),
            ("method", "sides", "Shape"),
            ("function", "clamp", "geo"),
            ("method", "perimeter", "Shape"),
            ("type", "Id", "geo"),
        },
    ),
}


@pytest.mark.parametrize("language", sorted(CASES))
def test_definitions_per_language(language: str):
    source, expected = CASES[language]
    assert table(read(language, source)) == expected


def test_tsx_shares_the_typescript_queries():
    defs = read("tsx", "export function View(p: Props) { return <div>{p.x}</div>; }\n")
    assert table(defs) == {("function", "View", "")}
    assert "inherits: javascript" in (query_source("tsx", "tags") or "")


def test_signatures_stop_at_the_body_and_docs_keep_their_first_line():
    defs = {d.name: d for d in read("python", CASES["python"][0])}
    load = defs["load"]
    assert load.signature == "def load(path: str,\n         *, strict: bool = False) -> dict:"
    assert load.doc == "Load a file."
    assert defs["Store"].doc == "Keeps things."
    go = {d.name: d for d in read("go", CASES["go"][0])}
    assert go["Point"].doc == "Point is a point."
    assert go["A"].signature == "const A = 1"  # the group's keyword is kept
    assert go["Norm"].signature == "func (p *Point) Norm() float64"
    rust = {d.name: d for d in read("rust", CASES["rust"][0])}
    assert rust["Point"].doc == "A point."  # through the #[derive] between them
    assert rust["new"].scope_header == "impl Point {"


def test_a_class_outline_lists_fields_and_public_method_headers():
    store = next(d for d in read("python", CASES["python"][0]) if d.name == "Store")
    assert store.signature.splitlines() == [
        "class Store(Base):",
        '    """Keeps things."""',
        "    limit: int = 3",
        "    def put(self, key): ...",
    ]
    point = next(d for d in read("java", CASES["java"][0]) if d.name == "Point")
    assert "    private double x;" in point.signature
    assert "    public double norm()" in point.signature
    assert point.signature.endswith("}")


def test_render_shows_a_method_under_its_class_and_the_doc_as_the_language_writes_it():
    defs = {d.name: d for d in read("python", CASES["python"][0])}
    assert render(defs["put"], "python") == "class Store(Base):\n    def put(self, key): ..."
    assert render(defs["load"], "python").endswith('    """Load a file."""')
    go = {d.name: d for d in read("go", CASES["go"][0])}
    assert render(go["Point"], "go").startswith("// Point is a point.\ntype Point struct {")
    c = {d.name: d for d in read("c", CASES["c"][0])}
    assert render(c["distance"], "c").startswith("// Distance between points.\ndouble distance(")


def test_long_constants_are_cut_and_long_outlines_end_in_an_ellipsis():
    table_source = "TABLE = {\n" + "".join(f"    'k{i}': {i},\n" for i in range(50)) + "}\n"
    (table,) = read("python", table_source)
    assert table.signature.count("\n") <= 3 and table.signature.endswith(" ...")
    fields = "".join(f"    f{i}: int\n" for i in range(60))
    (big,) = read("python", f"class Big:\n{fields}")
    assert big.signature.splitlines()[-1] == "    ..."
    assert len(big.signature.splitlines()) == 42  # header, 40 members, the ellipsis


def test_every_bundled_language_has_tag_and_import_queries():
    for language in ("python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"):
        assert has_tags(language), language
        assert load_query(language, "imports") is not None, language
    assert not has_tags("markdown") and not has_tags(None)
