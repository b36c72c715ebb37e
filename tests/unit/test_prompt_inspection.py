"""The prompt inspector in-process (`qwen-lsp prompt`, `qwen-lsp.inspectPrompt`): the exact
prompt a completion would send at the cursor, redacted as it is sent, cut into the sections
the user reads with their token counts, for the mode, model and endpoint the server would use.

The process-level test (tests/cli/test_prompt_command.py) checks the command's output; these
check the figures themselves, so a section that is mis-counted or mis-named fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qwen_lsp.config import load_settings
from qwen_lsp.context.budget import estimate_tokens
from qwen_lsp.context.languages import language_for
from qwen_lsp.context.parsing import SourceDocument
from qwen_lsp.context.tokenizer import qwen_token_counter
from qwen_lsp.engine.completion.complete import CompletionTarget, cursor_context, prompt_for
from qwen_lsp.engine.completion.inspection import inspect_prompt
from qwen_lsp.engine.runtime import Runtime
from qwen_lsp.model import Position, PromptMode
from qwen_lsp.prompts import related_section
from qwen_lsp.special_tokens import FILE_SEP, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, REPO_NAME
from tests.unit.context_repos import EXCLUDE, checkout

BASE_URL = "http://127.0.0.1:9/v1"  # never reached: the inspector sends nothing
SECRET = 'API_KEY = "sk-proj-' + "a1B2c3D4e5F6g7H8i9J0" * 2 + '"'


def runtime_in(root: Path, tmp_path: Path, **settings: Any) -> Runtime:
    env = {
        "QWEN_LSP_CONFIG": str(tmp_path / "none.toml"),
        "QWEN_LSP_CACHE_DIR": str(tmp_path / "cache"),
    }
    loaded = load_settings(root, cli={"exclude": list(EXCLUDE), **settings}, env=env)
    runtime = Runtime(loaded, show=lambda _: None, use_cache=False)
    for index in runtime.workspace.set_folders([root]):
        for _ in index.refresh():
            pass
    return runtime


@pytest.fixture
def rust(tmp_path: Path):
    repo = checkout("rust", tmp_path)

    def at(**settings: Any) -> tuple[Runtime, CompletionTarget]:
        runtime = runtime_in(repo.root, tmp_path, **settings)
        document = SourceDocument(repo.text, language_for(None, repo.path), encoding="utf-32")
        runtime.workspace.opened(repo.root / repo.path, document)
        file = repo.root / repo.path
        return runtime, CompletionTarget(document, repo.position, path=repo.path, file=file)

    return at


def test_a_fim_prompt_is_cut_into_sections_that_make_up_the_whole_prompt(rust):
    runtime, target = rust(provider="openai-compatible", baseUrl=BASE_URL, promptMode="fim")
    seen = inspect_prompt(runtime, target, exact=False)
    ctx = cursor_context(runtime, target)
    assert (seen.mode, seen.endpoint, seen.counted) == (PromptMode.FIM, BASE_URL, "estimated")
    assert seen.model == runtime.settings.completion_model
    [block] = ctx.snippets
    pieces = {
        "repository": f"{REPO_NAME}rust\n",
        "related code: src/geometry.rs (definition)": (
            f"{FILE_SEP}src/geometry.rs\n{block.content}\n"
        ),
        "current file: src/report.rs": f"{FILE_SEP}src/report.rs\n",
        "prefix": FIM_PREFIX + ctx.prefix,
        "suffix": FIM_SUFFIX + ctx.suffix + FIM_MIDDLE,
    }
    assert [s.name for s in seen.sections] == list(pieces)
    assert "".join(pieces.values()) == seen.text  # the sections are the whole prompt, in order
    assert [s.tokens for s in seen.sections] == [estimate_tokens(p) for p in pieces.values()]
    assert seen.total == estimate_tokens(seen.text)


def test_a_chat_prompt_shows_each_message_and_the_share_of_the_instructions(rust):
    runtime, target = rust(provider="openai-compatible", baseUrl=BASE_URL, promptMode="chat")
    seen = inspect_prompt(runtime, target, exact=False)
    ctx = cursor_context(runtime, target)
    assert seen.mode == PromptMode.CHAT
    assert seen.text.startswith("--- system\nYou are a code completion engine.")
    assert "\n--- user\n" in seen.text and "(partial" not in seen.text
    parts = {
        "related code": estimate_tokens(related_section(ctx.snippets)),
        "prefix": estimate_tokens(ctx.prefix),
        "suffix": estimate_tokens(ctx.suffix),
    }
    messages = prompt_for(runtime, PromptMode.CHAT, ctx).request.messages
    assert seen.text == "\n".join(f"--- {m.role}\n{m.content}" for m in messages)
    whole = sum(estimate_tokens(m.content) for m in messages)
    assert seen.total == whole
    assert [(s.name, s.tokens) for s in seen.sections] == [
        ("instructions and template", whole - sum(parts.values())),
        *parts.items(),
    ]


def _plain(tmp_path: Path, drawn: str) -> CompletionTarget:
    index = drawn.index("█")
    text = drawn.replace("█", "", 1)
    before = text[:index]
    position = Position(before.count("\n"), len(before.rsplit("\n", 1)[-1]))
    document = SourceDocument(text, "python")
    return CompletionTarget(document, position, path="app.py", file=tmp_path / "app.py")


def test_a_partial_prompt_says_which_message_the_model_continues_and_hides_secrets(
    tmp_path: Path,
):
    (tmp_path / "project").mkdir()
    runtime = runtime_in(
        tmp_path / "project",
        tmp_path,
        provider="dashscope",
        model="qwen3-coder-flash",
        promptMode="partial",
    )
    target = _plain(tmp_path, f"{SECRET}\n\ndef f():\n    return █\n")
    seen = inspect_prompt(runtime, target, exact=False)
    assert seen.mode == PromptMode.PARTIAL
    assert "--- assistant (partial: the model continues it)\n" in seen.text
    assert SECRET not in seen.text and "sk-proj-" not in seen.text  # redacted as it is sent
    assert seen.endpoint == runtime.loaded.base_url  # the provider's own endpoint
    # no related code: no section for it, and the instructions are the rest of the prompt
    assert [s.name for s in seen.sections] == ["instructions and template", "prefix", "suffix"]


def test_a_fim_prompt_without_a_repository_has_no_repository_sections(tmp_path: Path):
    (tmp_path / "project").mkdir()
    runtime = runtime_in(
        tmp_path / "project",
        tmp_path,
        provider="openai-compatible",
        baseUrl=BASE_URL,
        promptMode="fim",
    )
    target = _plain(tmp_path, f"{SECRET}\nx = █\n")
    seen = inspect_prompt(runtime, target, exact=False)
    assert [s.name for s in seen.sections] == ["prefix", "suffix"]
    assert seen.text.startswith(FIM_PREFIX) and "sk-proj-" not in seen.text


def test_tokens_are_counted_with_qwens_tokenizer_when_it_is_installed(rust):
    runtime, target = rust(provider="openai-compatible", baseUrl=BASE_URL, promptMode="fim")
    seen = inspect_prompt(runtime, target)
    counter = qwen_token_counter()
    if counter is None:
        pytest.skip("Qwen's tokenizer is not installed")
    assert seen.counted == "exact"
    assert seen.total == counter(seen.text)
    assert seen.sections[-2].tokens == counter(FIM_PREFIX + cursor_context(runtime, target).prefix)


@pytest.mark.parametrize(
    ("settings", "mode"),
    [
        (
            {"provider": "openai-compatible", "baseUrl": BASE_URL, "model": "qwen2.5-coder-7b"},
            "fim",
        ),
        ({"provider": "openai", "model": "gpt-4o-mini"}, "chat"),
        ({"provider": "dashscope", "model": "qwen3-coder-flash"}, "partial"),
    ],
)
def test_without_a_forced_mode_the_prompt_is_in_the_mode_the_wire_offers_first(
    tmp_path: Path, settings: dict[str, str], mode: str
):
    (tmp_path / "project").mkdir()
    runtime = runtime_in(tmp_path / "project", tmp_path, **settings)
    seen = inspect_prompt(runtime, _plain(tmp_path, "x = █\n"), exact=False)
    assert (seen.mode.value, seen.model) == (mode, settings["model"])
