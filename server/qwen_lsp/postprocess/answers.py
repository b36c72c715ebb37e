"""Reading code out of a chat model's answer, and refusing answers that would break the file.

Chat models wrap code in Markdown fences and sometimes add prose around it; `code_from_answer`
takes the code of the first fenced block (or the whole answer when there is no fence), drops
the blank lines around it, puts back the indentation a model strips from a nested block, and
uses the document's own line breaks. `syntax_problem` parses the edited text with tree-sitter
and says why it cannot be accepted: an error inside the replaced code, or errors in a file that
had none; `code_changed` tells a translation of comments from a change of code. An answer that
fails a check changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from qwen_lsp.context.languages import get_parser

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n`]*\n(.*?)^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)
_OPEN_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n`]*\n", re.MULTILINE)
_MARKDOWN_FENCE = re.compile(r"```(?:markdown|md)[ \t]*\n(.*)\n```", re.DOTALL | re.IGNORECASE)


def code_from_answer(answer: str, *, indent: str = "", newline: str = "\n") -> str:
    """The code in `answer`, indented by `indent` when the model left it flush left."""
    text = answer.replace("\r\n", "\n").replace("\r", "\n")
    fenced = _FENCE.search(text)
    if fenced is not None:
        text = fenced.group(2)
    elif (opened := _OPEN_FENCE.search(text)) is not None and opened.start() == 0:
        text = text[opened.end() :]  # cut off before the closing fence: keep what came
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if indent and lines and not common_indent("\n".join(lines)):
        lines = [indent + line if line.strip() else line for line in lines]
    return newline.join(line.rstrip() if not line.strip() else line for line in lines)


def prose_from_answer(answer: str) -> str:
    """A Markdown answer (an explanation), trimmed; a fence around all of it is removed."""
    text = answer.strip()
    whole = _MARKDOWN_FENCE.fullmatch(text.replace("\r\n", "\n"))
    return whole.group(1).strip() if whole is not None else text


def newline_of(text: str) -> str:
    """The line break a document uses (the first one found), "\\n" when it has none."""
    index = text.find("\n")
    if index > 0 and text[index - 1] == "\r":
        return "\r\n"
    if index < 0 and "\r" in text:
        return "\r"
    return "\n"


def syntax_problem(
    language: str | None, old_text: str, new_text: str, changed: tuple[int, int]
) -> str | None:
    """Why `new_text` (old text with `changed` = (start, end) string offsets rewritten) does
    not parse, or None when it does. A language without a grammar cannot be checked: None."""
    parser = get_parser(language)
    if parser is None:
        return None
    new_tree = parser.parse(new_text.encode("utf-8", "surrogatepass"))
    if not new_tree.root_node.has_error:
        return None
    start = len(new_text[: changed[0]].encode("utf-8", "surrogatepass"))
    end = start + len(new_text[changed[0] : changed[1]].encode("utf-8", "surrogatepass"))
    for node in _errors(new_tree.root_node):
        if node.start_byte <= end and node.end_byte >= start:
            row = node.start_point[0] + 1
            what = f"'{node.type}' is missing" if node.is_missing else "a syntax error"
            return f"the new code does not parse as {language}: {what} at line {row}"
    old_tree = parser.parse(old_text.encode("utf-8", "surrogatepass"))
    if not old_tree.root_node.has_error:
        return f"the new code breaks the parse of the rest of the file as {language}"
    return None


def code_changed(language: str | None, old_text: str, new_text: str) -> bool:
    """Whether two versions of a file differ in more than comments and string literals
    (what a translation of the comments may touch). Unknown languages compare whole texts."""
    parser = get_parser(language)
    if parser is None:
        return old_text != new_text
    old = _code_tokens(parser.parse(old_text.encode("utf-8", "surrogatepass")).root_node)
    new = _code_tokens(parser.parse(new_text.encode("utf-8", "surrogatepass")).root_node)
    return old != new


def _code_tokens(root: Node) -> list[bytes]:
    tokens: list[bytes] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if "comment" in node.type or "string" in node.type:
            continue  # a docstring is a string, and its words may change too
        if node.child_count == 0:
            tokens.append(node.text or b"")
        stack.extend(reversed(node.children))
    return tokens


def _errors(root: Node) -> Iterator[Node]:
    """ERROR and MISSING nodes, visiting only subtrees that hold one."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            yield node
            continue
        stack.extend(child for child in node.children if child.has_error or child.is_missing)


def common_indent(text: str) -> str:
    """The indentation every non-blank line of `text` shares."""
    indents = [line[: len(line) - len(line.lstrip())] for line in text.splitlines() if line.strip()]
    if not indents:
        return ""
    shared = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(shared):
            shared = shared[:-1]
    return shared
