"""What the team tells the reviewer reaches the prompt: the settings' instructions (for every
file, or by `paths` globs), the repository's `.qwen-lsp/review.md`, and the language messages
are to be written in. Checked on what the fake LLM received."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.cli.helpers import APP, answer, check_env, run_check


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "lib").mkdir(parents=True)
    (root / "app.py").write_text(APP, encoding="utf-8")
    (root / "lib" / "db.py").write_text("def q(c, s):\n    return c.run(s)\n", encoding="utf-8")
    return root


def systems(fake) -> dict[str, str]:
    """The system prompt of each request, by the file it reviewed."""
    out = {}
    for request in fake.requests:
        messages = request.body["messages"]
        path = messages[-1]["content"].split("\n", 1)[0].removeprefix("File: ").split(" ")[0]
        out[path] = messages[0]["content"]
    return out


def test_the_repository_review_md_reaches_every_prompt_and_its_edits_review_again(
    project: Path, fake_llm
):
    (project / ".qwen-lsp").mkdir()
    rules = project / ".qwen-lsp" / "review.md"
    rules.write_text("Every SQL string must be parameterised.\n", encoding="utf-8")
    fake_llm.reply(answer())
    assert run_check(project, fake_llm).code == 0
    sent = systems(fake_llm)
    assert sorted(sent) == ["app.py", "lib/db.py"]
    for system in sent.values():
        assert "Instructions of the team for this review:\nEvery SQL string" in system

    assert run_check(project, fake_llm).code == 0
    assert len(fake_llm.requests) == 2  # unchanged: from the cache
    rules.write_text("Every SQL string must be parameterised. No print().\n", encoding="utf-8")
    assert run_check(project, fake_llm).code == 0
    assert len(fake_llm.requests) == 4  # the instructions are part of the cache key


def test_path_instructions_from_an_untrusted_project_file_apply_to_their_files(
    project: Path, fake_llm
):
    (project / ".qwen-lsp.toml").write_text(
        '[review]\ninstructions = [\n  { text = "Check SQL injection.", paths = ["lib/**"] },\n'
        '  { text = "Every file: no bare except." },\n]\n',
        encoding="utf-8",
    )
    fake_llm.reply(answer())
    result = run_check(project, fake_llm)
    assert result.code == 0, result.stderr
    assert "ignored" not in result.stderr  # a free setting: the repository may set it
    sent = systems(fake_llm)
    assert "Check SQL injection." in sent["lib/db.py"]
    assert "Check SQL injection." not in sent["app.py"]
    assert all("Every file: no bare except." in s for s in sent.values())


def test_a_review_md_linked_out_of_the_repository_is_not_read(project: Path, fake_llm):
    outside = project.parent / "private-notes.md"
    outside.write_text("SECRET-PLAN-42\n", encoding="utf-8")
    (project / ".qwen-lsp").mkdir()
    os.symlink(outside, project / ".qwen-lsp" / "review.md")
    fake_llm.reply(answer())
    result = run_check(project, fake_llm)
    assert result.code == 0, result.stderr
    assert fake_llm.requests
    assert not any("SECRET-PLAN-42" in str(r.body) for r in fake_llm.requests)


def test_instructions_are_capped(project: Path, fake_llm):
    (project / ".qwen-lsp").mkdir()
    (project / ".qwen-lsp" / "review.md").write_text("rule " * 5000, encoding="utf-8")
    fake_llm.reply(answer())
    assert run_check(project, fake_llm, "app.py").code == 0
    [system] = systems(fake_llm).values()
    assert "[instructions cut here: too long]" in system
    assert system.count("rule ") < 1000


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [
        ("zh", APP, "written in Simplified Chinese"),
        ("en", APP, "written in English"),
        ("auto", APP, "written in English"),
        ("auto", "# 读取配置文件\n" + APP, "written in Simplified Chinese"),
    ],
)
def test_messages_are_asked_for_in_the_language_setting(
    project: Path, fake_llm, language, code, expected
):
    (project / "app.py").write_text(code, encoding="utf-8")
    fake_llm.reply(answer())
    env = check_env(project.parent, fake_llm, QWEN_LSP_LANGUAGE=language)
    assert run_check(project, fake_llm, "app.py", env=env).code == 0
    [system] = systems(fake_llm).values()
    assert expected in system
