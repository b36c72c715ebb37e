"""The GitHub Actions workflows of the README are checked with actionlint, as CI runs them.

Each ```yaml block of the README that is a workflow (top-level `on:` and `jobs:`) is written to
a scratch repository's `.github/workflows/` and checked by actionlint (syntax, expressions,
the inputs of well-known actions, `${{ }}` pasted into scripts). Then what the issue asked of
them, which actionlint does not know, is asserted on the parsed workflows.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"^( *)```yaml\n(.*?)^\1```", re.M | re.S)


def workflows(text: str) -> list[str]:
    found = []
    for match in _BLOCK.finditer(text):
        block = textwrap.dedent(match.group(2))
        if re.search(r"^on:", block, re.M) and re.search(r"^jobs:", block, re.M):
            found.append(block)
    return found


def actionlint() -> str:
    here = Path(sys.executable).parent / "actionlint"
    found = str(here) if here.exists() else shutil.which("actionlint")
    if found is None:
        pytest.skip("actionlint is not installed (pip install -e '.[dev]')")
    return found


def lint(tmp_path: Path, workflow: str) -> subprocess.CompletedProcess[str]:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ai-review.yml"
    path.write_text(workflow, encoding="utf-8")
    return subprocess.run(
        [actionlint(), "-no-color", "-shellcheck=", "-pyflakes=", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


WORKFLOWS = workflows(README.read_text(encoding="utf-8"))


def test_the_readme_has_its_workflows():
    assert len(WORKFLOWS) >= 2


@pytest.mark.parametrize("number", range(len(WORKFLOWS)))
def test_each_workflow_passes_actionlint(tmp_path: Path, number: int):
    done = lint(tmp_path, WORKFLOWS[number])
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path):
    broken = WORKFLOWS[0].replace(
        "uses: actions/cache/save@v5", "uses: actions/cache/save@v5\n          timeout: x", 1
    )
    assert lint(tmp_path, broken).returncode != 0
    injected = WORKFLOWS[0].replace('"origin/$BASE_REF"', '"origin/${{ github.head_ref }}"', 1)
    assert injected != WORKFLOWS[0]
    assert lint(tmp_path, injected).returncode != 0  # event text pasted into a script


def steps(workflow: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(workflow)
    [job] = data["jobs"].values()
    return job["steps"]


@pytest.mark.parametrize("number", range(len(WORKFLOWS)))
def test_the_cache_survives_a_failed_review(number: int):
    uses = [s.get("uses", "") for s in steps(WORKFLOWS[number])]
    assert not any(u.startswith("actions/cache@") for u in uses)  # saves on success only
    [save] = [
        s for s in steps(WORKFLOWS[number]) if s.get("uses", "").startswith("actions/cache/save@")
    ]
    assert save["if"].startswith("always()")
    assert any(u.startswith("actions/cache/restore@") for u in uses)


@pytest.mark.parametrize("number", range(len(WORKFLOWS)))
def test_runs_without_the_key_are_skipped_with_a_notice(number: int):
    first, *rest = steps(WORKFLOWS[number])
    assert "::notice" in first["run"] and "secrets.DASHSCOPE_API_KEY" in first["env"]["HAS_KEY"]
    for step in rest:
        assert "steps.key.outputs.skip != 'true'" in step.get("if", ""), step


@pytest.mark.parametrize("number", range(len(WORKFLOWS)))
def test_no_event_value_is_pasted_into_a_script(number: int):
    for step in steps(WORKFLOWS[number]):
        assert "${{" not in step.get("run", ""), step["run"]


@pytest.mark.parametrize("number", range(len(WORKFLOWS)))
def test_qwen_lsp_is_installed_from_a_checkout(number: int):
    runs = " ".join(s.get("run", "") for s in steps(WORKFLOWS[number]))
    assert "pip install qwen-lsp" not in runs and "pipx install qwen-lsp" not in runs
    assert "pipx install ./" in runs


def test_the_code_scanning_upload_has_its_permissions_and_a_category_per_scan():
    [workflow] = [w for w in WORKFLOWS if "upload-sarif" in w]
    data = yaml.safe_load(workflow)
    assert data["permissions"] == {
        "contents": "read",
        "security-events": "write",
        "actions": "read",
    }
    [upload] = [s for s in steps(workflow) if "upload-sarif" in s.get("uses", "")]
    category = upload["with"]["category"]
    assert "pull_request" in category and "'pull-request'" in category and "'branch'" in category
