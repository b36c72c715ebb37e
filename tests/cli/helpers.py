"""Run the real `qwen-lsp --check` as a process against the fake LLM, in a scratch project."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.harness import clean_env
from tests.fakes.llm_server import FakeLLM

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"

APP = """import os


def load(path):
    f = open(path)
    return f.read()


def divide(a, b):
    return a / b
"""


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def check_env(home: Path, fake: FakeLLM, **extra: str) -> dict[str, str]:
    """No user settings, keys or CI variables of this machine; the fake as the endpoint."""
    env = clean_env(
        home,
        QWEN_LSP_PROVIDER="openai-compatible",
        QWEN_LSP_BASE_URL=fake.openai_base_url,
        QWEN_LSP_CHAT_MODEL="gpt-4.1-mini",  # in the price table, so costs are not zero
    )
    for name in ("GITHUB_STEP_SUMMARY", "NO_COLOR", "GITHUB_ACTIONS"):
        env.pop(name, None)
    env.update(extra)
    return env


def run_check(
    project: Path,
    fake: FakeLLM,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "qwen_lsp", "--check", *args],
        cwd=project,
        env=env or check_env(project.parent, fake),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def finding(
    line: int,
    end: int | None = None,
    *,
    severity: str = "warning",
    rule: str = "resource-leak",
    message: str = "The file is never closed.",
    suggestion: str | None = None,
    path: str = "app.py",
) -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "endLine": line if end is None else end,
        "severity": severity,
        "rule": rule,
        "message": message,
        "suggestion": suggestion,
    }


def answer(*findings: dict[str, Any]) -> str:
    return json.dumps({"findings": list(findings)})


def user_messages(fake: FakeLLM) -> list[str]:
    return [r.body["messages"][-1]["content"] for r in fake.requests]
