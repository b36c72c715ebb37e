"""`qwen-lsp prompt FILE:LINE:COL` as a process: the repo-level prompt that would be sent, with
the tokens of each section; nothing is sent; bad locations exit 2 with a message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import clean_env
from tests.unit.context_repos import checkout


def run(location: str, cwd: Path, env: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "prompt", location, *flags],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_prompt_at_a_cross_file_call_shows_the_callee_and_tokens_per_section(
    fake_llm, tmp_path: Path
):
    repo = checkout("rust", tmp_path)
    (repo.root / ".qwen-lsp.toml").write_text('exclude = ["legacy/*"]\n', encoding="utf-8")
    env = clean_env(tmp_path)
    location = f"src/report.rs:{repo.position.line + 1}:{repo.position.character + 1}"
    flags = ("--provider", "openai-compatible", "--base-url", fake_llm.openai_base_url)
    done = run(location, repo.root, env, *flags, "--prompt-mode", "fim")
    assert done.returncode == 0, done.stderr
    header, _, prompt = done.stdout.partition("\n\n")
    assert "# mode: fim" in header and "(Qwen tokenizer)" in header
    rows = {
        line[4:].rsplit(None, 1)[0].strip(): int(line.rsplit(None, 1)[1])
        for line in header.splitlines()
        if line.startswith("#   ")
    }
    assert rows["related code: src/geometry.rs (definition)"] > 20
    assert {"repository", "current file: src/report.rs", "prefix", "suffix"} <= set(rows)
    assert prompt.startswith("<|repo_name|>rust\n<|file_sep|>src/geometry.rs\n")
    assert "pub fn area(rect: &Rect, rounded: bool) -> f64" in prompt
    assert "<|file_sep|>src/report.rs\n<|fim_prefix|>" in prompt
    assert "IGNORED" not in prompt
    assert fake_llm.requests == []  # the inspector sends nothing

    chat = run(location, repo.root, env, *flags, "--prompt-mode", "chat")
    assert chat.returncode == 0, chat.stderr
    assert "Related code from the repository:\n--- src/geometry.rs" in chat.stdout
    assert "#   related code" in chat.stdout


def test_a_bad_location_exits_2_with_a_message(tmp_path: Path):
    env = clean_env(tmp_path)
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    for location, says in (
        ("a.py:1", "expected FILE:LINE:COL"),
        ("missing.py:1:1", "missing.py"),
        ("a.py:99999:1", "line 99999 is past the end of a.py, which has 2 lines"),
        ("a.py:1:8", "column 8 is past the end of line 1 of a.py (columns 1 to 6)"),
    ):
        done = run(location, tmp_path, env)
        assert done.returncode == 2
        assert says in done.stderr and done.stdout == ""


def test_the_last_positions_of_a_file_are_inside_it(tmp_path: Path):
    env = clean_env(tmp_path)
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    for location in ("a.py:1:6", "a.py:2:1"):  # the end of a line; the line after the last \n
        done = run(location, tmp_path, env, "--provider", "openai-compatible")
        assert done.returncode == 0, done.stderr
