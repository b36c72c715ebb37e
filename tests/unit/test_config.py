"""Settings: precedence of sources, validation messages, trust, environment names."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from qwen_lsp.config import (
    NARROWINGS,
    TRUST_CLASSES,
    ReviewInstruction,
    Settings,
    describe_settings,
    load_settings,
    schema_keys,
    setting_field,
    trust_of,
)


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment whose user file is tmp/user.toml (absent until a test writes it)."""
    return {"QWEN_LSP_CONFIG": str(tmp_path / "user.toml")}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_source(tmp_path: Path, home):
    loaded = load_settings(tmp_path, env=home)
    assert loaded.settings.provider == "dashscope"
    assert loaded.settings.completion_model == "qwen3-coder-flash"
    assert loaded.settings.resolved_chat_model == "qwen3-coder-plus"
    assert loaded.base_url == "https://dashscope.aliyuncs.com/api/v1"
    assert loaded.problems == ()
    assert loaded.api_key is None


def test_each_source_overrides_the_one_below(tmp_path: Path, home):
    write(
        tmp_path / "user.toml",
        'model = "user"\nchatModel = "user"\nregion = "us"\n'
        "[completion]\nmaxTokens = 10\ntemperature = 0.5\ntimeoutMs = 1000\n",
    )
    project = tmp_path / "proj"
    write(
        project / ".qwen-lsp.toml",
        'chatModel = "project"\n[completion]\nmaxTokens = 20\ntemperature = 0.6\n',
    )
    env = {**home, "QWEN_LSP_COMPLETION_MAX_TOKENS": "30", "QWEN_LSP_COMPLETION_TIMEOUT_MS": "3000"}
    loaded = load_settings(
        project / "src",
        roots=[project],
        workspace_trusted=True,  # chatModel and maxTokens are trusted-only
        env=env,
        editor={"completion": {"maxTokens": 40}},
        workspace_config={"completion": {"maxTokens": 50}},
        cli={"model": "cli"},
    )
    s = loaded.settings
    assert s.model == "cli"  # flags beat the user file
    assert s.chat_model == "project"  # project beats user
    assert s.region == "us"  # only the user file set it
    assert s.completion.temperature == 0.6  # project beats user, key by key
    assert s.completion.timeout_ms == 3000  # environment beats both files
    assert s.completion.max_tokens == 50  # workspace/configuration beats initializationOptions
    assert loaded.project_file == project / ".qwen-lsp.toml"


def test_pyproject_tool_table_is_a_project_file(tmp_path: Path, home):
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.qwen-lsp]\nlanguage = "zh"\n')
    assert load_settings(tmp_path, env=home).settings.language == "zh"


@pytest.mark.parametrize(
    ("raw", "key", "reason"),
    [
        ({"completion": {"maxTokens": "lots"}}, "completion.maxTokens", "expected an integer"),
        ({"completion": {"maxTokens": 0}}, "completion.maxTokens", "at least 1"),
        ({"provider": "anthropic"}, "provider", "expected one of"),
        ({"completion": {"enabled": "yes"}}, "completion.enabled", "true or false"),
        ({"exclude": "*.env"}, "exclude", "list of strings"),
        ({"completion": 3}, "completion", "table of settings"),
    ],
)
def test_an_invalid_value_names_the_key_and_keeps_the_default(tmp_path, home, raw, key, reason):
    loaded = load_settings(tmp_path, env=home, editor=raw)
    [problem] = loaded.problems
    assert f"'{key}'" in problem and reason in problem
    defaults = load_settings(tmp_path, env=home).settings
    assert loaded.settings == defaults


def test_unknown_keys_are_reported(tmp_path, home):
    loaded = load_settings(tmp_path, env=home, editor={"modle": "x"})
    assert loaded.problems == ("unknown setting 'modle' ignored",)


def test_environment_variables_are_text_and_converted(tmp_path, home):
    env = {
        **home,
        "QWEN_LSP_PROVIDER": "openai",
        "QWEN_LSP_CHAT_MODEL": "gpt-x",
        "QWEN_LSP_COMPLETION_ENABLED": "false",
        "QWEN_LSP_EXCLUDE": "*.min.js, vendor/*",
        "QWEN_LSP_CACHE_DIR": str(tmp_path / "c"),
        "OPENAI_API_KEY": "sk-env",
    }
    loaded = load_settings(tmp_path, env=env)
    s = loaded.settings
    assert (s.provider, s.chat_model, s.completion.enabled) == ("openai", "gpt-x", False)
    assert s.exclude == ("*.min.js", "vendor/*")
    assert s.cache.dir == str(tmp_path / "c")
    assert (loaded.api_key, loaded.key_source) == ("sk-env", "OPENAI_API_KEY")


def test_every_key_has_an_environment_name_and_a_doc():
    documented = {key for key, _default, doc in describe_settings() if doc}
    assert documented == set(schema_keys())


def test_project_file_cannot_redirect_code_or_keys_unless_trusted(tmp_path: Path, home):
    project = tmp_path / "cloned"
    write(
        project / ".qwen-lsp.toml",
        'provider = "openai-compatible"\nbaseUrl = "http://attacker.example/v1"\n'
        'apiKey = "sk-project"\nlanguage = "zh"\n',
    )
    loaded = load_settings(project, env={**home, "DASHSCOPE_API_KEY": "sk-user"})
    assert loaded.settings.provider == "dashscope"
    assert loaded.base_url == "https://dashscope.aliyuncs.com/api/v1"
    assert loaded.api_key == "sk-user"
    assert loaded.settings.language == "zh"  # free keys still apply
    assert len(loaded.problems) == 3, loaded.problems  # one per key refused
    assert any("'provider'" in p and "not trusted" in p for p in loaded.problems)
    assert any("'apiKey'" in p and "never read from a project file" in p for p in loaded.problems)
    assert all("sk-project" not in p for p in loaded.problems)

    write(tmp_path / "user.toml", f'trustedFolders = ["{project.as_posix()}"]\n')
    trusted = load_settings(project, env=home)
    assert trusted.settings.provider == "openai-compatible"
    assert trusted.base_url == "http://attacker.example/v1"
    assert trusted.api_key is None  # a key still never comes from the project


def test_editor_workspace_trust_also_allows_redirects(tmp_path: Path, home):
    write(tmp_path / ".qwen-lsp.toml", 'baseUrl = "http://127.0.0.1:8000/v1"\n')
    loaded = load_settings(tmp_path, env=home, workspace_trusted=True)
    assert loaded.base_url == "http://127.0.0.1:8000/v1"


# -- trust classes ----------------------------------------------------------------------------


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # strings, numbers and lists of strings are the same in TOML


def _value(settings: Settings, key: str) -> Any:
    node: Any = settings
    for part in key.split("."):
        node = next(
            getattr(node, f.name)
            for f in dataclasses.fields(node)
            if f.name.replace("_", "") == part.lower()
        )
    return node


def _problems_naming(problems: tuple[str, ...], key: str) -> list[str]:
    return [p for p in problems if f"'{key}'" in p]


def test_every_setting_has_exactly_one_trust_class():
    for key in schema_keys():
        meta = setting_field(key)[0].metadata
        assert meta.get("trust") in TRUST_CLASSES, f"{key}: no trust class in its metadata"
        if meta["trust"] == "narrow-only":
            assert meta.get("narrow") in NARROWINGS, f"{key}: narrow-only without a rule"
        else:
            assert "narrow" not in meta, f"{key}: a narrowing rule, but not narrow-only"


SECRET_DIR = ["secret_dir/**"]

# key, value in the project file, value in the user file (None: not set), trusted folder?,
# the resolved value, whether the project's value is refused (one message naming the key)
TRUST_TABLE = [
    # user-only: never from a project file, trusted or not
    ("cache.dir", "/repo/cache", "/home/me/cache", True, "/home/me/cache", True),
    ("cache.dir", "/repo/cache", None, False, None, True),
    ("cache.enabled", False, None, True, True, True),
    ("cache.maxSizeMb", 100_000, 256, True, 256, True),
    ("logFile", "~/.bashrc", None, True, None, True),
    ("logLevel", "debug", "warning", True, "warning", True),
    ("review.promptDir", "prompts", None, True, None, True),
    ("spend.priceFile", "/repo/prices.toml", None, True, None, True),
    ("spend.currency", "USD", "CNY", True, "CNY", True),
    ("trustedFolders", ["/"], None, True, (), True),
    ("apiKey", "sk-project", None, True, None, True),
    # trusted-only: from a project file only in a trusted folder
    ("provider", "openai", None, False, "dashscope", True),
    ("provider", "openai", None, True, "openai", False),
    ("baseUrl", "http://attacker.example/v1", None, False, None, True),
    ("region", "us", None, False, "beijing", True),
    ("model", "huge", "small", False, "small", True),
    ("model", "huge", "small", True, "huge", False),
    ("chatModel", "huge", None, False, None, True),
    ("promptMode", "chat", None, False, "auto", True),
    ("completion.candidates", 5, None, False, 1, True),
    ("completion.candidates", 5, None, True, 5, False),
    ("completion.maxTokens", 4096, 64, False, 64, True),
    ("context.maxTokens", 100_000, None, False, 2048, True),
    ("review.maxTokens", 65_536, 1000, False, 1000, True),
    ("review.maxTokens", 4000, 1000, True, 4000, False),
    ("completion.debounceMs", 0, None, False, None, True),
    ("review.onSave", True, None, False, False, True),
    ("maxFileSize", 50_000_000, None, False, 1_000_000, True),
    # narrow-only: a project file may tighten, never loosen, trusted or not
    ("exclude", [], SECRET_DIR, True, ("secret_dir/**",), False),
    ("exclude", ["vendor/**"], SECRET_DIR, False, ("secret_dir/**", "vendor/**"), False),
    ("exclude", ["vendor/**"], None, False, ("vendor/**",), False),
    ("privacy.localOnly", False, True, True, True, True),
    ("privacy.localOnly", True, False, False, True, False),
    ("privacy.localOnly", True, None, False, True, False),
    ("spend.dailyLimit", 1000, 0.01, True, 0.01, True),
    ("spend.dailyLimit", 0.005, 0.01, False, 0.005, False),
    ("spend.dailyLimit", 5, None, False, 5.0, False),
    ("spend.monthlyLimit", 1000, 10, True, 10.0, True),
    ("spend.monthlyLimit", "lots", 10, True, 10.0, True),  # a bad value must not clear it
    ("completion.enabled", True, False, True, False, True),
    ("completion.enabled", False, None, False, False, False),
    ("completion.disabledLanguages", [], ["markdown"], True, ("markdown",), False),
    ("context.crossFile", True, False, True, False, True),
    # free
    ("language", "zh", "en", False, "zh", False),
    (
        "review.instructions",
        "Follow PEP 8.",
        None,
        False,
        (ReviewInstruction("Follow PEP 8."),),
        False,
    ),
    ("completion.temperature", 0.5, 0.3, False, 0.5, False),
]


@pytest.mark.parametrize(
    ("key", "project_value", "user_value", "trusted", "expected", "refused"), TRUST_TABLE
)
def test_trust_class_decides_what_a_project_file_may_set(
    tmp_path: Path, home, key, project_value, user_value, trusted, expected, refused
):
    if user_value is not None:
        write(tmp_path / "user.toml", f"{key} = {_toml(user_value)}\n")
    repo = tmp_path / "repo"
    write(repo / ".qwen-lsp.toml", f"{key} = {_toml(project_value)}\n")
    loaded = load_settings(repo, roots=[repo], env=home, workspace_trusted=trusted)
    assert _value(loaded.settings, key) == expected
    if refused:
        [problem] = loaded.problems
        assert f"'{key}'" in problem and "ignored" in problem
        assert "sk-project" not in problem  # nor any key's value
    else:
        assert loaded.problems == ()


def test_the_table_covers_every_trust_class_and_narrowing():
    keys = {row[0] for row in TRUST_TABLE}
    assert {trust_of(key) for key in keys} == set(TRUST_CLASSES)
    narrowed = {setting_field(key)[0].metadata.get("narrow") for key in keys}
    assert narrowed - {None} == set(NARROWINGS)


@pytest.mark.parametrize("trust", ["user-only", "trusted-only"])
def test_every_key_of_a_class_is_refused_with_one_message_naming_it(tmp_path: Path, home, trust):
    keys = [key for key in schema_keys() if trust_of(key) == trust]
    repo = tmp_path / "repo"
    # Every value is a string: refused keys are dropped before their value is looked at.
    write(repo / ".qwen-lsp.toml", "".join(f'{key} = "x"\n' for key in keys))
    loaded = load_settings(repo, env=home, workspace_trusted=trust == "user-only")
    assert loaded.settings == load_settings(tmp_path, env=home).settings
    assert len(loaded.problems) == len(keys), loaded.problems
    for key in keys:
        [problem] = _problems_naming(loaded.problems, key)
        assert f"is a {trust} setting" in problem
        assert str(repo / ".qwen-lsp.toml") in problem
        if trust == "trusted-only":
            assert "trustedFolders" in problem  # how to trust the folder


def test_a_trusted_folder_covers_its_subfolders_and_only_them(tmp_path: Path, home):
    work = tmp_path / "work"
    write(tmp_path / "user.toml", f'trustedFolders = ["{work.as_posix()}"]\n')
    write(work / "team" / ".qwen-lsp.toml", 'model = "team-model"\n')
    write(tmp_path / "other" / ".qwen-lsp.toml", 'model = "team-model"\n')
    assert load_settings(work / "team", env=home).settings.model == "team-model"
    elsewhere = load_settings(tmp_path / "other", env=home)
    assert elsewhere.settings.model is None
    assert _problems_naming(elsewhere.problems, "model")


def test_the_users_own_sources_are_not_filtered(tmp_path: Path, home):
    repo = tmp_path / "repo"
    write(repo / ".qwen-lsp.toml", '[cache]\ndir = "/repo/cache"\n')
    env = {**home, "QWEN_LSP_CACHE_DIR": str(tmp_path / "env-cache")}
    loaded = load_settings(repo, env=env, editor={"logLevel": "debug"}, cli={"model": "mine"})
    s = loaded.settings
    assert (s.cache.dir, s.log_level, s.model) == (str(tmp_path / "env-cache"), "debug", "mine")


@pytest.mark.parametrize("key", ["cache.dir", "logFile"])
def test_a_relative_cache_or_log_path_gets_one_message_and_the_default(tmp_path, home, key):
    write(tmp_path / "user.toml", f'{key} = "relative/place"\n')
    loaded = load_settings(tmp_path, env=home)
    [problem] = loaded.problems
    assert f"'{key}'" in problem and "absolute" in problem
    assert _value(loaded.settings, key) is None
    write(tmp_path / "user.toml", f'{key} = "~/place"\n')
    assert _value(load_settings(tmp_path, env=home).settings, key) == "~/place"


# -- where the project file is looked for ---------------------------------------------------------


def test_a_project_file_above_the_git_root_is_never_read(tmp_path: Path, home):
    write(tmp_path / ".qwen-lsp.toml", 'language = "zh"\n[privacy]\nlocalOnly = true\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    loaded = load_settings(repo / "src", env=home)
    assert loaded.project_file is None
    assert loaded.settings.language == "auto"

    write(repo / "pyproject.toml", '[project]\nname = "x"\n')  # no [tool.qwen-lsp]: not one
    assert load_settings(repo / "src", env=home).project_file is None
    write(repo / ".qwen-lsp.toml", 'language = "en"\n')  # up to the git root it is found
    assert load_settings(repo / "src", env=home).project_file == repo / ".qwen-lsp.toml"


def test_a_git_worktree_file_is_a_git_root_too(tmp_path: Path, home):
    write(tmp_path / ".qwen-lsp.toml", 'language = "zh"\n')
    write(tmp_path / "wt" / ".git", "gitdir: /elsewhere\n")
    assert load_settings(tmp_path / "wt", env=home).project_file is None


def test_the_search_stops_at_the_workspace_folder(tmp_path: Path, home):
    write(tmp_path / ".qwen-lsp.toml", 'language = "zh"\n')
    workspace = tmp_path / "workspace"
    (workspace / "pkg").mkdir(parents=True)
    for folder in (workspace, workspace / "pkg"):
        loaded = load_settings(folder, roots=[workspace], env=home)
        assert loaded.project_file is None
    # No workspace folder and no git root: only the folder itself is looked at.
    assert load_settings(workspace / "pkg", env=home).project_file is None


def test_a_broken_toml_file_is_reported_and_ignored(tmp_path: Path, home):
    write(tmp_path / "user.toml", "model = \n")
    loaded = load_settings(tmp_path, env=home)
    assert loaded.settings.model is None
    assert len(loaded.problems) == 1 and "user.toml" in loaded.problems[0]


def test_key_never_in_repr(tmp_path: Path, home):
    loaded = load_settings(tmp_path, env={**home, "DASHSCOPE_API_KEY": "sk-secret-123"})
    assert "sk-secret-123" not in repr(loaded)
    loaded = load_settings(tmp_path, env=home, editor={"apiKey": "sk-secret-456"})
    assert "sk-secret-456" not in repr(loaded) and "sk-secret-456" not in repr(loaded.settings)


def test_dashscope_base_url_from_region_or_sdk_variable(tmp_path: Path, home):
    loaded = load_settings(tmp_path, env=home, editor={"region": "singapore"})
    assert loaded.base_url == "https://dashscope-intl.aliyuncs.com/api/v1"
    env = {**home, "DASHSCOPE_HTTP_BASE_URL": "http://127.0.0.1:9/api/v1"}
    assert load_settings(tmp_path, env=env).base_url == "http://127.0.0.1:9/api/v1"
