"""`qwen-lsp --check` a CI job can trust: a failing endpoint stops the run fast, a run that did
not review everything never passes for a clean one, signals and time limits leave a report.
The real CLI against the fake LLM, on real files and real git."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import APP, answer, check_env, finding, run_check
from tests.gitrepo import git

LEAK = finding(5, 6)
FIRST_LINE = finding(1, path="")  # fits any chunk: every file has a first line


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP, encoding="utf-8")
    return root


def modules(project: Path, count: int) -> None:
    for n in range(count):
        (project / f"mod{n}.py").write_text(f"def f{n}(x):\n    return x / {n}\n", encoding="utf-8")


def user_file(project: Path, text: str) -> dict[str, str]:
    """An environment whose user settings file says `text` (the user may set anything)."""
    path = project.parent / "user-config.toml"
    path.write_text(text, encoding="utf-8")
    return {"QWEN_LSP_CONFIG": str(path)}


# -- the endpoint stops the run -----------------------------------------------------------------


def test_an_exhausted_quota_stops_the_run_at_once(project: Path, fake_llm):
    modules(project, 20)
    fake_llm.fault("quota")
    result = run_check(project, fake_llm, "--jobs", "2", "--format", "json")
    assert result.code == 2
    assert "review stopped" in result.stderr and "quota is exhausted" in result.stderr
    assert len(fake_llm.requests) <= 2  # the jobs in flight, no retry, no other chunk
    summary = result.json()["summary"]
    assert summary["complete"] is False and summary["skipped"] >= 19


def test_an_exhausted_dashscope_account_stops_the_run(project: Path, fake_llm):
    modules(project, 5)
    fake_llm.fault("quota")
    env = check_env(
        project.parent,
        fake_llm,
        QWEN_LSP_PROVIDER="dashscope",
        QWEN_LSP_BASE_URL=fake_llm.dashscope_base_url,
        DASHSCOPE_API_KEY="sk-test",
        QWEN_LSP_CHAT_MODEL="qwen3-coder-plus",
    )
    result = run_check(project, fake_llm, "--jobs", "1", env=env)
    assert result.code == 2
    assert "quota is exhausted" in result.stderr
    assert len(fake_llm.requests) == 1  # not taken for a JSON-mode refusal and asked again


def test_a_refused_key_stops_the_run_at_once(project: Path, fake_llm):
    modules(project, 20)
    fake_llm.fault("401")
    result = run_check(project, fake_llm, "--jobs", "2")
    assert result.code == 2
    assert "refused the API key" in result.stderr
    assert len(fake_llm.requests) <= 2


def test_an_endpoint_nobody_listens_on_stops_the_run(project: Path, fake_llm):
    modules(project, 40)
    env = check_env(project.parent, fake_llm)
    fake_llm.stop()  # connection refused from now on
    result = run_check(project, fake_llm, "--jobs", "4", "--format", "json", env=env)
    assert result.code == 2
    assert "review stopped" in result.stderr and "cannot reach" in result.stderr
    summary = result.json()["summary"]
    assert summary["skipped"] >= 30  # stopped early, not every chunk tried three times


def test_a_hung_endpoint_costs_one_round_of_deadlines_not_three(project: Path, fake_llm):
    (project / "other.py").write_text("def other(x):\n    return x\n", encoding="utf-8")
    fake_llm.fault("hang")
    env = check_env(project.parent, fake_llm, **user_file(project, "[review]\ntimeoutMs = 4000\n"))
    result = run_check(project, fake_llm, "--jobs", "4", "--format", "json", env=env)
    assert result.code == 2
    assert "within its deadline" in result.stderr and "2 requests in a row" in result.stderr
    # Both chunks were sent once and timed out at about the same moment: the run stopped at
    # the second deadline in a row. The first chunk's retry may leave in the instant between
    # the two deadlines (on a busy machine it does), and is cancelled with the run: never a
    # second round of deadlines.
    assert len(fake_llm.requests) in (2, 3)
    assert result.json()["summary"]["complete"] is False


def test_an_endless_429_storm_costs_at_most_three_requests_per_chunk(project: Path, fake_llm):
    modules(project, 5)
    fake_llm.fault("429", retry_after=0.05)
    result = run_check(project, fake_llm, "--jobs", "4", "--format", "json")
    assert result.code == 2
    summary = result.json()["summary"]
    assert summary["chunks"] == 6
    assert len(fake_llm.requests) <= 3 * 6


# -- a whole-run time limit ----------------------------------------------------------------------


def test_timeout_ends_a_hung_run_and_writes_what_finished(project: Path, fake_llm):
    (project / "other.py").write_text("def other(x):\n    return x\n", encoding="utf-8")
    fake_llm.reply(answer(FIRST_LINE))
    fake_llm.fault("hang", times=1)  # one chunk's request hangs, the other is answered
    result = run_check(project, fake_llm, "--jobs", "2", "--timeout", "8", "--format", "sarif")
    assert result.code == 2
    assert "--timeout 8 s reached" in result.stderr
    run = json.loads(result.stdout)["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert len(run["results"]) == 1  # the finished chunk's finding is reported


def test_run_timeout_is_a_setting_a_project_may_only_lower(project: Path, fake_llm):
    (project / ".qwen-lsp.toml").write_text("[review]\nrunTimeout = 99999\n", encoding="utf-8")
    env = check_env(project.parent, fake_llm, **user_file(project, "[review]\nrunTimeout = 60\n"))
    fake_llm.reply(answer())
    result = run_check(project, fake_llm, env=env)
    assert result.code == 0, result.stderr
    assert "narrow-only" in result.stderr  # the project's higher value was refused


# -- signals -------------------------------------------------------------------------------------


def start_check(project: Path, fake_llm, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "qwen_lsp", "--check", *args],
        cwd=project,
        env=check_env(project.parent, fake_llm),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_writes_what_finished_and_keeps_paid_answers(
    project: Path, fake_llm, signum: int, code: int
):
    (project / "other.py").write_text("def other(x):\n    return x\n", encoding="utf-8")
    fake_llm.reply(answer(FIRST_LINE))
    fake_llm.fault("hang", times=1)  # one chunk's request hangs, the other is answered
    proc = start_check(project, fake_llm, "--jobs", "2", "--format", "json")
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # progress lines: wait until the answered chunk is done
        seen.append(line)
        if "1/2 chunks" in line:
            break
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    stderr = "".join(seen) + stderr
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert f"interrupted by {signal.Signals(signum).name}" in stderr
    report = json.loads(stdout)
    assert report["summary"]["complete"] is False
    assert len(report["findings"]) == 1
    assert len(fake_llm.requests) == 2
    fake_llm.clear_faults()
    again = run_check(project, fake_llm, "--format", "json")
    assert again.code == 0, again.stderr
    assert len(again.json()["findings"]) == 2
    assert len(fake_llm.requests) == 3  # the answer paid before the signal came from the cache


# -- never a false green -------------------------------------------------------------------------


def test_a_path_that_does_not_exist_is_an_error(project: Path, fake_llm):
    result = run_check(project, fake_llm, "app.py", "no-such-dir")
    assert result.code == 2
    assert "no-such-dir: no such file or folder" in result.stderr
    assert fake_llm.requests == []


def test_an_invalid_setting_stops_check_before_anything_is_sent(project: Path, fake_llm):
    (project / ".qwen-lsp.toml").write_text('[spend]\ndailyLimit = "lots"\n', encoding="utf-8")
    result = run_check(project, fake_llm)
    assert result.code == 2
    assert "spend.dailyLimit" in result.stderr and "invalid setting" in result.stderr
    assert fake_llm.requests == []


def test_a_trust_refusal_is_not_an_invalid_setting(project: Path, fake_llm):
    (project / ".qwen-lsp.toml").write_text('chatModel = "gpt-4.1"\n', encoding="utf-8")
    fake_llm.reply(answer())
    result = run_check(project, fake_llm)
    assert result.code == 0, result.stderr
    assert "trusted-only" in result.stderr


def test_an_incomplete_text_report_says_how_much_it_reviewed(project: Path, fake_llm):
    modules(project, 10)
    fake_llm.fault("503")
    result = run_check(project, fake_llm, "--jobs", "1")
    assert result.code == 2
    assert "no findings" not in result.stdout + result.stderr
    assert "INCOMPLETE: reviewed 0 of 11 chunks" in result.stdout


def test_findings_in_an_incomplete_run_still_exit_2(project: Path, fake_llm):
    (project / "other.py").write_text("def other(x):\n    return x\n", encoding="utf-8")
    fake_llm.enqueue(answer(finding(5, severity="error")))
    fake_llm.reply("not json at all")
    result = run_check(project, fake_llm, "--jobs", "1", "app.py", "other.py")
    assert result.code == 2
    assert "INCOMPLETE: reviewed 1 of 2 chunks; 1 finding (1 error) in those" in result.stdout


# -- --diff ---------------------------------------------------------------------------------------


def test_diff_names_an_unknown_ref_and_how_to_fetch_it(project: Path, fake_llm):
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "first")
    result = run_check(project, fake_llm, "--diff", "no-such-branch")
    assert result.code == 2
    assert "git knows no commit named 'no-such-branch'" in result.stderr
    assert "git fetch origin no-such-branch" in result.stderr
    assert fake_llm.requests == []


def shallow_clone(project: Path, tmp: Path) -> Path:
    """A clone of `project` one commit deep on `feature`, as CI checkouts are by default."""
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "first")
    git(project, "checkout", "-q", "-b", "feature")
    for n in range(3):
        (project / "app.py").write_text(APP + f"\n\ndef more{n}():\n    return {n}\n")
        git(project, "commit", "-q", "-am", f"change {n}")
    clone = tmp / "clone"
    git(tmp, "clone", "-q", "--depth", "1", "--branch", "feature", project.as_uri(), str(clone))
    return clone


def test_diff_in_a_shallow_clone_says_how_to_fetch_the_history(
    project: Path, fake_llm, tmp_path: Path
):
    clone = shallow_clone(project, tmp_path)
    result = run_check(clone, fake_llm, "--diff", "main")
    assert result.code == 2
    assert "shallow clone" in result.stderr and "fetch-depth: 0" in result.stderr
    assert "git fetch --unshallow" in result.stderr
    # The remote branch is there, its history is not: no silent diff against its tree.
    git(clone, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    again = run_check(clone, fake_llm, "--diff", "origin/main")
    assert again.code == 2
    assert "common ancestor of origin/main and HEAD is not in this shallow clone" in again.stderr
    assert fake_llm.requests == []


def test_paths_are_relative_to_the_repository_root_from_a_subfolder(project: Path, fake_llm):
    (project / "pkg").mkdir()
    (project / "pkg" / "mod.py").write_text("def f(x):\n    return x / 0\n", encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    fake_llm.reply(answer(finding(2, path="pkg/mod.py")))
    env = check_env(project.parent, fake_llm)  # one cache for the three runs
    from_root = run_check(project, fake_llm, "--format", "json", "pkg", env=env)
    assert [f["path"] for f in from_root.json()["findings"]] == ["pkg/mod.py"]
    asked = len(fake_llm.requests)
    from_sub = run_check(project / "pkg", fake_llm, "--format", "json", env=env)
    assert from_sub.code == from_root.code, from_sub.stderr
    assert [f["path"] for f in from_sub.json()["findings"]] == ["pkg/mod.py"]
    assert len(fake_llm.requests) == asked  # the same prompts: answered from the cache
    named = run_check(project / "pkg", fake_llm, "--format", "json", "mod.py", env=env)
    assert [f["path"] for f in named.json()["findings"]] == ["pkg/mod.py"]
    assert len(fake_llm.requests) == asked


def test_diff_from_a_subfolder_uses_root_relative_paths(project: Path, fake_llm):
    (project / "pkg").mkdir()
    (project / "pkg" / "mod.py").write_text("def f(x):\n    return x\n", encoding="utf-8")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "first")
    (project / "pkg" / "mod.py").write_text("def f(x):\n    return x / 0\n", encoding="utf-8")
    fake_llm.reply(answer(finding(2, path="pkg/mod.py")))
    env = check_env(project.parent, fake_llm)
    result = run_check(project / "pkg", fake_llm, "--diff", "main", "--format", "json", env=env)
    assert result.code == 0, result.stderr
    assert [f["path"] for f in result.json()["findings"]] == ["pkg/mod.py"]


# -- --dry-run ------------------------------------------------------------------------------------


def test_dry_run_writes_a_json_estimate_to_the_output_file(project: Path, fake_llm):
    result = run_check(project, fake_llm, "--dry-run", "--format", "json", "--output", "est.json")
    assert result.code == 0, result.stderr
    assert result.stdout == ""
    estimate = json.loads((project / "est.json").read_text(encoding="utf-8"))
    assert estimate["files"] == 1 and estimate["chunks"] == 1 and estimate["toSend"] == 1
    assert estimate["inputTokens"] > 0
    costs = {c["model"]: c for c in estimate["costs"]}
    assert costs["gpt-4.1-mini"]["configured"] is True
    assert costs["qwen3-coder-plus"]["worstCost"] >= costs["qwen3-coder-plus"]["inputCost"] > 0
    assert estimate["perChunk"][0]["path"] == "app.py"
    assert fake_llm.requests == []


def test_dry_run_refuses_a_format_it_cannot_write(project: Path, fake_llm):
    result = run_check(project, fake_llm, "--dry-run", "--format", "sarif")
    assert result.code == 2
    assert "--dry-run writes text or json" in result.stderr
