"""Settings: precedence of sources, validation messages, trust, environment names."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_lsp.config import describe_settings, load_settings, schema_keys


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
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.qwen-lsp]\nmodel = "m"\n')
    assert load_settings(tmp_path, env=home).settings.model == "m"


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
        'apiKey = "sk-project"\nmodel = "fine"\n',
    )
    loaded = load_settings(project, env={**home, "DASHSCOPE_API_KEY": "sk-user"})
    assert loaded.settings.provider == "dashscope"
    assert loaded.base_url == "https://dashscope.aliyuncs.com/api/v1"
    assert loaded.api_key == "sk-user"
    assert loaded.settings.model == "fine"  # harmless keys still apply
    assert any("not trusted" in p for p in loaded.problems)
    assert any("never read from a project file" in p for p in loaded.problems)
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
