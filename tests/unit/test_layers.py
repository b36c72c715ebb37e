"""The dependency rule, checked on the source: imports point one way only.

The layers (README, "Architecture"): `cli` and `lsp` over the `engine`, the engine over
`context`, `prompts`, `postprocess`, `providers`, `cache` and `spend`, all of them over the
base modules (`model`, `config`, `errors`, ...). Inside the engine, the three use cases
(`completion/`, `actions/`, `review/`, `evaluation/`) never import one another, but for
`evaluation/` calling completion's entry points; `lsp/` and `cli/` reach the
engine only through the names `engine/__init__.py` exports; only `engine/ask.py` calls a
provider's `generate`; and no package has an import cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "qwen_lsp"

BASE = {
    "model",
    "config",
    "errors",
    "special_tokens",
    "log",
    "privacy",
    "redaction",
    "storage",
    "__init__",
}
# Which parts of qwen_lsp each part may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "__main__": {"cli"},
    "cli": {"engine", "context", "reporting", "spend", "cache", "lsp", *BASE},  # lsp: to serve
    "lsp": {"engine", "context", "spend", *BASE},
    "reporting": {*BASE},  # pure: findings in, report text out
    "engine": {"context", "prompts", "postprocess", "providers", "cache", "spend", *BASE},
    "context": BASE,
    "prompts": {"context", *BASE},
    "postprocess": {"context", *BASE},
    "providers": BASE,
    "cache": BASE,
    "spend": BASE,
    "config": {"model", "errors", "__init__"},
    "privacy": {"__init__"},
    "redaction": {"__init__"},
    "model": set(),
    "errors": set(),
    "special_tokens": set(),
    "log": {"storage"},
    "storage": set(),
    "__init__": set(),
}
USE_CASES = {"completion", "actions", "review", "evaluation"}
# The one use case built on another: `eval` fills holes through completion's entry points
# (the editor's path), and nothing else of it.
USES = {
    "evaluation": {"qwen_lsp.engine.completion.complete", "qwen_lsp.engine.completion.inspection"}
}
PROTOCOL_LIBRARIES = {"pygls", "lsprotocol"}
SDKS = {"openai", "dashscope", "httpx", "httpx2"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["qwen_lsp", *parts])


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def sources() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path) -> set[str]:
    """Every qwen_lsp or third-party module `path` imports, at any depth, resolved to absolute
    names; `from package import name` counts as importing `package.name` when that is a
    module. Imports under `if TYPE_CHECKING:` never run and are left out."""
    names: set[str] = set()
    own = module_name(path)
    package = own if is_package(path) else own.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if _type_checking_block(node):
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            submodules = {f"{module}.{alias.name}" for alias in node.names}
            submodules = {name for name in submodules if _module_path(name) is not None}
            names.update(submodules)
            if len(submodules) < len(node.names):  # not only submodules: the module itself
                names.add(module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return names


def _module_path(name: str) -> Path | None:
    if not name.startswith("qwen_lsp."):
        return None
    relative = Path(*name.split(".")[1:])
    for candidate in (PACKAGE / relative.with_suffix(".py"), PACKAGE / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def part_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def use_case_of(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) > 2 and parts[1] == "engine" and parts[2] in USE_CASES:
        return parts[2]
    return None


def test_every_part_has_a_rule():
    parts = {part_of(p) for p in sources()}
    assert parts <= set(ALLOWED), f"add a layering rule for {parts - set(ALLOWED)}"


def test_imports_point_one_way():
    wrong = []
    for path in sources():
        part = part_of(path)
        where = path.relative_to(PACKAGE)
        for name in imports_of(path):
            top = name.split(".")[0]
            if top in PROTOCOL_LIBRARIES and part != "lsp":
                wrong.append(f"{where} imports {name}: only lsp/ may")
            if top in SDKS and not (part == "providers" and path.stem in {"openai", "dashscope"}):
                wrong.append(f"{where} imports {name}: only its provider may")
            if top != "qwen_lsp" or name == "qwen_lsp":
                continue
            target = name.split(".")[1]
            if target != part and target not in ALLOWED[part]:
                wrong.append(f"{where} imports {name}")
    assert wrong == []


def test_a_use_case_never_imports_another():
    wrong = []
    for path in sources():
        mine = use_case_of(module_name(path))
        if mine is None:
            continue
        for name in imports_of(path):
            theirs = use_case_of(name)
            if theirs is not None and theirs != mine and name not in USES.get(mine, set()):
                wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert wrong == []


def test_lsp_and_cli_use_the_engine_through_its_entry_points():
    wrong = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sources()
        if part_of(path) in {"lsp", "cli"}
        for name in imports_of(path)
        if name.startswith("qwen_lsp.engine.")
    ]
    assert wrong == []


def test_the_engine_exports_what_it_names():
    code = (
        "import qwen_lsp.engine as e\n"
        "missing = [n for n in e.__all__ if getattr(e, n, None) is None]\n"
        "print(missing)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def calls_generate(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "generate"
        for node in ast.walk(tree)
    )


def test_only_ask_calls_a_provider():
    callers = [
        path.relative_to(PACKAGE).as_posix()
        for path in sources()
        if part_of(path) != "providers" and calls_generate(path)
    ]
    assert callers == ["engine/ask.py"]


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sources():
        own = module_name(path)
        graph[own] = {
            name for name in imports_of(path) if _module_path(name) is not None and name != own
        }
    return graph


def find_cycle(graph: dict[str, set[str]], within: str) -> list[str] | None:
    """A cycle among the modules of package `within` (its own modules only), or None."""
    inside = {m for m in graph if m == within or m.startswith(within + ".")}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node] & inside):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(inside):
        if start not in state and (found := walk(start)) is not None:
            return found
    return None


PACKAGES = sorted(
    module_name(p) for p in PACKAGE.rglob("__init__.py") if module_name(p) != "qwen_lsp"
)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside(package: str):
    assert find_cycle(import_graph(), package) is None


def test_the_cycle_finder_finds_a_cycle():
    graph = {"p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p": set()}
    assert find_cycle(graph, "p") == ["p.a", "p.b", "p.c", "p.a"]
    assert find_cycle({"p.a": {"p.b"}, "p.b": set(), "p": set()}, "p") is None


def reads_environment(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}:
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in {"environ", "getenv"} for alias in node.names)
        ):
            return True
    return False


def test_only_config_reads_the_environment():
    readers = [
        path.relative_to(PACKAGE).as_posix() for path in sources() if reads_environment(path)
    ]
    assert readers == ["config.py"]


def test_starting_the_server_imports_no_sdk():
    code = (
        "import sys; import qwen_lsp.lsp.server, qwen_lsp.engine.completion.complete; "
        "import qwen_lsp.providers; "
        "print(sorted(m for m in ('openai', 'dashscope') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- the language server layer: thin translators over one door each ---------------------------

LSP = PACKAGE / "lsp"
# What every feature shares; a feature module imports no other feature (the factory in
# lsp/__init__.py lists them, and each subscribes to the server's hooks on its own).
LSP_SHARED = {"server", "convert", "progress", "documents"}


def runtime_components() -> set[str]:
    """The public attributes `Runtime.__init__` assigns: the parts a session is made of."""
    tree = ast.parse((PACKAGE / "engine" / "runtime.py").read_text(encoding="utf-8"))
    [runtime] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Runtime"]
    [init] = [n for n in runtime.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    return {
        target.attr
        for node in ast.walk(init)
        for target in (node.targets if isinstance(node, ast.Assign) else [])
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
        and not target.attr.startswith("_")
    }


def _names_runtime(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "runtime") or (
        isinstance(node, ast.Attribute) and node.attr == "runtime"
    )


def test_lsp_does_not_reach_through_the_runtime():
    """`ls.runtime.tally.today()` ties a handler to how a session is put together; the engine
    gives lsp/ the functions it needs (engine/status.py, engine/indexing.py, ...)."""
    components = runtime_components()
    assert {"tally", "incidents", "workspace", "completions", "ledger"} <= components
    reaching = [
        f"{path.relative_to(PACKAGE)}:{node.lineno} reads runtime.{node.attr}"
        for path in sorted(LSP.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr in components
        and _names_runtime(node.value)
    ]
    assert reaching == []


def test_lsp_features_do_not_import_one_another():
    wrong = []
    for path in sorted(LSP.glob("*.py")):
        if path.stem in LSP_SHARED or path.stem == "__init__":
            continue
        for name in imports_of(path):
            if name.startswith("qwen_lsp.lsp."):
                other = name.split(".")[2]
                if other not in LSP_SHARED:
                    wrong.append(f"lsp/{path.name} imports lsp/{other}")
    assert wrong == []


def test_lsp_keeps_no_state_in_module_globals():
    """Feature state lives on the server object (`add_state`), so two servers in one process
    (the tests, the CLI) share nothing: no module-level empty or weak containers."""
    mutable = {"dict", "list", "set", "WeakKeyDictionary", "WeakValueDictionary", "OrderedDict"}
    found = []
    for path in sorted(LSP.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            if isinstance(value, ast.Call):
                func = value.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in mutable:
                    found.append(f"lsp/{path.name}:{node.lineno}")
            elif isinstance(value, (ast.Dict, ast.List, ast.Set)) and not (
                value.keys if isinstance(value, ast.Dict) else value.elts
            ):
                found.append(f"lsp/{path.name}:{node.lineno}")
    assert found == []
