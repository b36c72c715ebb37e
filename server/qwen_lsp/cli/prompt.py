"""`qwen-lsp prompt FILE:LINE:COL`: the exact prompt a completion would send there, with the
tokens of each of its sections (repository, related code per file, prefix, suffix).

Sends nothing. The file's workspace folder (its git work tree, else the nearest folder with a
project file) is indexed first, as the server would, reusing the stored index, so the related
code is what the editor would get; the prompt itself comes from `engine.inspection`. The file
is read through the folder's door like any workspace file: one a completion would never send
(a secrets file, an excluded or ignored one, a link leading away) is refused with the reason.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO

from qwen_lsp.config import load_settings, project_root
from qwen_lsp.context.files import Refusal
from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine import (
    CompletionTarget,
    PromptInspection,
    Runtime,
    inspect_prompt,
    workspace_folder,
)
from qwen_lsp.model import Position


def parse_location(location: str) -> tuple[Path, int, int]:
    """`path:line:col`, 1-based (as editors and compilers print them)."""
    path, _, rest = location.rpartition(":")
    path, _, line = path.rpartition(":")
    if not path or not line.isdigit() or not rest.isdigit():
        raise ValueError(f"expected FILE:LINE:COL, got {location!r}")
    if int(line) < 1 or int(rest) < 1:
        raise ValueError(f"lines and columns count from 1, got {location!r}")
    return Path(path), int(line), int(rest)


def run_prompt_inspector(
    location: str, overrides: dict[str, Any], *, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    try:
        path, line, col = parse_location(location)
    except ValueError as exc:
        print(f"qwen-lsp prompt: {exc}", file=sys.stderr)
        return 2
    path = Path(os.path.abspath(path))  # links not followed: the door judges where they lead
    if not path.exists():
        print(f"qwen-lsp prompt: {path}: no such file", file=sys.stderr)
        return 2
    folder = workspace_folder(path)
    loaded = load_settings(path.parent, roots=(project_root(path.parent),), cli=overrides)
    runtime = Runtime(loaded, show=lambda m: print(m, file=sys.stderr), use_cache=False)
    runtime.workspace.set_folders([folder])
    files = runtime.workspace.files(folder)
    relative = files.relative(path) or path.name
    text = runtime.workspace.read_file(path, folder)
    if isinstance(text, Refusal):
        print(f"qwen-lsp prompt: {text}; a completion there sends nothing", file=sys.stderr)
        return 2
    if (past := _past_the_end(text, line, col, relative)) is not None:
        print(f"qwen-lsp prompt: {past}", file=sys.stderr)
        return 2
    for index in runtime.workspace.indexes:
        for _ in index.refresh():
            pass
        index.save()  # the next run, and the editor's server, start from it
    document = SourceDocument(text, language_for(None, str(path)), encoding="utf-32")
    runtime.workspace.opened(path, document)
    target = CompletionTarget(document, Position(line - 1, col - 1), path=relative, file=path)
    print_inspection(inspect_prompt(runtime, target), out)
    return 0


def _past_the_end(text: str, line: int, col: int, name: str) -> str | None:
    """Why LINE:COL (1-based, columns in characters) is not in `text`, or None. The line after
    a final line feed and the column after a line's last character are in it: a cursor goes
    there."""
    lines = text.split("\n")
    if line > len(lines):
        return f"line {line} is past the end of {name}, which has {len(lines)} lines"
    last = len(lines[line - 1].rstrip("\r")) + 1
    if col > last:
        return f"column {col} is past the end of line {line} of {name} (columns 1 to {last})"
    return None


def print_inspection(inspection: PromptInspection, out: TextIO) -> None:
    how = "Qwen tokenizer" if inspection.counted == "exact" else "estimated"
    print(
        f"# mode: {inspection.mode.value}   model: {inspection.model}   "
        f"endpoint: {inspection.endpoint}",
        file=out,
    )
    print(f"# tokens ({how}): {inspection.total} in all", file=out)
    width = max((len(s.name) for s in inspection.sections), default=0)
    for section in inspection.sections:
        print(f"#   {section.name:<{width}}  {section.tokens:>6}", file=out)
    print(file=out)
    print(inspection.text, file=out)
