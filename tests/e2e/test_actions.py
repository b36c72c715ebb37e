"""The real server over stdio against the fake LLM: AI code actions, listed free, paid when picked.

For every built-in action: listing calls no model; resolving calls it once and returns minimal
edits that give the expected file; a broken answer is refused with a message and changes
nothing; resolving again is served from the cache. Then Explain through
workspace/executeCommand, a custom action from the settings, project template overrides,
progress, cancellation, the budget question, and clients without documentChanges.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.harness import clean_env, open_file, running_server

CURSOR, START, END = "█", "«", "»"


def action_capabilities(*, document_changes: bool = True) -> types.ClientCapabilities:
    """What Neovim and VS Code declare for code actions, progress and workspace edits."""
    return types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            code_action=types.CodeActionClientCapabilities(
                code_action_literal_support=types.ClientCodeActionLiteralOptions(
                    code_action_kind=types.ClientCodeActionKindOptions(
                        value_set=["", "quickfix", "refactor", "refactor.rewrite"]
                    )
                ),
                data_support=True,
                resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
            ),
        ),
        workspace=types.WorkspaceClientCapabilities(
            configuration=False,
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=document_changes,
                resource_operations=[types.ResourceOperationKind.Create]
                if document_changes
                else None,
            ),
        ),
        window=types.WindowClientCapabilities(work_done_progress=True),
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf16]
        ),
    )


def selection_of(drawn: str) -> tuple[str, types.Range]:
    """The text without its marks, and the range they drew: «…» a selection, █ a cursor."""
    if CURSOR in drawn:
        text = drawn.replace(CURSOR, "", 1)
        at = _position(text, drawn.index(CURSOR))
        return text, types.Range(at, at)
    start = drawn.index(START)
    text = drawn.replace(START, "", 1)
    end = text.index(END)
    text = text.replace(END, "", 1)
    return text, types.Range(_position(text, start), _position(text, end))


def _position(text: str, index: int) -> types.Position:
    before = text[:index]
    column = len(before.rsplit("\n", 1)[-1].encode("utf-16-le")) // 2
    return types.Position(line=before.count("\n"), character=column)


def _offset(text: str, position: types.Position) -> int:
    lines = text.split("\n")
    offset = sum(len(line) + 1 for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return offset + index
        units += 2 if ord(char) > 0xFFFF else 1
    return offset + len(line)


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    spans = [(_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def edits_by_file(edit: types.WorkspaceEdit) -> tuple[dict[str, list[types.TextEdit]], list[str]]:
    """The text edits of a WorkspaceEdit per URI, and the URIs it creates."""
    per_uri: dict[str, list[types.TextEdit]] = {}
    created: list[str] = []
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            created.append(change.uri)
        elif isinstance(change, types.TextDocumentEdit):
            per_uri.setdefault(change.text_document.uri, []).extend(change.edits)  # type: ignore[arg-type]
    for uri, edits in (edit.changes or {}).items():
        per_uri.setdefault(uri, []).extend(edits)
    return per_uri, created


async def list_actions(
    client, uri: str, selection: types.Range, diagnostics: list[types.Diagnostic] = ()
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=selection,
            context=types.CodeActionContext(
                diagnostics=list(diagnostics),
                trigger_kind=types.CodeActionTriggerKind.Invoked,
            ),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def pick(actions: list[types.CodeAction], title: str) -> types.CodeAction:
    matching = [a for a in actions if a.title.startswith(title)]
    assert len(matching) == 1, f"{title!r} not in {[a.title for a in actions]}"
    return matching[0]


@asynccontextmanager
async def serve(
    root: Path, fake, *, document_changes: bool = True, **settings: Any
) -> AsyncIterator[LanguageClient]:
    """The real server for `root`, using the fake LLM's chat endpoint with `settings`."""
    async with running_server(
        root,
        clean_env(root),
        init_options=options_for(fake, **settings),
        capabilities=action_capabilities(document_changes=document_changes),
    ) as client:
        _tell_code_actions_from_commands(client)
        yield client


def _tell_code_actions_from_commands(client: LanguageClient) -> None:
    """lsprotocol reads any code action that carries a command as a bare Command (it checks
    only that the key exists); tell them apart by the type of `command`, as editors do."""
    converter = client.protocol._converter

    def structure(obj: dict[str, Any], _: Any) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], structure)  # noqa: UP007


def options_for(fake, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "openai-compatible",
        "baseUrl": fake.openai_base_url,
        "chatModel": "qwen2.5-coder-7b-instruct",
        **extra,
    }


def warnings_since(client, count: int) -> list[str]:
    return [m.message for m in client.messages[count:] if m.type <= types.MessageType.Warning]


@dataclass(frozen=True)
class Case:
    """One built-in action on one file: what the model answers and what the file becomes."""

    id: str
    title: str
    language: str
    name: str
    drawn: str
    reply: str
    expected: str
    broken: str
    diagnostics: list[types.Diagnostic] = field(default_factory=list)
    max_changed: int = 200  # characters removed plus inserted: the edit is small


FIX = Case(
    id="fix-python",
    title="AI: Fix",
    language="python",
    name="stats/mean.py",
    drawn="import math\n\n\ndef mean(values):\n    total = sum(values)\n"
    "    return total / len(val█ue)\n",
    reply="```python\ndef mean(values):\n    total = sum(values)\n"
    "    return total / len(values)\n```",
    expected="import math\n\n\ndef mean(values):\n    total = sum(values)\n"
    "    return total / len(values)\n",
    broken="```python\ndef mean(values:\n    return sum(values) / len(values)\n```",
    diagnostics=[
        types.Diagnostic(
            range=types.Range(types.Position(5, 23), types.Position(5, 28)),
            message="undefined name 'value'",
            source="pyflakes",
            severity=types.DiagnosticSeverity.Error,
        )
    ],
    max_changed=1,
)
DOCUMENT = Case(
    id="document-python",
    title="AI: Add docstring",
    language="python",
    name="calc/ops.py",
    drawn="class Ops:\n    def add(self, a, b):\n        return a █+ b\n\n    def neg(self, a):\n"
    "        return -a\n",
    reply='```python\ndef add(self, a, b):\n    """Return the sum of a and b."""\n'
    "    return a + b\n```",
    expected='class Ops:\n    def add(self, a, b):\n        """Return the sum of a and b."""\n'
    "        return a + b\n\n    def neg(self, a):\n        return -a\n",
    broken="```python\ndef add(self, a, b)\n    return a + b\n```",
    max_changed=len('        """Return the sum of a and b."""\n'),
)
TYPE_HINTS = Case(
    id="type-hints-typescript",
    title="AI: Add type hints",
    language="typescript",
    name="web/greet.ts",
    drawn='export function greet(name) {\n  return "Hello, " + █name;\n}\n',
    reply="```typescript\nexport function greet(name: string): string {\n"
    '  return "Hello, " + name;\n}\n```',
    expected='export function greet(name: string): string {\n  return "Hello, " + name;\n}\n',
    broken='```typescript\nexport function greet(name: string: string {\n  return "Hello";\n}\n```',
    max_changed=len(": string") * 2,
)
SIMPLIFY = Case(
    id="simplify-go",
    title="AI: Simplify",
    language="go",
    name="num/sign.go",
    drawn="package num\n\nfunc IsPositive(n int) bool {\n\tif n > 0 {\n\t\treturn tr█ue\n\t} else {"
    "\n\t\treturn false\n\t}\n}\n",
    reply="```go\nfunc IsPositive(n int) bool {\n\treturn n > 0\n}\n```",
    expected="package num\n\nfunc IsPositive(n int) bool {\n\treturn n > 0\n}\n",
    broken="```go\nfunc IsPositive(n int) bool {\n\treturn n > 0\n```",
    max_changed=80,
)
TRANSLATE = Case(
    id="translate-python",
    title="AI: Translate comments to English",
    language="python",
    name="calc/add.py",
    drawn="█# 计算两个数的和\ndef add(a, b):\n    return a + b  # 返回结果\n",
    reply="```python\n# Add two numbers\ndef add(a, b):\n"
    "    return a + b  # return the result\n```",
    expected="# Add two numbers\ndef add(a, b):\n    return a + b  # return the result\n",
    # parses, but the "translation" changed the code
    broken="```python\n# Add two numbers\ndef add(a, b):\n"
    "    return a - b  # return the result\n```",
    max_changed=60,
)
CASES = [FIX, DOCUMENT, TYPE_HINTS, SIMPLIFY, TRANSLATE]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
async def test_each_action_is_free_to_list_and_paid_once(case: Case, fake_llm, tmp_path: Path):
    text, selection = selection_of(case.drawn)
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / case.name, case.language, text)

        actions = await list_actions(client, uri, selection, case.diagnostics)
        action = pick(actions, case.title)
        assert action.edit is None and len(fake_llm.requests) == 0  # listing is free

        fake_llm.reply(case.broken)
        shown = len(client.messages)
        refused = await client.code_action_resolve_async(action)
        assert refused.edit is None  # changes nothing
        assert len(fake_llm.requests) == 1
        [message] = warnings_since(client, shown)
        assert "refused" in message and "nothing was changed" in message

        fake_llm.reply(case.reply)
        resolved = await client.code_action_resolve_async(action)
        assert len(fake_llm.requests) == 2  # one paid call (a refused answer is not cached)
        per_uri, created = edits_by_file(resolved.edit)
        assert list(per_uri) == [uri] and created == []
        edits = per_uri[uri]
        assert apply_text_edits(text, edits) == case.expected
        changed = sum(
            len(e.new_text) + _offset(text, e.range.end) - _offset(text, e.range.start)
            for e in edits
        )
        assert changed <= case.max_changed, f"edits are not minimal: {edits}"

        again = await client.code_action_resolve_async(action)
        assert len(fake_llm.requests) == 2  # served from the cache
        assert again.edit == resolved.edit

    body = fake_llm.requests[-1].body
    assert body["model"] == "qwen2.5-coder-7b-instruct"
    assert body["messages"][0]["role"] == "system"
    prompt = body["messages"][-1]["content"]
    if case is FIX:
        assert "undefined name 'value'" in prompt
    code_line = next(line for line in text.splitlines() if "return" in line)
    assert code_line.strip() in prompt


@pytest.mark.parametrize(
    ("language", "source", "reply", "test_path"),
    [
        (
            "python",
            "calc/ops.py",
            "```python\nfrom calc.ops import add\n\n\n"
            "def test_add():\n    assert add(1, 2) == 3\n```",
            "tests/test_ops.py",
        ),
        (
            "typescript",
            "web/sum.ts",
            "```typescript\nimport { add } from './sum';\n\ntest('adds', () => {\n"
            "  expect(add(1, 2)).toBe(3);\n});\n```",
            "web/sum.test.ts",
        ),
        (
            "go",
            "num/add.go",
            '```go\npackage num\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n'
            '\tif Add(1, 2) != 3 {\n\t\tt.Fatal("1 + 2")\n\t}\n}\n```',
            "num/add_test.go",
        ),
    ],
    ids=["pytest", "typescript", "go"],
)
async def test_write_unit_tests_creates_the_test_file_by_convention(
    language: str, source: str, reply: str, test_path: str, fake_llm, tmp_path: Path
):
    sources = {
        "python": "def add(a, b):\n    return a + b\n",
        "typescript": "export function add(a: number, b: number): number {\n  return a + b;\n}\n",
        "go": "package num\n\nfunc Add(a int, b int) int {\n\treturn a + b\n}\n",
    }
    text = sources[language]
    (tmp_path / "tests").mkdir()
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / source, language, text)
        at = types.Position(line=text.count("\n") - 2, character=2)
        actions = await list_actions(client, uri, types.Range(at, at))
        action = pick(actions, "AI: Write unit tests")
        assert len(fake_llm.requests) == 0

        fake_llm.reply("```\nthis is not code (\n```")
        shown = len(client.messages)
        assert (await client.code_action_resolve_async(action)).edit is None
        assert "refused" in warnings_since(client, shown)[0]

        fake_llm.reply(reply)
        resolved = await client.code_action_resolve_async(action)
        assert len(fake_llm.requests) == 2
    expected_uri = (tmp_path / test_path).as_uri()
    per_uri, created = edits_by_file(resolved.edit)
    assert created == [expected_uri]
    code = reply.split("\n", 1)[1].rsplit("\n```", 1)[0]
    assert apply_text_edits("", per_uri[expected_uri]) == code + "\n"
    # CreateFile comes before the edit that fills it
    assert isinstance(resolved.edit.document_changes[0], types.CreateFile)
    prompt = fake_llm.requests[-1].body["messages"][-1]["content"]
    assert test_path in prompt and "return a + b" in prompt


async def test_write_unit_tests_extends_an_existing_test_file(fake_llm, tmp_path: Path):
    existing = "from calc.ops import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_ops.py").write_text(existing, encoding="utf-8")
    text = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
    added = "\n\ndef test_sub():\n    assert sub(3, 1) == 2\n"
    reply = "```python\n" + existing.replace("import add", "import add, sub") + added + "```"
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / "calc" / "ops.py", "python", text)
        at = types.Position(line=5, character=6)
        action = pick(await list_actions(client, uri, types.Range(at, at)), "AI: Write unit tests")
        fake_llm.reply(reply)
        resolved = await client.code_action_resolve_async(action)
    per_uri, created = edits_by_file(resolved.edit)
    test_uri = (tmp_path / "tests" / "test_ops.py").as_uri()
    assert created == [] and list(per_uri) == [test_uri]
    edits = per_uri[test_uri]
    assert apply_text_edits(existing, edits) == (
        existing.replace("import add", "import add, sub") + added
    )
    assert sum(len(e.new_text) for e in edits) == len(", sub") + len(added)  # only additions
    prompt = fake_llm.requests[-1].body["messages"][-1]["content"]
    assert "def test_add" in prompt  # the model saw what the file holds
    assert "return a - b" in prompt and "return a + b" not in prompt  # the function at the cursor


async def test_rust_tests_go_in_the_files_own_tests_module(fake_llm, tmp_path: Path):
    text = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n"
    module = "#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n"
    module += "    fn adds() {\n        assert_eq!(add(1, 2), 3);\n    }\n}"
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / "src" / "lib.rs", "rust", text)
        at = types.Position(line=1, character=4)
        action = pick(await list_actions(client, uri, types.Range(at, at)), "AI: Write unit tests")
        fake_llm.reply(f"```rust\n{module}\n```")
        resolved = await client.code_action_resolve_async(action)
    per_uri, created = edits_by_file(resolved.edit)
    assert created == [] and list(per_uri) == [uri]
    assert apply_text_edits(text, per_uri[uri]) == text + "\n" + module + "\n"


async def test_rust_tests_extend_the_existing_tests_module(fake_llm, tmp_path: Path):
    head = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\n"
    old = "#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {}\n}"
    new = old.replace("fn adds() {}\n", "fn adds() {}\n\n    #[test]\n    fn adds_zero() {}\n")
    text = head + old + "\n"
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / "src" / "lib.rs", "rust", text)
        at = types.Position(line=1, character=4)
        action = pick(await list_actions(client, uri, types.Range(at, at)), "AI: Write unit tests")
        fake_llm.reply(f"```rust\n{new}\n```")
        resolved = await client.code_action_resolve_async(action)
    [edits] = edits_by_file(resolved.edit)[0].values()
    assert apply_text_edits(text, edits) == head + new + "\n"
    assert [e.new_text for e in edits] == ["\n    #[test]\n    fn adds_zero() {}\n"]
    assert old in fake_llm.requests[-1].body["messages"][-1]["content"]


async def test_explain_answers_markdown_through_execute_command(fake_llm, tmp_path: Path):
    text, selection = selection_of("«def add(a, b):\n    return a + b\n»")
    async with serve(tmp_path, fake_llm, language="zh") as client:
        assert "qwen-lsp.explain" in client.advertised.execute_command_provider.commands
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        action = pick(await list_actions(client, uri, selection), "AI: Explain")
        assert len(fake_llm.requests) == 0
        assert action.command.command == "qwen-lsp.explain"
        # resolving it needs no model: the command does the work
        assert (await client.code_action_resolve_async(action)).command == action.command

        fake_llm.reply("")
        shown = len(client.messages)
        assert (
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="qwen-lsp.explain", arguments=action.command.arguments
                )
            )
            is None
        )
        assert "empty" in warnings_since(client, shown)[0]

        fake_llm.reply("这个函数返回 **a 与 b 的和**。")
        params = types.ExecuteCommandParams(
            command="qwen-lsp.explain", arguments=action.command.arguments
        )
        shown = len(client.messages)
        answer = await client.workspace_execute_command_async(params)
        assert answer == "这个函数返回 **a 与 b 的和**。"
        assert len(fake_llm.requests) == 2
        assert any(m.message == answer for m in client.messages[shown:])  # picked from the menu
        assert await client.workspace_execute_command_async(params) == answer
        assert len(fake_llm.requests) == 2  # cached
    system = fake_llm.requests[-1].body["messages"][0]["content"]
    assert "Simplified Chinese" in system


async def test_custom_action_from_settings(fake_llm, tmp_path: Path):
    custom = {
        "title": "Use f-strings",
        "prompt": "Rewrite the string formatting of this {{language}} code to f-strings.",
    }
    text = 'def greet(name):\n    return "Hello, %s" % █name\n'
    text, selection = selection_of(text)
    settings = {"custom": [custom, {"title": "no prompt"}]}
    async with serve(tmp_path, fake_llm, actions=settings) as client:
        await asyncio.sleep(0.1)
        # the bad entry is named, the good one kept
        assert any("entry 2 ('no prompt')" in m.message for m in client.messages)
        uri = open_file(client, tmp_path / "greet.py", "python", text)
        actions = await list_actions(client, uri, selection)
        action = pick(actions, "AI: Use f-strings")
        assert not any(a.title == "AI: no prompt" for a in actions)
        fake_llm.reply('```python\ndef greet(name):\n    return f"Hello, {name}"\n```')
        resolved = await client.code_action_resolve_async(action)
        assert len(fake_llm.requests) == 1
        await client.code_action_resolve_async(action)
        assert len(fake_llm.requests) == 1
    [edits] = edits_by_file(resolved.edit)[0].values()
    assert apply_text_edits(text, edits) == 'def greet(name):\n    return f"Hello, {name}"\n'
    with sqlite3.connect(tmp_path / "cache" / "spend.db") as ledger:
        events = ledger.execute("SELECT feature, kind FROM events ORDER BY ts").fetchall()
    assert events == [("action", "call"), ("action", "cache")]  # paid once, then saved
    prompt = fake_llm.requests[0].body["messages"][-1]["content"]
    assert "Rewrite the string formatting of this python code to f-strings." in prompt


async def test_project_template_overrides_and_its_version_keys_the_cache(fake_llm, tmp_path: Path):
    templates = tmp_path / ".qwen-lsp" / "prompts" / "actions"
    templates.mkdir(parents=True)
    (templates / "simplify.md").write_text("HOUSE RULES v1\n{{code}}\n", encoding="utf-8")
    text, selection = selection_of("def add(a, b):\n    return █a + b\n")
    fake_llm.reply("```python\ndef add(a, b):\n    return b + a\n```")
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        actions = await list_actions(client, uri, selection)
        await client.code_action_resolve_async(pick(actions, "AI: Simplify"))
        await client.code_action_resolve_async(pick(actions, "AI: Simplify"))
        assert len(fake_llm.requests) == 1
        (templates / "simplify.md").write_text("HOUSE RULES v2\n{{code}}\n", encoding="utf-8")
        await client.code_action_resolve_async(pick(actions, "AI: Simplify"))
        assert len(fake_llm.requests) == 2  # a new template version is a new question
        await client.code_action_resolve_async(pick(actions, "AI: Add docstring"))
    prompts = [r.body["messages"][-1]["content"] for r in fake_llm.requests]
    assert prompts[0].startswith("HOUSE RULES v1") and prompts[1].startswith("HOUSE RULES v2")
    assert "Give every function" in prompts[2]  # no project template: the shipped one


@pytest.mark.parametrize("linked", ["template", "folder"])
async def test_a_project_template_reaching_outside_the_workspace_fails_the_action(
    fake_llm, tmp_path: Path, linked: str
):
    # A repository's .qwen-lsp/prompts/ tries to send a file of secrets (outside the
    # workspace) as the "Add docstring" prompt: through a linked template or a linked folder.
    marker = f"AWS_SECRET_ACCESS_KEY=planted-{uuid.uuid4().hex}"
    workspace = tmp_path / "ws"
    prompts = workspace / ".qwen-lsp" / "prompts"
    outside = tmp_path / "outside"
    (outside / "actions").mkdir(parents=True)
    (outside / "actions" / "document.md").write_text(f"{marker}\n{{{{code}}}}", "utf-8")
    if linked == "template":
        (prompts / "actions").mkdir(parents=True)
        (prompts / "actions" / "document.md").symlink_to(outside / "actions" / "document.md")
        refused = f"{prompts / 'actions' / 'document.md'} (from the project): it is a symbolic link"
    else:
        prompts.parent.mkdir(parents=True)
        prompts.symlink_to(outside, target_is_directory=True)
        refused = f"the folder {prompts} on its way is a symbolic link"
    text, selection = selection_of("def add(a, b):\n    return █a + b\n")
    fake_llm.reply('```python\ndef add(a, b):\n    """Add."""\n    return a + b\n```')
    async with serve(workspace, fake_llm) as client:
        uri = open_file(client, workspace / "ops.py", "python", text)
        actions = await list_actions(client, uri, selection)
        shown = len(client.messages)
        resolved = await client.code_action_resolve_async(pick(actions, "AI: Add docstring"))
        assert resolved.edit is None  # nothing changed
        [warning] = warnings_since(client, shown)
        assert warning.startswith("qwen-lsp: refused the prompt template ")
        assert refused in warning and marker not in warning
    assert fake_llm.requests == []


async def test_resolve_shows_cancellable_progress(fake_llm, tmp_path: Path):
    text, selection = selection_of("def add(a, b):\n    return █a + b\n")
    fake_llm.reply('```python\ndef add(a, b):\n    """Add."""\n    return a + b\n```')
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        action = pick(await list_actions(client, uri, selection), "AI: Add docstring")
        await client.code_action_resolve_async(action)
    [reports] = [r for r in client.progress_reports.values() if _title(r) == "AI: Add docstring"]
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)


def _title(reports: list[Any]) -> str | None:
    """The title of a progress (other features, such as indexing, report their own)."""
    begin = reports[0] if reports else None
    return begin.title if isinstance(begin, types.WorkDoneProgressBegin) else None


async def test_cancelling_a_resolve_closes_the_http_request(fake_llm, tmp_path: Path):
    text, selection = selection_of("def add(a, b):\n    return █a + b\n")
    fake_llm.latency = 20
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        action = pick(await list_actions(client, uri, selection), "AI: Simplify")
        msg_id = str(uuid.uuid4())
        pending = asyncio.ensure_future(
            client.protocol.send_request_async(types.CODE_ACTION_RESOLVE, action, msg_id=msg_id)
        )
        assert await asyncio.to_thread(fake_llm.wait_for_requests, 10)
        client.protocol.notify("$/cancelRequest", types.CancelParams(id=msg_id))
        with pytest.raises(Exception):  # noqa: B017 - the request ends cancelled, whatever the type
            await asyncio.wait_for(pending, 10)
        assert await asyncio.to_thread(fake_llm.wait_for_disconnect, 5)
        # the server is still fine: the next resolve works
        fake_llm.latency = 0
        fake_llm.reply("```python\ndef add(a, b):\n    return b + a\n```")
        assert (await client.code_action_resolve_async(action)).edit is not None


async def test_cancelling_the_progress_cancels_the_action(fake_llm, tmp_path: Path):
    text, selection = selection_of("def add(a, b):\n    return █a + b\n")
    fake_llm.latency = 20
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        action = pick(await list_actions(client, uri, selection), "AI: Simplify")
        pending = asyncio.ensure_future(client.code_action_resolve_async(action))
        assert await asyncio.to_thread(fake_llm.wait_for_requests, 10)
        tokens: list[Any] = []
        for _ in range(100):
            reports = client.progress_reports.items()
            tokens = [token for token, r in reports if _title(r) == "AI: Simplify / refactor"]
            if tokens:
                break
            await asyncio.sleep(0.05)
        [token] = tokens
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        resolved = await asyncio.wait_for(pending, 10)
        assert resolved.edit is None
        assert await asyncio.to_thread(fake_llm.wait_for_disconnect, 5)
        assert any("cancelled" in m.message for m in client.messages)


@pytest.mark.parametrize("answer", ["Cancel", "Spend anyway"])
async def test_over_budget_asks_before_spending(answer: str, fake_llm, tmp_path: Path):
    text, selection = selection_of("def add(a, b):\n    return █a + b\n")
    fake_llm.reply("```python\ndef add(a, b):\n    return b + a\n```")
    asked: list[str] = []
    async with serve(tmp_path, fake_llm, spend={"dailyLimit": 0}) as client:

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def ask(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
            asked.append(params.message)
            return next(a for a in params.actions if a.title == answer)

        uri = open_file(client, tmp_path / "ops.py", "python", text)
        action = pick(await list_actions(client, uri, selection), "AI: Simplify")
        resolved = await client.code_action_resolve_async(action)
    assert len(asked) == 1 and "daily limit" in asked[0] and "Spend anyway?" in asked[0]
    if answer == "Cancel":
        assert resolved.edit is None and fake_llm.requests == []
    else:
        assert resolved.edit is not None and len(fake_llm.requests) == 1


async def test_client_without_document_changes_gets_plain_changes(fake_llm, tmp_path: Path):
    text = "def add(a, b):\n    return a + b\n"
    fake_llm.reply("```python\ndef test_add():\n    assert True\n```")
    async with serve(tmp_path, fake_llm, document_changes=False) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        at = types.Position(line=1, character=4)
        action = pick(await list_actions(client, uri, types.Range(at, at)), "AI: Write unit tests")
        resolved = await client.code_action_resolve_async(action)
    assert resolved.edit.document_changes is None
    test_file = tmp_path / "tests" / "test_ops.py"
    assert list(resolved.edit.changes) == [test_file.as_uri()]
    assert test_file.is_file()  # created empty, so the client can edit it


async def test_listing_follows_the_request(fake_llm, tmp_path: Path):
    async with serve(tmp_path, fake_llm) as client:
        py = open_file(client, tmp_path / "ops.py", "python", "def add(a, b):\n    return a + b\n")
        md = open_file(client, tmp_path / "notes.md", "markdown", "# Notes\n\nSome text.\n")
        at = types.Range(types.Position(1, 4), types.Position(1, 4))
        titles = [a.title for a in await list_actions(client, py, at)]
        assert titles[:2] == ["AI: Explain this code", "AI: Add docstring"]
        assert "AI: Add type hints" in titles and not any("Fix" in t for t in titles)
        assert not any("Translate" in t for t in titles)  # no comments to translate
        # no grammar, so no edit could be checked: only Explain
        on_text = types.Range(types.Position(2, 1), types.Position(2, 1))
        assert [a.title for a in await list_actions(client, md, on_text)] == [
            "AI: Explain this code"
        ]
        assert await list_actions(client, md, at) == []  # a blank line: nothing to act on
        only = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=py),
                range=at,
                context=types.CodeActionContext(diagnostics=[], only=["refactor.rewrite"]),
            )
        )
        assert {a.kind.split(".qwen")[0] for a in only} == {"refactor.rewrite"}
        closed = (tmp_path / "closed.py").as_uri()
        assert await list_actions(client, closed, at) == []  # not open: nothing, no error
    assert fake_llm.requests == []


async def test_what_cannot_work_is_said_before_anything_is_spent(fake_llm, tmp_path: Path):
    body = "".join(f"    total += {i} * value  # step {i}\n" for i in range(40))
    text = f"def long(value):\n    total = 0\n{body}    return total\n"
    async with serve(tmp_path, fake_llm, actions={"maxTokens": 64}) as client:
        uri = open_file(client, tmp_path / "long.py", "python", text)
        at = types.Range(types.Position(3, 4), types.Position(3, 4))
        action = pick(await list_actions(client, uri, at), "AI: Simplify")
        shown = len(client.messages)
        assert (await client.code_action_resolve_async(action)).edit is None
        assert "too long for one answer" in warnings_since(client, shown)[0]

        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")],
            )
        )
        shown = len(client.messages)
        assert (await client.code_action_resolve_async(action)).edit is None
        assert "changed since the action was listed" in warnings_since(client, shown)[0]
    assert fake_llm.requests == []


async def test_an_answer_that_changes_nothing_says_so(fake_llm, tmp_path: Path):
    text, selection = selection_of("def add(a, b):\n    return █a + b\n")
    fake_llm.reply("```python\ndef add(a, b):\n    return a + b\n```")
    async with serve(tmp_path, fake_llm) as client:
        uri = open_file(client, tmp_path / "ops.py", "python", text)
        action = pick(await list_actions(client, uri, selection), "AI: Simplify")
        shown = len(client.messages)
        assert (await client.code_action_resolve_async(action)).edit is None
        [note] = client.messages[shown:]
    assert note.type == types.MessageType.Info and "nothing to change" in note.message
