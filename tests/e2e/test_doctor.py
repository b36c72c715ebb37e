"""`qwen-lsp doctor` at the terminal: what works, what is wrong, what to set next."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import clean_env


def doctor(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "doctor", str(tmp_path), *args],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path, **env),
        timeout=120,
    )


def test_without_a_key_it_runs_and_says_what_to_set(tmp_path: Path):
    result = doctor(tmp_path)
    assert result.returncode == 2
    assert "[!!] API key" in result.stdout
    assert "DASHSCOPE_API_KEY" in result.stdout
    assert "Next steps" in result.stdout and "QWEN_LSP_PROVIDER=openai-compatible" in result.stdout
    assert "[ok] grammars" in result.stdout  # what works is said too
    assert "not contacted until a key is set" in result.stdout


def test_a_working_endpoint_lists_the_prompt_modes_it_takes(fake_llm, tmp_path: Path):
    fake_llm.reply("a + b")
    result = doctor(
        tmp_path, "--provider", "openai-compatible", "--base-url", fake_llm.openai_base_url
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[ok] mode fim" in result.stdout and "[ok] mode chat" in result.stdout
    assert "[ok] chat model" in result.stdout
    assert "completions will use prompt mode 'fim'" in result.stdout
    assert {r.wire for r in fake_llm.requests} == {"openai-completions", "openai-chat"}
    # the probe is remembered for the server
    assert '"fim"' in (tmp_path / "cache" / "prompt-modes.json").read_text()


def test_a_reached_spend_limit_is_a_problem_and_nothing_is_sent(fake_llm, tmp_path: Path):
    (tmp_path / ".qwen-lsp.toml").write_text("[spend]\ndailyLimit = 0.0\n")
    result = doctor(
        tmp_path, "--provider", "openai-compatible", "--base-url", fake_llm.openai_base_url
    )
    assert result.returncode == 2
    assert "[!!] spend" in result.stdout and "daily limit" in result.stdout
    assert fake_llm.requests == []


def test_the_probes_are_in_the_spend_ledger(fake_llm, tmp_path: Path):
    fake_llm.reply("a + b")
    result = doctor(
        tmp_path, "--provider", "openai-compatible", "--base-url", fake_llm.openai_base_url
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(tmp_path / "cache" / "spend.db") as db:
        rows = db.execute("SELECT feature, kind FROM events").fetchall()
    assert rows == [("doctor", "call")] * len(fake_llm.requests)


def test_a_rejected_key_is_a_problem_with_the_reason(fake_llm, tmp_path: Path):
    fake_llm.fault("401")
    result = doctor(
        tmp_path,
        "--base-url",
        fake_llm.dashscope_base_url,
        DASHSCOPE_API_KEY="sk-not-valid-999",
    )
    assert result.returncode == 2
    assert "refused the API key" in result.stdout
    assert "sk-not-valid-999" not in result.stdout + result.stderr
    assert "set (from DASHSCOPE_API_KEY)" in result.stdout


def test_offline_checks_settings_only(tmp_path: Path):
    (tmp_path / ".qwen-lsp.toml").write_text('[completion]\ntemperature = "x"\n')
    result = doctor(tmp_path, "--offline", DASHSCOPE_API_KEY="sk-x")
    assert result.returncode == 2
    assert "'completion.temperature'" in result.stdout
    assert "not contacted (--offline)" in result.stdout


def test_dashscope_modes_are_reported_as_the_region_really_takes_them(fake_llm, tmp_path: Path):
    fake_llm.reply("a + b")
    key = {"DASHSCOPE_API_KEY": "sk-test-0123456789", "QWEN_LSP_MODEL": "qwen-coder-turbo"}
    base = ("--provider", "dashscope", "--base-url", fake_llm.dashscope_base_url)
    beijing = doctor(tmp_path, *base, **key)
    assert beijing.returncode == 0, beijing.stdout + beijing.stderr
    for mode in ("fim", "partial", "chat"):
        assert f"[ok] mode {mode}" in beijing.stdout
    # FIM was asked where DashScope serves it, not as a user turn on the native endpoint
    assert "/compatible-mode/v1/completions" in {r.path for r in fake_llm.requests}
    fake_llm.reset()
    fake_llm.region = "singapore"
    singapore = doctor(tmp_path, *base, QWEN_LSP_REGION="singapore", **key)
    assert "[--] mode fim" in singapore.stdout and "region singapore" in singapore.stdout
    assert "[ok] mode partial" in singapore.stdout
    assert "/compatible-mode/v1/completions" not in {r.path for r in fake_llm.requests}


def test_a_chat_model_the_endpoint_lacks_is_a_problem_with_a_hint(fake_llm, tmp_path: Path):
    """Completions work, but code actions and reviews would all fail: Ollama with only the
    completion model pulled."""
    fake_llm.reply("a + b")
    fake_llm.served_models = {"qwen2.5-coder:1.5b-base"}
    result = doctor(
        tmp_path,
        "--provider",
        "openai-compatible",
        "--base-url",
        fake_llm.openai_base_url,
        "--model",
        "qwen2.5-coder:1.5b-base",
        "--chat-model",
        "qwen2.5-coder:7b",
    )
    assert result.returncode == 2, result.stdout
    assert "[ok] mode fim" in result.stdout  # the completion model answers
    [line] = [line for line in result.stdout.splitlines() if "chat model" in line]
    assert line.lstrip().startswith("[!!]") and "qwen2.5-coder:7b" in line and "404" in line
    next_steps = result.stdout.split("Next steps:", 1)[1]
    assert "serves no model named 'qwen2.5-coder:7b'" in next_steps
    assert "chatModel" in next_steps


def _refused_port() -> int:
    """A port of 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_local_port_says_what_to_start(tmp_path: Path):
    port = _refused_port()
    result = doctor(
        tmp_path, "--provider", "openai-compatible", "--base-url", f"http://127.0.0.1:{port}/v1"
    )
    assert result.returncode == 2
    next_steps = result.stdout.split("Next steps:", 1)[1]
    assert f"nothing listens on port {port} of this machine" in next_steps
    assert "Ollama 11434, vLLM 8000, llama.cpp 8080" in next_steps
    assert "[--] chat model" in result.stdout  # not asked again: nothing is there


def test_the_usual_local_ports_name_their_server(tmp_path: Path):
    """Ollama, vLLM and llama.cpp on their default ports (nothing listens there on a CI
    machine; a developer running one of them sees this test fail with the reason)."""
    for port, says in (
        (11434, "`ollama serve`"),
        (8000, "`vllm serve MODEL --port 8000`"),
        (8080, "`llama-server -m MODEL.gguf --port 8080`"),
    ):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"something listens on {port}"
        result = doctor(
            tmp_path,
            "--provider",
            "openai-compatible",
            "--base-url",
            f"http://localhost:{port}/v1",
            "--offline",
        )
        assert says not in result.stdout  # --offline contacts nothing and guesses nothing
        result = doctor(
            tmp_path, "--provider", "openai-compatible", "--base-url", f"http://localhost:{port}/v1"
        )
        assert result.returncode == 2
        assert says in result.stdout.split("Next steps:", 1)[1], result.stdout
