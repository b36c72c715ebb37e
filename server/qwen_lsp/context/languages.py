"""The language registry: which tree-sitter grammar serves an LSP languageId or a file name.

It owns the mapping from editor language ids and file extensions to canonical language names,
and loads each grammar wheel only when its language is first needed (importing all eight costs
start-up time that `initialize` should not pay). A language it does not know maps to None, and
the rest of `context/` then treats the document as plain text.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
from pathlib import PurePath

from tree_sitter import Language, Parser

log = logging.getLogger(__name__)

# canonical name -> (grammar module, function returning the language pointer)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

# LSP languageIds (as VS Code and Neovim send them) and common aliases -> canonical name.
_LANGUAGE_IDS: dict[str, str] = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "javascript": "javascript",
    "js": "javascript",
    "javascriptreact": "javascript",  # the JavaScript grammar parses JSX too
    "jsx": "javascript",
    "typescript": "typescript",
    "ts": "typescript",
    "typescriptreact": "tsx",  # TSX needs its own grammar: `<T>x` means a cast only in .ts
    "tsx": "tsx",
    "go": "go",
    "golang": "go",
    "rust": "rust",
    "rs": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "c++": "cpp",
    "cxx": "cpp",
    "cuda-cpp": "cpp",
}

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",  # could be C++; the C grammar reads the common subset of headers well
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
}

_loaded: dict[str, Language | None] = {}
_lock = threading.Lock()  # `--check --jobs N` may ask from several threads at once


def language_for(language_id: str | None, path: str | None) -> str | None:
    """The canonical language name for an LSP languageId, else for the file's extension.

    The languageId wins because the user can set it (a `.h` file shown as C++); the extension
    serves the CLI, which has no languageId. Unknown to both: None.
    """
    if language_id:
        name = _LANGUAGE_IDS.get(language_id.lower())
        if name is not None:
            return name
    if path:
        return _EXTENSIONS.get(PurePath(path).suffix.lower())
    return None


_CPP_IN_HEADER = re.compile(
    rb"^\s*(?:namespace\s+\w|class\s+\w+[^;]*\{|template\s*<|using\s+namespace\b)|\w::\w",
    re.M,
)


def header_language(path: str, data: bytes) -> str | None:
    """A `.h` file is C by its extension, but C++ projects use it too: "cpp" when its first
    32 KB hold a namespace, a class, a template or a `::`; None for any other file."""
    if not path.lower().endswith(".h"):
        return None
    return "cpp" if _CPP_IN_HEADER.search(data, 0, 32_768) else None


def known_extensions() -> tuple[str, ...]:
    """File extensions (".py", ...) of every language with a grammar."""
    return tuple(_EXTENSIONS)


def supported_languages() -> tuple[str, ...]:
    """Canonical names of every language with a grammar (whether or not it loads)."""
    return tuple(_GRAMMARS)


def get_language(name: str | None) -> Language | None:
    """The tree-sitter Language for a canonical name (or alias), imported on first use."""
    if name is None:
        return None
    name = _LANGUAGE_IDS.get(name.lower(), name)
    if name not in _GRAMMARS:
        return None
    with _lock:
        if name not in _loaded:
            _loaded[name] = _load(name)
        return _loaded[name]


def get_parser(name: str | None) -> Parser | None:
    """A new Parser for the language, or None when it is unknown or its grammar is missing.

    A Parser holds state while it parses, so each document gets its own; the Language behind
    it is shared and loaded once.
    """
    language = get_language(name)
    return Parser(language) if language is not None else None


def _load(name: str) -> Language | None:
    module_name, function_name = _GRAMMARS[name]
    try:
        module = importlib.import_module(module_name)
        return Language(getattr(module, function_name)())
    except (ImportError, AttributeError, ValueError) as exc:
        # A missing or incompatible wheel costs that language its tree, not the server.
        log.warning("grammar for %s unavailable (%s): treating it as plain text", name, exc)
        return None
