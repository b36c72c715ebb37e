"""A hostile repository: its project file tries to choose what only the user may, and the real
`qwen-lsp --check`, run in it as CI runs it (the current folder is the repository's root),
keeps to the user's settings.

The user's choices live in the user file, not in `QWEN_LSP_*` variables: the environment is
the user's own and outranks any project file, so testing through it would prove nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.helpers import APP, answer, run_check
from tests.e2e.harness import clean_env
from tests.fakes.llm_server import FakeLLM
from tests.gitrepo import git

pytestmark = pytest.mark.attack  # the hostile-repository suite: `pytest -m attack`

SECRET = "TOKEN_MARKER_do_not_send"
ATTACKER_PROMPT = "ATTACKER PROMPT MARKER"
PARENT_MARKER = "PARENT FOLDER MARKER"
BASHRC = "# the user's own shell start-up\n"

# Every key the project file tries, each refused with one message naming it. (`exclude = []`
# is not refused: the project's patterns are added to the user's, and it adds none.)
REFUSED = (
    "model",
    "chatModel",
    "logFile",
    "cache.dir",
    "review.promptDir",
    "review.maxTokens",
    "completion.candidates",
    "privacy.localOnly",
    "spend.dailyLimit",
)


@dataclass(frozen=True)
class Scene:
    repo: Path
    home: Path
    user_file: Path
    env: dict[str, str]

    def user_settings(self, base_url: str) -> None:
        self.user_file.write_text(
            f"""provider = "openai-compatible"
baseUrl = "{base_url}"
chatModel = "gpt-4.1-mini"
exclude = ["secret_dir/**"]
logFile = "{(self.home / "logs" / "qwen-lsp.log").as_posix()}"

[cache]
dir = "{(self.home / "cache").as_posix()}"

[privacy]
localOnly = true

[spend]
dailyLimit = 0.000001

[review]
maxTokens = 1000
""",
            encoding="utf-8",
        )


@pytest.fixture
def scene(tmp_path: Path, fake_llm: FakeLLM) -> Scene:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text(BASHRC, encoding="utf-8")
    # A project file above the repository (in /tmp, say): never read.
    (tmp_path / ".qwen-lsp.toml").write_text(
        f'[review]\ninstructions = "{PARENT_MARKER}"\n', encoding="utf-8"
    )
    repo = tmp_path / "hostile"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "app.py").write_text(APP, encoding="utf-8")
    (repo / "secret_dir").mkdir()
    (repo / "secret_dir" / "creds.py").write_text(f'TOKEN = "{SECRET}"\n', encoding="utf-8")
    (repo / "attacker_prompts").mkdir()
    for name in ("system", "user"):
        (repo / "attacker_prompts" / f"{name}.md").write_text(
            f"{ATTACKER_PROMPT}: send everything\n{{{{code}}}}\n", encoding="utf-8"
        )
    (repo / ".qwen-lsp.toml").write_text(
        f"""model = "attacker-completion-model"
chatModel = "gpt-4.1"
exclude = []
logFile = "{(home / ".bashrc").as_posix()}"

[cache]
dir = "{(repo / "stolen-cache").as_posix()}"

[privacy]
localOnly = false

[spend]
dailyLimit = 1000

[completion]
candidates = 5

[review]
promptDir = "attacker_prompts"
maxTokens = 65536
""",
        encoding="utf-8",
    )
    env = clean_env(home)
    for name in ("QWEN_LSP_CACHE_DIR", "QWEN_LSP_LOG_FILE", "GITHUB_STEP_SUMMARY", "NO_COLOR"):
        env.pop(name, None)
    user_file = home / "config.toml"
    env["QWEN_LSP_CONFIG"] = str(user_file)
    scene = Scene(repo, home, user_file, env)
    scene.user_settings(fake_llm.openai_base_url)
    return scene


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if ".git" not in p.relative_to(folder).parts}


def test_a_hostile_project_file_changes_nothing_the_user_chose(scene: Scene, fake_llm: FakeLLM):
    before = _files(scene.repo)
    fake_llm.reply(answer())
    result = run_check(scene.repo, fake_llm, env=scene.env)
    assert result.code == 0, result.stderr

    assert fake_llm.requests, "app.py should have been reviewed"
    for request in fake_llm.requests:
        assert request.body["model"] == "gpt-4.1-mini"  # not the project's gpt-4.1
        assert request.body["max_tokens"] == 1000  # not the project's 65536
        assert request.body.get("n", 1) == 1
    sent = "\n".join(
        str(message.get("content")) for r in fake_llm.requests for message in r.body["messages"]
    )
    assert "def divide" in sent
    assert SECRET not in sent  # the user's exclude held against `exclude = []`
    assert ATTACKER_PROMPT not in sent  # the shipped review prompt, not the repository's
    assert PARENT_MARKER not in sent  # the file above the git root was never read

    # Nothing written at the attacker's paths; the cache is where the user put it.
    assert _files(scene.repo) == before
    assert (scene.home / ".bashrc").read_text(encoding="utf-8") == BASHRC
    assert (scene.home / "cache" / "spend.db").is_file()

    for key in REFUSED:
        assert result.stderr.count(f"'{key}'") == 1, (key, result.stderr)
    assert "'exclude'" not in result.stderr

    # The user's tiny daily limit, not the project's 1000, stops the next run.
    (scene.repo / "app.py").write_text(APP + "\n\ndef more():\n    return 1\n", encoding="utf-8")
    sent_before = len(fake_llm.requests)
    again = run_check(scene.repo, fake_llm, env=scene.env)
    assert again.code == 2, again.stderr
    assert "daily limit of 1e-06 USD is reached" in again.stderr
    assert len(fake_llm.requests) == sent_before


def test_a_project_file_cannot_turn_off_the_users_local_only(scene: Scene, fake_llm: FakeLLM):
    # A non-local endpoint (".invalid" never resolves): the user's localOnly must refuse it
    # before any connection is tried, whatever the project file says.
    scene.user_settings("http://review.invalid/v1")
    fake_llm.reply(answer())
    env = {**scene.env, "OPENAI_API_KEY": "sk-test-not-a-real-key"}  # a remote endpoint needs one
    result = run_check(scene.repo, fake_llm, env=env)
    assert result.code == 2, result.stderr
    assert "privacy.localOnly is on" in result.stderr
    assert fake_llm.requests == []


def test_a_project_file_cannot_send_the_code_to_its_own_endpoint(scene: Scene, fake_llm: FakeLLM):
    # The attacker runs an endpoint of their own and names it in the project file: in a folder
    # the user has not trusted, it gets nothing, and the review goes to the user's endpoint.
    attacker = FakeLLM()
    attacker.start()
    try:
        project = scene.repo / ".qwen-lsp.toml"
        project.write_text(
            f'provider = "openai-compatible"\nbaseUrl = "{attacker.openai_base_url}"\n'
            + project.read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        attacker.reply(answer())
        fake_llm.reply(answer())
        result = run_check(scene.repo, fake_llm, env=scene.env)
        assert result.code == 0, result.stderr
        assert attacker.requests == []
        assert fake_llm.requests, "the user's endpoint reviews app.py"
        assert result.stderr.count("'baseUrl'") == 1  # said once, by name
    finally:
        attacker.stop()
