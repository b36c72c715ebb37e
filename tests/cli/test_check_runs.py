"""`qwen-lsp --check` runs: what is sent, what is paid, and what happens when the model or
the endpoint misbehaves. The real CLI against the fake LLM, on real files and real git."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import APP, answer, check_env, finding, run_check, user_messages
from tests.gitrepo import git

LEAK = finding(5, 6)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP, encoding="utf-8")
    return root


def many_functions(count: int) -> str:
    return "".join(
        f"def handler_{n}(request, store):\n"
        f"    record = store.get(request.key_{n})\n"
        f"    if record is None:\n"
        f"        raise KeyError(request.key_{n})\n"
        f"    return record.value * {n}\n\n\n"
        for n in range(count)
    )


# -- the cache --------------------------------------------------------------------------------


def test_a_rerun_on_unchanged_code_makes_no_provider_call(project: Path, fake_llm):
    (project / "big.py").write_text(many_functions(60), encoding="utf-8")
    fake_llm.reply(answer(LEAK))
    first = run_check(project, fake_llm, "--format", "json")
    calls = len(fake_llm.requests)
    assert calls > 2, "big.py should take several chunks"
    assert first.json()["summary"]["calls"] == calls

    second = run_check(project, fake_llm, "--format", "json")
    assert len(fake_llm.requests) == calls  # nothing sent
    assert second.json()["findings"] == first.json()["findings"]
    summary = second.json()["summary"]
    assert summary["cached"] == summary["chunks"] == calls
    assert summary["cost"] == 0
    assert summary["saved"] > 0
    assert f"({calls} answered from the cache)" in second.stderr
    assert "saved by the cache: 0.0" in second.stderr


def test_an_edit_near_the_top_costs_only_the_chunks_it_touched(project: Path, fake_llm):
    (project / "app.py").write_text(many_functions(80), encoding="utf-8")
    fake_llm.reply(answer())
    assert run_check(project, fake_llm).code == 0
    chunks = len(fake_llm.requests)
    assert chunks >= 4
    (project / "app.py").write_text("import logging\n\n\n" + many_functions(80), encoding="utf-8")
    assert run_check(project, fake_llm).code == 0
    # Chunks are cut by content and numbered from 1 each, so the code below the edit is
    # asked about exactly as before.
    assert len(fake_llm.requests) - chunks <= 2


# -- --diff -------------------------------------------------------------------------------------


BEFORE = """def parse(text):
    return int(text)


class Store:
    def __init__(self):
        self.items = {}

    def put(self, key, value):
        self.items[key] = value

    def get(self, key):
        return self.items[key]


def untouched():
    return "this function is not part of the change"
"""

AFTER = BEFORE.replace(
    "    def get(self, key):\n        return self.items[key]\n",
    "    def get(self, key):\n        value = self.items.get(key)\n        return value.strip()\n",
)


def test_diff_reviews_only_the_changed_hunks_with_their_function(project: Path, fake_llm):
    (project / "app.py").unlink()
    git(project, "init", "-q", "-b", "main")
    (project / "store.py").write_text(BEFORE, encoding="utf-8")
    (project / "other.py").write_text("def other():\n    return 1\n", encoding="utf-8")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "first")
    git(project, "checkout", "-q", "-b", "feature")
    (project / "store.py").write_text(AFTER, encoding="utf-8")
    git(project, "commit", "-q", "-am", "change get")
    # A commit on main after the branch left it is not part of the branch's change.
    git(project, "checkout", "-q", "main")
    (project / "other.py").write_text("def other():\n    return 2\n", encoding="utf-8")
    git(project, "commit", "-q", "-am", "main moves on")
    git(project, "checkout", "-q", "feature")

    # Lines are numbered from 1 at the chunk's first line: `get` starts the chunk, the
    # changed lines are its lines 2-3; line 1 is context only.
    fake_llm.reply(
        answer(
            finding(3, path="store.py", rule="none-attribute", severity="error"),
            finding(1, path="store.py", rule="outside"),
        )
    )
    result = run_check(project, fake_llm, "--diff", "main", "--format", "json")
    assert result.code == 1, result.stderr
    [prompt] = user_messages(fake_llm)
    assert "def get(self, key):" in prompt
    assert "return value.strip()" in prompt
    assert "Review lines 2-3" in prompt
    assert "def parse" not in prompt and "def untouched" not in prompt
    assert "other.py" not in prompt
    [item] = result.json()["findings"]
    assert (item["path"], item["line"], item["rule"]) == ("store.py", 14, "none-attribute")
    assert result.json()["summary"]["outside"] == 1


def test_diff_from_a_patch_on_stdin(project: Path, fake_llm):
    (project / "store.py").write_text(AFTER, encoding="utf-8")
    patch = (
        "--- a/store.py\n+++ b/store.py\n"
        "@@ -12,2 +12,3 @@ class Store:\n"
        "     def get(self, key):\n"
        "-        return self.items[key]\n"
        "+        value = self.items.get(key)\n"
        "+        return value.strip()\n"
    )
    fake_llm.reply(answer())
    (project / "lib").mkdir()
    elsewhere = run_check(project, fake_llm, "lib", "--diff", "-", stdin=patch)
    assert elsewhere.code == 0
    assert "no lines changed in the patch under lib" in elsewhere.stderr
    assert fake_llm.requests == []
    result = run_check(project, fake_llm, "--diff", "-", stdin=patch)
    assert result.code == 0, result.stderr
    [prompt] = user_messages(fake_llm)
    assert "return value.strip()" in prompt and "def untouched" not in prompt
    assert "Review lines 2-3" in prompt


def test_diff_with_nothing_changed_sends_nothing(project: Path, fake_llm):
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "first")
    result = run_check(project, fake_llm, "--diff", "main")
    assert result.code == 0
    assert "no lines changed since main" in result.stderr
    assert fake_llm.requests == []


def test_diff_against_an_unknown_ref_is_a_usage_error(project: Path, fake_llm):
    git(project, "init", "-q", "-b", "main")
    result = run_check(project, fake_llm, "--diff", "no-such-branch")
    assert result.code == 2
    assert "git" in result.stderr
    assert fake_llm.requests == []


# -- what is read ---------------------------------------------------------------------------------


def test_gitignore_exclude_and_secret_files_never_reach_a_prompt(project: Path, fake_llm):
    (project / ".gitignore").write_text("build/\n*.gen.py\n", encoding="utf-8")
    (project / "build").mkdir()
    (project / "build" / "out.py").write_text("SECRET_BUILD = 1\n", encoding="utf-8")
    (project / "api.gen.py").write_text("GENERATED = 1\n", encoding="utf-8")
    (project / "vendor").mkdir()
    (project / "vendor" / "lib.py").write_text("VENDORED = 1\n", encoding="utf-8")
    (project / ".env").write_text("API_TOKEN=abc\n", encoding="utf-8")
    (project / ".qwen-lsp.toml").write_text('exclude = ["vendor/*"]\n', encoding="utf-8")
    fake_llm.reply(answer())
    result = run_check(project, fake_llm, ".", ".env")
    assert result.code == 0, result.stderr
    sent = "".join(user_messages(fake_llm))
    assert "def divide" in sent
    for text in ("SECRET_BUILD", "GENERATED", "VENDORED", "API_TOKEN"):
        assert text not in sent
    assert "skipped .env" in result.stderr


# -- the model's answers ------------------------------------------------------------------------


def test_malformed_findings_are_dropped_and_counted(project: Path, fake_llm):
    fake_llm.reply(
        answer(
            LEAK,
            {"line": "five", "message": "no line number"},
            {"line": 2, "severity": "purple", "message": "unknown severity"},
            {"line": 3, "endLine": 1, "severity": "info", "message": "ends before it starts"},
            finding(40, rule="past-the-end"),
        )
    )
    result = run_check(project, fake_llm, "--format", "json")
    assert result.code == 0, result.stderr
    report = result.json()
    assert [f["rule"] for f in report["findings"]] == ["resource-leak"]
    assert report["summary"]["malformed"] == 3
    assert report["summary"]["outside"] == 1
    assert "dropped 4 findings (3 malformed, 1 outside the reviewed lines)" in result.stderr


def test_a_fenced_answer_is_still_read(project: Path, fake_llm):
    fake_llm.reply("Here is my review:\n```json\n" + answer(LEAK) + "\n```\n")
    result = run_check(project, fake_llm, "--format", "json")
    assert [f["line"] for f in result.json()["findings"]] == [5]


def test_an_answer_that_is_not_json_is_asked_again_once_then_fails_its_chunk(
    project: Path, fake_llm
):
    (project / "other.py").write_text("def other(x):\n    return x + 1\n", encoding="utf-8")
    fake_llm.enqueue("The code looks fine to me!", "Still fine, really.")
    fake_llm.reply(answer())
    result = run_check(project, fake_llm, "--jobs", "1", "--format", "json", "app.py", "other.py")
    assert result.code == 2  # incomplete: one chunk got no usable answer
    assert "1 of 2 chunks got no usable answer" in result.stderr
    assert "not JSON" in result.stderr
    summary = result.json()["summary"]
    assert summary["complete"] is False  # the report is still written
    assert summary["calls"] == 3  # the broken answers were paid for, and are counted
    _, repair, other = fake_llm.requests
    assert [m["role"] for m in repair.body["messages"]][-2:] == ["assistant", "user"]
    assert repair.body["messages"][-2]["content"] == "The code looks fine to me!"
    assert "could not be read" in repair.body["messages"][-1]["content"]
    assert "def other" in other.body["messages"][-1]["content"]  # the run went on
    fake_llm.reply(answer(LEAK))
    again = run_check(project, fake_llm, "--format", "json", "app.py", "other.py")
    assert again.code == 0, again.stderr
    assert len(fake_llm.requests) == 4  # asked again: a broken answer is never cached


def test_a_repaired_answer_is_used_and_cached(project: Path, fake_llm):
    fake_llm.enqueue("Looks fine!")
    fake_llm.reply(answer(LEAK))
    result = run_check(project, fake_llm, "--format", "json")
    assert result.code == 0, result.stderr
    assert [f["line"] for f in result.json()["findings"]] == [5]
    assert len(fake_llm.requests) == 2


def test_severities_in_other_words_are_mapped_not_dropped(project: Path, fake_llm):
    fake_llm.reply(
        answer(
            finding(5, severity="Critical", rule="a"),
            finding(6, severity="medium", rule="b"),
            finding(9, severity="minor", rule="c"),
            finding(10, severity="blocker", rule="d"),
        )
    )
    result = run_check(project, fake_llm, "--format", "json")
    assert result.code == 1, result.stderr  # critical and blocker are errors: the run fails
    got = {f["rule"]: f["severity"] for f in result.json()["findings"]}
    assert got == {"a": "error", "b": "warning", "c": "info", "d": "error"}


# -- the endpoint -------------------------------------------------------------------------------


def test_a_storm_of_429s_is_ridden_out_with_backoff(project: Path, fake_llm):
    for n in range(4):
        (project / f"mod{n}.py").write_text(f"def f{n}(x):\n    return x / {n}\n", encoding="utf-8")
    fake_llm.reply(answer(finding(2, path="x")))  # path mismatch: counted as outside
    fake_llm.fault("429", times=5, retry_after=0.2)
    result = run_check(project, fake_llm, "--jobs", "4", "--format", "json")
    assert result.code == 0, result.stderr
    summary = result.json()["summary"]
    assert summary["chunks"] == 5 and summary["failed"] == 0 and summary["calls"] == 5
    assert len(fake_llm.requests) == 5 + 5  # every 429 retried, every chunk answered


def test_429_without_end_gives_up_after_three_requests(project: Path, fake_llm):
    fake_llm.fault("429", retry_after=0.05)
    result = run_check(project, fake_llm)
    assert result.code == 2
    assert "rate limiting" in result.stderr
    assert len(fake_llm.requests) == 3  # at most three requests per chunk, in all


def test_a_down_endpoint_stops_the_run_instead_of_retrying_every_chunk(project: Path, fake_llm):
    for n in range(30):
        (project / f"mod{n}.py").write_text(f"def f{n}(x):\n    return x / {n}\n", encoding="utf-8")
    fake_llm.fault("503")
    result = run_check(project, fake_llm, "--jobs", "4", "--format", "json")
    assert result.code == 2
    assert "review stopped" in result.stderr and "3 times in a row" in result.stderr
    assert "cannot reach" in result.stderr  # what kept failing
    # a few requests before the circuit breaker opened, not 31 chunks x 3 attempts
    assert len(fake_llm.requests) <= 4 + 2
    assert result.json()["summary"]["complete"] is False


def test_an_endpoint_without_json_mode_is_asked_in_plain_text(project: Path, fake_llm):
    fake_llm.json_mode_refused = True
    fake_llm.reply(answer(LEAK))
    result = run_check(project, fake_llm, "--format", "json")
    assert result.code == 0, result.stderr
    first, second = fake_llm.requests
    assert first.body["response_format"] == {"type": "json_object"}
    assert "response_format" not in second.body
    assert len(result.json()["findings"]) == 1


def test_no_key_is_a_clear_error(project: Path, fake_llm):
    env = check_env(project.parent, fake_llm, QWEN_LSP_PROVIDER="dashscope")
    result = run_check(project, fake_llm, env=env)
    assert result.code == 2
    assert "no API key for dashscope" in result.stderr
    assert fake_llm.requests == []


# -- cost -----------------------------------------------------------------------------------------


def test_dry_run_sends_nothing_and_prices_every_model(project: Path, fake_llm):
    result = run_check(project, fake_llm, "--dry-run", "app.py")  # paths may come last
    assert result.code == 0, result.stderr
    assert fake_llm.requests == []
    out = result.stdout
    assert "nothing is sent" in out
    assert "app.py:1-10" in out and "all lines" in out
    assert "1 chunks from 1 files: 1 to send, 0 answered from the cache" in out
    for model in ("qwen3-coder-plus", "qwen3-coder-flash", "gpt-4.1", "gpt-4o-mini"):
        assert model in out
    assert "gpt-4.1-mini *" in out

    fake_llm.reply(answer())
    run_check(project, fake_llm)
    again = run_check(project, fake_llm, "--dry-run")
    assert "(cached: free)" in again.stdout
    assert "0 to send, 1 answered from the cache" in again.stdout
    assert len(fake_llm.requests) == 1


def test_max_cost_stops_before_paying(project: Path, fake_llm):
    result = run_check(project, fake_llm, "--max-cost", "0.0000001")
    assert result.code == 2
    assert "--max-cost 1e-07 USD reached" in result.stderr
    assert fake_llm.requests == []


def test_spend_budget_reached_stops_with_exit_2(project: Path, fake_llm):
    (project / ".qwen-lsp.toml").write_text("[spend]\ndailyLimit = 0.0\n", encoding="utf-8")
    result = run_check(project, fake_llm)
    assert result.code == 2
    assert "spend budget reached" in result.stderr
    assert fake_llm.requests == []
