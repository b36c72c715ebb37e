"""The pure parts of code actions: which code an action takes, reading and checking answers,
where tests go, what is listed, template overrides, and the custom action settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_lsp.config import CustomAction, validate
from qwen_lsp.context.files import is_test_file
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.engine.actions.conventions import offers_tests, plan_unit_tests
from qwen_lsp.engine.actions.model import ActionFailed
from qwen_lsp.engine.actions.offers import offers_for
from qwen_lsp.engine.actions.regions import comments_in, region_for
from qwen_lsp.engine.actions.running import ActionTarget, Problem
from qwen_lsp.engine.actions.templates import PromptSources, action_template
from qwen_lsp.model import Position
from qwen_lsp.postprocess.answers import (
    code_changed,
    code_from_answer,
    prose_from_answer,
    syntax_problem,
)

CURSOR = "█"


def drawn(text: str) -> tuple[str, Position]:
    index = text.index(CURSOR)
    before = text[:index]
    return text.replace(CURSOR, "", 1), Position(before.count("\n"), len(before.split("\n")[-1]))


REGIONS = [
    # (description, language, document with the cursor, the code the action takes)
    (
        "method inside a class",
        "python",
        "class A:\n    def f(self):\n        return █1\n\n    def g(self):\n        return 2\n",
        "    def f(self):\n        return 1",
    ),
    (
        "decorators belong to the function",
        "python",
        "import x\n\n@cache\ndef f(a):\n    █return a\n",
        "@cache\ndef f(a):\n    return a",
    ),
    (
        "a top-level statement",
        "python",
        "import os\nx = █compute(\n    1,\n)\n",
        "x = compute(\n    1,\n)",
    ),
    (
        "cursor in the leading blanks of a line",
        "go",
        "package m\n\nfunc F() int {\n█\treturn 1\n}\n",
        "func F() int {\n\treturn 1\n}",
    ),
    (
        "typescript method",
        "typescript",
        "class C {\n  m(): number {\n    return 1;█\n  }\n}\n",
        "  m(): number {\n    return 1;\n  }",
    ),
    (
        "the doc comment above belongs to the function",
        "go",
        "package m\n\nvar x = 1\n\n// F returns one.\n// Always.\nfunc F() int {\n\treturn █1\n}\n",
        "// F returns one.\n// Always.\nfunc F() int {\n\treturn 1\n}",
    ),
    ("no grammar: the line", None, "alpha\nbe█ta\ngamma\n", "beta"),
]


@pytest.mark.parametrize(
    ("language", "text", "expected"), [r[1:] for r in REGIONS], ids=[r[0] for r in REGIONS]
)
def test_region_at_a_cursor(language: str | None, text: str, expected: str):
    text, at = drawn(text)
    doc = SourceDocument(text, language)
    assert region_for(doc, at, at).text(doc) == expected


def test_a_selection_takes_whole_lines_and_not_the_line_it_ends_at_the_start_of():
    doc = SourceDocument("a = 1\nb = 2\nc = 3\n", "python")
    region = region_for(doc, Position(0, 3), Position(2, 0))
    assert region.text(doc) == "a = 1\nb = 2"


def test_whole_file_fallback_outside_any_definition():
    text, at = drawn("# 注释\nimport os█\n\nx = 1\n")
    doc = SourceDocument(text, "python")
    region = region_for(doc, at, at, whole_file_fallback=True)
    assert region.whole_file and region.text(doc) == "# 注释\nimport os\n\nx = 1"
    assert comments_in(doc, region) == ("# 注释",)


ANSWERS = [
    # (description, model answer, indentation of the replaced code, expected code)
    ("fenced", "```python\nx = 1\n```", "", "x = 1"),
    ("prose around the fence", "Here:\n```py\nx = 1\n```\nDone.", "", "x = 1"),
    ("no fence", "\nx = 1\n\n", "", "x = 1"),
    (
        "flush left is re-indented",
        "```\ndef f():\n    pass\n```",
        "    ",
        "    def f():\n        pass",
    ),
    (
        "already indented stays",
        "```\n    def f():\n        pass\n```",
        "    ",
        "    def f():\n        pass",
    ),
    ("cut off before the closing fence", "```python\nx = 1\ny = 2", "", "x = 1\ny = 2"),
    ("empty", "```python\n```", "", ""),
]


@pytest.mark.parametrize(
    ("answer", "indent", "expected"), [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS]
)
def test_code_from_answer(answer: str, indent: str, expected: str):
    assert code_from_answer(answer, indent=indent) == expected


def test_code_from_answer_uses_the_documents_line_breaks():
    assert code_from_answer("```\na\nb\n```", newline="\r\n") == "a\r\nb"


def test_prose_from_answer_unwraps_a_markdown_fence_only():
    assert prose_from_answer("```markdown\n# Title\ntext\n```") == "# Title\ntext"
    assert prose_from_answer("It adds:\n```python\nx\n```") == "It adds:\n```python\nx\n```"


def test_syntax_problem_points_at_the_new_code_only():
    old = "def broken(:\n    pass\n\nx = 1\n"
    fixed = old.replace("x = 1", "x = 2")
    start = fixed.index("x = 2")
    # an error that was already there, elsewhere, does not block an edit
    assert syntax_problem("python", old, fixed, (start, start + 5)) is None
    bad = old.replace("x = 1", "x = (2")
    assert "does not parse" in syntax_problem("python", old, bad, (start, start + 6))
    clean = "x = 1\ny = 2\n"
    assert syntax_problem("go", "", "package m\nfunc {", (0, 17)) is not None
    assert syntax_problem(None, clean, "((((", (0, 4)) is None  # no grammar: cannot check


def test_code_changed_ignores_comments_and_strings():
    old = '# 你好\ndef f():\n    """文档"""\n    return 1  # 一\n'
    translated = '# hello\ndef f():\n    """docs"""\n    return 1  # one\n'
    assert not code_changed("python", old, translated)
    assert code_changed("python", old, translated.replace("return 1", "return 2"))


@pytest.mark.parametrize(
    ("path", "is_test"),
    [
        ("tests/test_ops.py", True),
        ("ops_test.go", True),
        ("web/sum.test.ts", True),
        ("web/sum.spec.js", True),
        ("src/test/java/OpsTest.java", True),
        ("conftest.py", True),
        ("calc/ops.py", False),
        ("testing.py", False),
    ],
)
def test_is_test_file(path: str, is_test: bool):
    assert is_test_file(path) is is_test
    assert offers_tests("python", path) is not is_test or not path.endswith(".py")


def test_test_files_follow_each_languages_convention(tmp_path: Path):
    assert plan_unit_tests(tmp_path / "calc" / "ops.py", "python", tmp_path).path == (
        tmp_path / "tests" / "test_ops.py"
    )
    (tmp_path / "test" / "unit").mkdir(parents=True)
    (tmp_path / "test" / "unit" / "test_ops.py").write_text("", encoding="utf-8")
    assert plan_unit_tests(tmp_path / "calc" / "ops.py", "python", tmp_path).path == (
        tmp_path / "test" / "unit" / "test_ops.py"
    )  # an existing test file of that module wins
    assert plan_unit_tests(tmp_path / "web" / "sum.ts", "typescript", tmp_path).path == (
        tmp_path / "web" / "sum.test.ts"
    )
    assert plan_unit_tests(tmp_path / "num" / "add.go", "go", tmp_path).path == (
        tmp_path / "num" / "add_test.go"
    )
    java = tmp_path / "src" / "main" / "java" / "org" / "x" / "Ops.java"
    assert plan_unit_tests(java, "java", tmp_path).path == (
        tmp_path / "src" / "test" / "java" / "org" / "x" / "OpsTest.java"
    )
    rust = plan_unit_tests(tmp_path / "src" / "lib.rs", "rust", tmp_path)
    assert rust.same_file and rust.path == tmp_path / "src" / "lib.rs"
    assert plan_unit_tests(tmp_path / "a.c", "c", tmp_path) is None


def test_the_js_test_runner_comes_from_package_json(tmp_path: Path):
    (tmp_path / "package.json").write_text('{"devDependencies": {"vitest": "^2"}}', "utf-8")
    plan = plan_unit_tests(tmp_path / "src" / "sum.ts", "typescript", tmp_path)
    assert plan.framework.startswith("Vitest")


def _target(text: str, language: str, **extra) -> ActionTarget:
    text, at = drawn(text)
    return ActionTarget(
        SourceDocument(text, language), at, at, path="m.py", file=Path("/p/m.py"), **extra
    )


def test_listing_offers_what_fits_the_code():
    settings, _ = validate({"actions": {"custom": [{"title": "Make async", "prompt": "x"}]}})
    titles = [o.title for o in offers_for(settings, _target("def f():\n    █return 1\n", "python"))]
    assert titles == [
        "AI: Explain this code",
        "AI: Add docstring",
        "AI: Add type hints",
        "AI: Simplify / refactor",
        "AI: Make async",
        "AI: Write unit tests",
    ]
    problem = Problem("undefined name 'y'", Position(1, 11), Position(1, 12), "pyflakes")
    fixes = offers_for(
        settings, _target("def f():\n    return █y\n", "python", diagnostics=(problem,))
    )
    assert fixes[0].title == "AI: Fix “undefined name 'y'”" and fixes[0].diagnostics == (problem,)
    go = [o.title for o in offers_for(settings, _target("// 加\nfunc F() {}█\n", "go"))]
    assert "AI: Add doc comment" in go and "AI: Add type hints" not in go
    assert "AI: Translate comments to English" in go
    off, _ = validate({"actions": {"enabled": False}})
    assert offers_for(off, _target("def f():\n    █return 1\n", "python")) == []


def test_project_templates_override_and_a_refused_one_fails_the_action(tmp_path: Path):
    workspace, user = tmp_path / "ws", tmp_path / "user"
    (workspace / ".qwen-lsp" / "prompts" / "actions").mkdir(parents=True)
    (user / "actions").mkdir(parents=True)
    (user / "actions" / "fix.md").write_text("USER FIX {{code}}", "utf-8")
    (user / "actions" / "simplify.md").write_text("USER SIMPLIFY", "utf-8")
    (workspace / ".qwen-lsp" / "prompts" / "actions" / "simplify.md").write_text("PROJECT", "utf-8")
    secret = tmp_path / "secret.md"
    secret.write_text("SECRET", "utf-8")
    (workspace / ".qwen-lsp" / "prompts" / "actions" / "document.md").symlink_to(secret)
    sources = PromptSources(workspace=workspace, user_dir=user)
    assert action_template(sources, "actions/simplify").text == "PROJECT"
    assert action_template(sources, "actions/fix").text == "USER FIX {{code}}"
    assert action_template(sources, "actions/explain") == action_template(
        PromptSources(), "actions/explain"
    )
    # A refused template fails the action, naming the file; the shipped one is not used instead.
    with pytest.raises(ActionFailed) as refused:
        action_template(sources, "actions/document")
    message = str(refused.value)
    assert str(workspace / ".qwen-lsp" / "prompts" / "actions" / "document.md") in message
    assert "it is a symbolic link" in message and "SECRET" not in message
    # placeholders only: a template cannot pull a file in
    rendered = action_template(sources, "actions/fix").render({"code": "{{path}} ../../etc/passwd"})
    assert rendered == "USER FIX {{path}} ../../etc/passwd"


def test_a_project_template_linking_into_git_or_to_a_secret_inside_the_workspace_is_refused(
    tmp_path: Path,
):
    workspace = tmp_path / "ws"
    prompts = workspace / ".qwen-lsp" / "prompts" / "actions"
    prompts.mkdir(parents=True)
    (workspace / ".git").mkdir()
    (workspace / ".git" / "config").write_text("TOKEN IN GIT CONFIG", "utf-8")
    (workspace / ".env").write_text("TOKEN IN DOTENV", "utf-8")
    (prompts / "fix.md").symlink_to(workspace / ".git" / "config")
    (prompts / "simplify.md").symlink_to(workspace / ".env")
    sources = PromptSources(workspace=workspace)
    for name in ("actions/fix", "actions/simplify"):
        with pytest.raises(ActionFailed) as refused:
            action_template(sources, name)
        assert "symbolic link" in str(refused.value) and "TOKEN" not in str(refused.value)


def test_custom_actions_are_checked_entry_by_entry():
    settings, problems = validate(
        {
            "actions": {
                "custom": [
                    {"title": "Good", "prompt": "do it"},
                    {"title": "No prompt"},
                    "just text",
                    {"title": "Typo", "prompt": "p", "promt": "q"},
                ]
            }
        }
    )
    assert settings.actions.custom == (CustomAction("Good", "do it"),)
    assert problems == [
        "setting 'actions.custom' entry 2 ('No prompt'): 'prompt' is missing; "
        "that entry is ignored",
        "setting 'actions.custom' entry 3: expected a table like {title = ..., prompt = ...}; "
        "that entry is ignored",
        "setting 'actions.custom' entry 4 ('Typo'): unknown key 'promt'; that entry is ignored",
    ]
    _, problems = validate({"actions": {"custom": {"title": "x"}}})
    assert problems == ["setting 'actions.custom': expected a list of tables; using the default"]
    settings, problems = validate(
        {"actions": {"custom": '[{"title": "Env", "prompt": "p"}]'}}, {"actions.custom"}
    )
    assert settings.actions.custom == (CustomAction("Env", "p"),) and problems == []


@pytest.mark.parametrize(
    ("setting", "locale", "code", "expected"),
    [
        ("auto", "zh-cn", "x = 1", "zh"),
        ("auto", "en-US", "x = 1  # 中文", "en"),  # the editor's locale first
        ("auto", None, "x = 1  # 中文", "zh"),  # else the code's language
        ("auto", None, "x = 1", "en"),
        ("en", "zh-cn", "x = 1  # 中文", "en"),  # the setting beats both
        ("zh", None, "x = 1", "zh"),
    ],
)
def test_answer_language(setting: str, locale: str | None, code: str, expected: str):
    from qwen_lsp.engine.actions.running import _answer_language

    settings, _ = validate({"language": setting})
    target = ActionTarget(
        SourceDocument(code, "python"), Position(0, 0), Position(0, 0), locale=locale
    )
    assert _answer_language(settings, target, code) == expected
