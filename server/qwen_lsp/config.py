"""Settings: one typed tree, and the only module that reads settings files or the environment.

Sources, lowest to highest priority (the one place this order is written):

1. built-in defaults (the dataclass defaults below);
2. the user file, ``<user config dir>/qwen-lsp/config.toml`` (``QWEN_LSP_CONFIG`` names another);
3. the project file, ``.qwen-lsp.toml`` or ``[tool.qwen-lsp]`` in ``pyproject.toml``, the nearest
   one found upward from the folder; ``provider`` and ``baseUrl`` from it apply only in a trusted
   folder, and an API key is never read from it;
4. the environment: ``QWEN_LSP_<KEY>`` for every key (``QWEN_LSP_CHAT_MODEL``,
   ``QWEN_LSP_COMPLETION_MAX_TOKENS``, ...); keys also from ``DASHSCOPE_API_KEY`` /
   ``OPENAI_API_KEY`` when no other source set one;
5. editor settings: ``initializationOptions``, then the ``qwen-lsp`` section of
   ``workspace/configuration``;
6. command-line flags.

Raw options (nested dicts with the camelCase keys users write) are merged in that order and
validated once into `Settings`. An invalid value yields one message naming the key and the
reason, and the key keeps its default. A list of tables (`actions.custom`) is checked entry by
entry: a bad entry is named and left out, the good ones are kept.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints
from urllib.parse import urlparse

from qwen_lsp.model import PromptMode

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ProviderName = Literal["dashscope", "openai", "openai-compatible"]

# Native API bases per DashScope region (Model Studio documentation); compatible mode swaps
# the path.
DASHSCOPE_REGIONS: dict[str, str] = {
    "beijing": "https://dashscope.aliyuncs.com/api/v1",
    "singapore": "https://dashscope-intl.aliyuncs.com/api/v1",
    "us": "https://dashscope-us.aliyuncs.com/api/v1",
    "hongkong": "https://cn-hongkong.dashscope.aliyuncs.com/api/v1",
}
OPENAI_BASE_URL = "https://api.openai.com/v1"
LOCAL_BASE_URL = "http://127.0.0.1:11434/v1"  # Ollama's OpenAI-compatible endpoint

DEFAULT_MODELS: dict[str, tuple[str, str]] = {  # provider -> (completion model, chat model)
    "dashscope": ("qwen3-coder-flash", "qwen3-coder-plus"),
    "openai": ("gpt-4.1-mini", "gpt-4.1"),
    "openai-compatible": ("qwen2.5-coder:1.5b-base", "qwen2.5-coder:7b-instruct"),
}

# Keys a project file may set only in a trusted folder, and keys it may never set.
TRUSTED_ONLY_KEYS = ("provider", "baseUrl")
SECRET_KEYS = ("apiKey",)
USER_FILE_ONLY_KEYS = ("trustedFolders",)


def _doc(text: str, **constraints: Any) -> Any:
    return {"doc": text, **constraints}


@dataclass(frozen=True)
class CompletionSettings:
    enabled: bool = field(default=True, metadata=_doc("Offer inline completions."))
    max_tokens: int = field(
        default=128, metadata=_doc("Most tokens a completion may have.", min=1, max=4096)
    )
    temperature: float = field(
        default=0.2, metadata=_doc("Sampling temperature for completions.", min=0.0, max=2.0)
    )
    timeout_ms: int = field(
        default=5000,
        metadata=_doc("Deadline of one completion request, in milliseconds.", min=100, max=120_000),
    )
    disabled_languages: tuple[str, ...] = field(
        default=(), metadata=_doc("Language ids (as the editor names them) with no completions.")
    )
    debounce_ms: int | None = field(
        default=None,
        metadata=_doc(
            "Wait this long after a keystroke before asking the model; unset: learnt from "
            "your typing speed. A manual trigger never waits.",
            min=0,
            max=2000,
        ),
    )
    candidates: int = field(
        default=1,
        metadata=_doc(
            "Suggestions asked for in one request, on OpenAI and OpenAI-compatible servers "
            "that honour `n` (vLLM); each extra one costs its output tokens.",
            min=1,
            max=5,
        ),
    )


@dataclass(frozen=True)
class ContextSettings:
    max_tokens: int = field(
        default=2048,
        metadata=_doc("Token budget of the prompt's code: prefix, suffix and snippets.", min=64),
    )
    cross_file: bool = field(
        default=True,
        metadata=_doc(
            "Add code from other files of the workspace to prompts: definitions of the names "
            "used near the cursor, imports, recent edits, similar code."
        ),
    )
    max_files: int = field(
        default=20_000,
        metadata=_doc("Most files of a workspace folder the symbol index reads.", min=1),
    )


@dataclass(frozen=True)
class CacheSettings:
    enabled: bool = field(default=True, metadata=_doc("Keep answers in the disk cache."))
    dir: str | None = field(
        default=None,
        metadata=_doc("Cache folder; default the user cache dir (QWEN_LSP_CACHE_DIR overrides)."),
    )
    max_size_mb: int = field(
        default=256, metadata=_doc("Size limit of the disk cache, in MiB.", min=1)
    )


@dataclass(frozen=True)
class PrivacySettings:
    local_only: bool = field(
        default=False,
        metadata=_doc(
            "Refuse any endpoint that is not on this machine or a private network "
            "(loopback, 10/8, 172.16/12, 192.168/16)."
        ),
    )
    send_ignored_files: bool = field(
        default=False,
        metadata=_doc(
            "Send the text of files git ignores when they are open in the editor (completions, "
            "code actions, review on save); off: those files get nothing, like `exclude`.",
            trust="user-only",
        ),
    )


@dataclass(frozen=True)
class SpendSettings:
    daily_limit: float | None = field(
        default=None,
        metadata=_doc("Most to spend per day, in `spend.currency`; unset: no limit.", min=0.0),
    )
    monthly_limit: float | None = field(
        default=None,
        metadata=_doc("Most to spend per calendar month, in `spend.currency`.", min=0.0),
    )
    currency: Literal["USD", "CNY"] = field(
        default="USD", metadata=_doc("Currency of the limits and of totals across models.")
    )
    price_file: str | None = field(
        default=None,
        metadata=_doc("A TOML price table that overrides the shipped one, model by model."),
    )


@dataclass(frozen=True)
class ReviewSettings:
    on_save: bool = field(
        default=False,
        metadata=_doc("Review a file when it is saved and show findings as diagnostics."),
    )
    instructions: str = field(
        default="",
        metadata=_doc("Extra instructions for the reviewer (team rules), added to the prompt."),
    )
    prompt_dir: str | None = field(
        default=None,
        metadata=_doc(
            "A folder whose system.md and user.md replace the shipped review prompt; "
            "relative to the workspace folder."
        ),
    )
    max_findings: int = field(
        default=20,
        metadata=_doc("Most findings kept per file, most severe first.", min=1, max=1000),
    )
    chunk_tokens: int = field(
        default=3000,
        metadata=_doc("Token budget of the code sent in one review request.", min=200),
    )
    max_tokens: int = field(
        default=2048,
        metadata=_doc("Most tokens a review answer may have.", min=64, max=65_536),
    )
    timeout_ms: int = field(
        default=120_000,
        metadata=_doc("Deadline of one review request, in milliseconds.", min=1000),
    )


@dataclass(frozen=True)
class CustomAction:
    """A code action of the user's own: a title for the menu and the instruction for the model."""

    title: str = field(
        default="", metadata=_doc("What the editor's code action menu shows.", required=True)
    )
    prompt: str = field(
        default="",
        metadata=_doc(
            "The instruction sent to the chat model with the selected code; "
            "{{language}}, {{path}} and {{answer_language}} are filled in.",
            required=True,
        ),
    )


@dataclass(frozen=True)
class ActionSettings:
    enabled: bool = field(
        default=True, metadata=_doc("Offer AI code actions (listing them never calls a model).")
    )
    max_tokens: int = field(
        default=4096,
        metadata=_doc("Most tokens the answer to one code action may have.", min=64, max=65_536),
    )
    timeout_ms: int = field(
        default=90_000,
        metadata=_doc("Deadline of one code action request, in milliseconds.", min=1000),
    )
    custom: tuple[CustomAction, ...] = field(
        default=(),
        metadata=_doc(
            "Your own code actions: a list of {title, prompt} tables; each rewrites the "
            "selection (or the definition at the cursor) as its prompt says."
        ),
    )


@dataclass(frozen=True)
class Settings:
    provider: ProviderName = field(
        default="dashscope",
        metadata=_doc("Who serves the model: dashscope, openai or openai-compatible."),
    )
    model: str | None = field(
        default=None,
        metadata=_doc("Completion model; default per provider (qwen3-coder-flash on DashScope)."),
    )
    chat_model: str | None = field(
        default=None,
        metadata=_doc("Model for code actions and reviews; default per provider."),
    )
    base_url: str | None = field(
        default=None,
        metadata=_doc("Endpoint URL; default from the provider (and `region` for DashScope)."),
    )
    region: Literal["beijing", "singapore", "us", "hongkong"] = field(
        default="beijing", metadata=_doc("DashScope region; keys only work in their own region.")
    )
    api_key: str | None = field(
        default=None,
        repr=False,
        metadata=_doc(
            "API key; better from DASHSCOPE_API_KEY / OPENAI_API_KEY. Never in a project."
        ),
    )
    prompt_mode: Literal["auto", "fim", "partial", "chat"] = field(
        default="auto",
        metadata=_doc("auto probes the endpoint once; fim, partial or chat force a mode."),
    )
    exclude: tuple[str, ...] = field(
        default=(), metadata=_doc("Glob patterns of files never completed nor read into prompts.")
    )
    max_file_size: int = field(
        default=1_000_000,
        metadata=_doc("Files larger than this many bytes get no completions.", min=1),
    )
    log_level: Literal["error", "warning", "info", "debug"] = field(
        default="info", metadata=_doc("Log level of the server's log (stderr and the log file).")
    )
    log_file: str | None = field(
        default=None,
        metadata=_doc('Log file; default qwen-lsp.log in the user log folder; "" for none.'),
    )
    trusted_folders: tuple[str, ...] = field(
        default=(),
        metadata=_doc("User file only: folders whose project file may set provider and baseUrl."),
    )
    language: Literal["auto", "zh", "en"] = field(
        default="auto",
        metadata=_doc(
            "Language of explanations and of comments the model writes: auto follows the "
            "editor's locale, else Chinese when the code holds Chinese, else English; zh; en."
        ),
    )
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    context: ContextSettings = field(default_factory=ContextSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    spend: SpendSettings = field(default_factory=SpendSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    actions: ActionSettings = field(default_factory=ActionSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)

    # -- derived values ------------------------------------------------------------------

    @property
    def completion_model(self) -> str:
        return self.model or DEFAULT_MODELS[self.provider][0]

    @property
    def resolved_chat_model(self) -> str:
        return self.chat_model or DEFAULT_MODELS[self.provider][1]

    @property
    def forced_mode(self) -> PromptMode | None:
        return None if self.prompt_mode == "auto" else PromptMode(self.prompt_mode)


@dataclass(frozen=True)
class LoadedSettings:
    """Resolved settings plus what the user should be told about their sources."""

    settings: Settings
    problems: tuple[str, ...] = ()
    base_url: str | None = None  # the endpoint actually used
    api_key: str | None = field(default=None, repr=False)
    key_source: str | None = None  # where the key came from, for `doctor` (never the key)
    project_file: Path | None = None
    user_file: Path | None = None


# -- schema walking -----------------------------------------------------------------------


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def schema_keys(cls: type = Settings, prefix: str = "") -> list[str]:
    """Every leaf key as a dotted camelCase path: `completion.maxTokens`, `provider`, ..."""
    keys: list[str] = []
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        key = prefix + camel(f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            keys.extend(schema_keys(hints[f.name], key + "."))
        else:
            keys.append(key)
    return keys


def describe_settings() -> list[tuple[str, str, str]]:
    """(dotted key, default, doc) for every setting, for docs and `doctor`."""
    rows = []
    for key in schema_keys():
        cls: type = Settings
        parts = key.split(".")
        for part in parts[:-1]:
            cls = _hints(cls)[_snake(part)]
        f = next(f for f in dataclasses.fields(cls) if f.name == _snake(parts[-1]))
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        rows.append((key, repr(default), f.metadata.get("doc", "")))
    return rows


def _coerce(value: Any, annotation: Any, meta: Mapping[str, Any], from_text: bool) -> Any:
    """Convert one raw value to `annotation`, or raise ValueError with the reason."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Literal:
        if value not in args:
            raise ValueError("expected one of " + ", ".join(repr(a) for a in args))
        return value
    if args and type(None) in args:  # Optional[X]
        if value is None or (from_text and value == ""):
            return None
        inner = next(a for a in args if a is not type(None))
        return _coerce(value, inner, meta, from_text)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if from_text and str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if from_text and str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true or false")
    if annotation in (int, float):
        kind = "an integer" if annotation is int else "a number"
        if isinstance(value, bool):
            raise ValueError(f"expected {kind}, got {value!r}")
        if isinstance(value, str) and from_text:
            try:
                value = annotation(value)
            except ValueError:
                raise ValueError(f"expected {kind}, got {value!r}") from None
        if annotation is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, (int, float)) or (annotation is int and isinstance(value, float)):
            raise ValueError(f"expected {kind}, got {value!r}")
        if "min" in meta and value < meta["min"]:
            raise ValueError(f"must be at least {meta['min']}, got {value}")
        if "max" in meta and value > meta["max"]:
            raise ValueError(f"must be at most {meta['max']}, got {value}")
        return annotation(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    if origin is tuple:
        if from_text and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError("expected a list of strings")
        return tuple(value)
    raise ValueError(f"unsupported setting type {annotation!r}")  # pragma: no cover


def _record_type(annotation: Any) -> type | None:
    """The dataclass of a `tuple[Record, ...]` setting (a list of small tables), else None."""
    args = get_args(annotation)
    if get_origin(annotation) is tuple and args and dataclasses.is_dataclass(args[0]):
        return args[0]
    return None


def _records(
    value: Any, annotation: Any, dotted: str, problems: list[str], from_text: bool
) -> tuple[Any, ...]:
    """A list of tables, each checked on its own: a bad entry is named, explained and left
    out, and the good ones are kept (one typo must not cost the user every entry)."""
    cls = _record_type(annotation)
    assert cls is not None
    if from_text and isinstance(value, str):  # the environment carries the list as JSON
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError:
            problems.append(
                f"setting '{dotted}': expected a JSON list of tables; using the default"
            )
            return ()
    if not isinstance(value, (list, tuple)):
        problems.append(f"setting '{dotted}': expected a list of tables; using the default")
        return ()
    hints = _hints(cls)
    fields = {camel(f.name): f for f in dataclasses.fields(cls)}
    records = []
    for number, entry in enumerate(value, 1):
        if not isinstance(entry, Mapping):
            shape = "{" + ", ".join(f"{k} = ..." for k in fields) + "}"
            problems.append(
                f"setting '{dotted}' entry {number}: expected a table like {shape}; "
                "that entry is ignored"
            )
            continue
        reasons = [f"unknown key '{key}'" for key in entry if key not in fields]
        kwargs: dict[str, Any] = {}
        for key, f in fields.items():
            if key not in entry or entry[key] in ("", None):
                if f.metadata.get("required"):
                    reasons.append(f"'{key}' is missing")
                continue
            try:
                kwargs[f.name] = _coerce(entry[key], hints[f.name], f.metadata, False)
            except ValueError as exc:
                reasons.append(f"'{key}': {exc}")
        if reasons:
            title = entry.get("title")
            named = f" ({title!r})" if isinstance(title, str) and title else ""
            problems.append(
                f"setting '{dotted}' entry {number}{named}: {'; '.join(reasons)}; "
                "that entry is ignored"
            )
            continue
        records.append(cls(**kwargs))
    return tuple(records)


def _build(cls: type, raw: Mapping[str, Any], path: str, problems: list[str], text_keys: set[str]):
    hints = _hints(cls)
    known = {camel(f.name): f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = path + key
        f = known.get(key)
        if f is None:
            problems.append(f"unknown setting '{dotted}' ignored")
            continue
        annotation = hints[f.name]
        if dataclasses.is_dataclass(annotation):
            if not isinstance(value, Mapping):
                problems.append(f"setting '{dotted}': expected a table of settings; using defaults")
                continue
            values[f.name] = _build(annotation, value, dotted + ".", problems, text_keys)
            continue
        if _record_type(annotation) is not None:
            values[f.name] = _records(value, annotation, dotted, problems, dotted in text_keys)
            continue
        try:
            values[f.name] = _coerce(value, annotation, f.metadata, dotted in text_keys)
        except ValueError as exc:
            shown = "<hidden>" if key in SECRET_KEYS else None
            reason = str(exc) if shown is None else "invalid value"
            problems.append(f"setting '{dotted}': {reason}; using the default")
    return cls(**values)


def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge raw option layers, later layers winning key by key."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merge(out[key], value)
            elif isinstance(value, Mapping):
                out[key] = merge(value)
            else:
                out[key] = value
    return out


def validate(
    raw: Mapping[str, Any], text_keys: set[str] | None = None
) -> tuple[Settings, list[str]]:
    """Turn merged raw options into Settings; bad values are reported and keep their default."""
    problems: list[str] = []
    settings = _build(Settings, raw, "", problems, text_keys or set())
    return settings, problems


# -- sources --------------------------------------------------------------------------------


def user_config_file(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("QWEN_LSP_CONFIG"):
        return Path(env["QWEN_LSP_CONFIG"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("qwen-lsp", appauthor=False)) / "config.toml"


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("qwen-lsp", appauthor=False))


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"config file {path}: {exc}; ignoring it")
        return {}


def find_project_file(folder: Path | None) -> tuple[Path | None, dict[str, Any], list[str]]:
    """The nearest `.qwen-lsp.toml` or `pyproject.toml` with `[tool.qwen-lsp]`, upward."""
    problems: list[str] = []
    if folder is None:
        return None, {}, problems
    folder = folder.resolve()
    for directory in (folder, *folder.parents):
        candidate = directory / ".qwen-lsp.toml"
        if candidate.is_file():
            return candidate, _read_toml(candidate, problems), problems
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject, problems).get("tool", {}).get("qwen-lsp")
            if isinstance(data, dict):
                return pyproject, data, problems
    return None, {}, problems


def env_options(env: Mapping[str, str]) -> tuple[dict[str, Any], set[str]]:
    """Raw options from `QWEN_LSP_*` variables, and which dotted keys came as text."""
    raw: dict[str, Any] = {}
    keys: set[str] = set()
    for dotted in schema_keys():
        name = "QWEN_LSP_" + "_".join(_snake(p).upper() for p in dotted.split("."))
        if name in env:
            node = raw
            *parents, leaf = dotted.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = env[name]
            keys.add(dotted)
    return raw, keys


def editor_options(options: Any) -> dict[str, Any]:
    """Editor settings may come bare or under a `qwen-lsp` section; both are accepted."""
    if not isinstance(options, Mapping):
        return {}
    inner = options.get("qwen-lsp")
    if isinstance(inner, Mapping):
        return dict(inner)
    return {k: v for k, v in options.items() if k != "workspaceTrusted"}


def is_trusted(folder: Path | None, trusted_folders: tuple[str, ...]) -> bool:
    if folder is None:
        return False
    folder = folder.resolve()
    for entry in trusted_folders:
        trusted = Path(entry).expanduser().resolve()
        if folder == trusted or trusted in folder.parents:
            return True
    return False


def is_local_url(url: str) -> bool:
    """True when `url` points at this machine or a private network (self-hosted servers)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _resolve_endpoint(
    settings: Settings, env: Mapping[str, str]
) -> tuple[str | None, str | None, str | None]:
    """(base_url, api_key, where the key came from)."""
    if settings.provider == "dashscope":
        base = (
            settings.base_url
            or env.get("DASHSCOPE_HTTP_BASE_URL")
            or DASHSCOPE_REGIONS[settings.region]
        )
        key_vars = ("DASHSCOPE_API_KEY",)
    elif settings.provider == "openai":
        base = settings.base_url or OPENAI_BASE_URL
        key_vars = ("OPENAI_API_KEY",)
    else:
        base = settings.base_url or LOCAL_BASE_URL
        key_vars = ("DASHSCOPE_API_KEY",) if "dashscope" in base else ("OPENAI_API_KEY",)
    if settings.api_key:
        return base, settings.api_key, "settings"
    for var in key_vars:
        if env.get(var):
            return base, env[var], var
    return base, None, None


def _trusted_folders(user: Mapping[str, Any], env_raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Trusted folders come only from sources the user controls: the user file and env."""
    folders: list[str] = []
    from_user = user.get("trustedFolders", [])
    if isinstance(from_user, list):
        folders.extend(str(f) for f in from_user)
    from_env = env_raw.get("trustedFolders")
    if isinstance(from_env, str):
        folders.extend(f.strip() for f in from_env.split(",") if f.strip())
    return tuple(folders)


def load_settings(
    folder: Path | None = None,
    *,
    editor: Mapping[str, Any] | None = None,
    workspace_config: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    workspace_trusted: bool = False,
) -> LoadedSettings:
    """Read every source for `folder` and resolve them into one `LoadedSettings`."""
    env = os.environ if env is None else env
    problems: list[str] = []

    user_path = user_config_file(env)
    user = _read_toml(user_path, problems)

    project_path, project, project_problems = find_project_file(folder)
    problems.extend(project_problems)
    project = dict(project)
    for key in USER_FILE_ONLY_KEYS:
        if project.pop(key, None) is not None:
            problems.append(f"{project_path}: '{key}' is read only from the user file; ignored")
    for key in SECRET_KEYS:
        if project.pop(key, None) is not None:
            problems.append(
                f"{project_path}: an API key is never read from a project file; "
                "set DASHSCOPE_API_KEY or OPENAI_API_KEY instead"
            )
    env_raw, text_keys = env_options(env)
    trusted_list = _trusted_folders(user, env_raw)
    trusted = workspace_trusted or is_trusted(folder, trusted_list)
    redirected = [key for key in TRUSTED_ONLY_KEYS if key in project]
    if redirected and not trusted:
        for key in redirected:
            project.pop(key)
        problems.append(
            f"{project_path}: {', '.join(redirected)} ignored because this folder is not trusted "
            "(add it to trustedFolders in your user config to allow it)"
        )

    merged = merge(
        user,
        project,
        env_raw,
        editor_options(editor),
        editor_options(workspace_config),
        dict(cli or {}),
    )
    settings, validation_problems = validate(merged, text_keys)
    problems.extend(validation_problems)
    base_url, api_key, key_source = _resolve_endpoint(settings, env)
    return LoadedSettings(
        settings=settings,
        problems=tuple(problems),
        base_url=base_url,
        api_key=api_key,
        key_source=key_source,
        project_file=project_path,
        user_file=user_path if user_path.is_file() else None,
    )


def log_file(settings: Settings) -> Path | None:
    """The server's rotating log file, or None when the user turned it off."""
    if settings.log_file == "":
        return None
    if settings.log_file:
        return Path(settings.log_file).expanduser()
    import platformdirs

    return Path(platformdirs.user_log_dir("qwen-lsp", appauthor=False)) / "qwen-lsp.log"


def cache_dir(settings: Settings) -> Path:
    return Path(settings.cache.dir).expanduser() if settings.cache.dir else default_cache_dir()


def needs_key(settings: Settings, base_url: str | None) -> bool:
    """Self-hosted servers on this machine or a private network usually take no key."""
    if settings.provider == "openai-compatible":
        return not (base_url and is_local_url(base_url))
    return True


@dataclass(frozen=True)
class CheckEnvironment:
    """What `qwen-lsp --check` takes from its environment to fit the terminal or CI it runs in."""

    step_summary: Path | None = None  # $GITHUB_STEP_SUMMARY: GitHub's Markdown job summary
    no_color: bool = False  # NO_COLOR is set (no-color.org)


def check_environment(env: Mapping[str, str] | None = None) -> CheckEnvironment:
    env = os.environ if env is None else env
    summary = env.get("GITHUB_STEP_SUMMARY")
    return CheckEnvironment(
        step_summary=Path(summary) if summary else None,
        no_color=bool(env.get("NO_COLOR")),
    )
