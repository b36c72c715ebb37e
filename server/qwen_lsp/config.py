"""Settings: one typed tree, and the only module that reads settings files or the environment.

Sources, lowest to highest priority (the one place this order is written):

1. built-in defaults (the dataclass defaults below);
2. the user file, ``<user config dir>/qwen-lsp/config.toml`` (``QWEN_LSP_CONFIG`` names another);
3. the project file, ``.qwen-lsp.toml`` or ``[tool.qwen-lsp]`` in ``pyproject.toml``: the nearest
   one upward from the folder, searching no higher than the workspace folder or the git root
   (the nearest folder holding ``.git``), whichever comes first; each of its keys passes the
   key's trust class (below);
4. the environment: ``QWEN_LSP_<KEY>`` for every key (``QWEN_LSP_CHAT_MODEL``,
   ``QWEN_LSP_COMPLETION_MAX_TOKENS``, ...); keys also from ``DASHSCOPE_API_KEY`` /
   ``OPENAI_API_KEY`` when no other source set one;
5. editor settings: ``initializationOptions``, then the ``qwen-lsp`` section of
   ``workspace/configuration``;
6. command-line flags.

Trust. A project file travels with a repository someone else wrote (a cloned project, a pull
request in CI), so every setting has one trust class, declared in its field's metadata
(``_doc(..., trust=...)``), that says what a project file may do with it:

- ``user-only``: never from a project file, trusted or not: keys, ``trustedFolders``, every path
  that is read or written (cache, log, prompt folder, price table), the cache's and the log's
  other settings, whether files git ignores may be sent (``privacy.sendIgnoredFiles``), and the
  currency the spend limits are counted in;
- ``trusted-only``: from a project file only in a folder the user trusts (the editor's workspace
  trust, sent as ``workspaceTrusted`` in initializationOptions, or ``trustedFolders`` in the
  user file or environment): where code goes and what it costs (provider, endpoint, models,
  prompt mode, token limits, candidates, timeouts, custom actions);
- ``narrow-only``: a project file may tighten, never loosen, whether trusted or not: the result
  is the tightest of the project's value and the one beneath it (user file, else default), by
  the field's ``narrow`` rule (``NARROWINGS``): ``exclude`` adds patterns, ``privacy.localOnly``
  may turn on, spend limits may be lowered or set;
- ``free``: anything else (language, sampling, review instructions, ...).

A key a project file may not set is left out with one message naming the key and its class.
The environment, editor settings and flags are the user's own and pass unfiltered. (Workspace
settings an editor reads from the repository, like VS Code's ``.vscode/settings.json``, are the
editor's to restrict: the VS Code extension lists every setting that is not free in its
``restrictedConfigurations``, generated from this schema.)

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
from collections.abc import Callable, Mapping, Sequence
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

# -- trust classes ----------------------------------------------------------------------------

Trust = Literal["user-only", "trusted-only", "narrow-only", "free"]
TRUST_CLASSES: tuple[str, ...] = get_args(Trust)


@dataclass(frozen=True)
class Narrowing:
    """How a project file may tighten a narrow-only setting."""

    says: str  # what a project file may do, for messages and the settings table
    # (value beneath the project, project value) -> (result, whether the project's was refused)
    tightest: Callable[[Any, Any], tuple[Any, bool]]


def _union(mine: tuple[str, ...], theirs: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    return tuple(dict.fromkeys((*mine, *theirs))), False  # adding never loosens


def _lower_limit(mine: float | None, theirs: float | None) -> tuple[float | None, bool]:
    """No limit (None) is the loosest; otherwise the smaller number."""
    if theirs is None:
        return mine, mine is not None
    if mine is None or theirs <= mine:
        return theirs, False
    return mine, True


NARROWINGS: dict[str, Narrowing] = {
    "union": Narrowing("adds to yours", _union),
    "on": Narrowing(
        "may turn it on, never off", lambda mine, theirs: (mine or theirs, mine > theirs)
    ),
    "off": Narrowing(
        "may turn it off, never on", lambda mine, theirs: (mine and theirs, mine < theirs)
    ),
    "lower": Narrowing("may lower it or set one, never raise or remove it", _lower_limit),
}


def _doc(text: str, *, trust: Trust, narrow: str | None = None, **constraints: Any) -> Any:
    """A setting's metadata: its doc, its trust class (every setting has exactly one), and
    the bounds the validator enforces (`min`, `max`, `absolute` for a path)."""
    if trust not in TRUST_CLASSES:
        raise ValueError(f"unknown trust class {trust!r}")
    if (trust == "narrow-only") != (narrow in NARROWINGS):
        raise ValueError("a narrow-only setting, and only one, names a rule from NARROWINGS")
    return {"doc": text, "trust": trust, **({"narrow": narrow} if narrow else {}), **constraints}


def _entry_doc(text: str, **constraints: Any) -> Any:
    """Metadata of a key inside one table of a list (`actions.custom`): the list's own trust
    class covers the whole list."""
    return {"doc": text, **constraints}


# -- the schema -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CompletionSettings:
    enabled: bool = field(
        default=True,
        metadata=_doc(
            "Offer inline completions. A project file may turn them off, never on (each one is "
            "a paid request).",
            trust="narrow-only",
            narrow="off",
        ),
    )
    max_tokens: int = field(
        default=128,
        metadata=_doc("Most tokens a completion may have.", trust="trusted-only", min=1, max=4096),
    )
    temperature: float = field(
        default=0.2,
        metadata=_doc("Sampling temperature for completions.", trust="free", min=0.0, max=2.0),
    )
    timeout_ms: int = field(
        default=5000,
        metadata=_doc(
            "Deadline of one completion request, in milliseconds. Trusted-only: a deadline too "
            "short pays for answers that are thrown away.",
            trust="trusted-only",
            min=100,
            max=120_000,
        ),
    )
    disabled_languages: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Language ids (as the editor names them) with no completions; a project file's "
            "list is added to yours.",
            trust="narrow-only",
            narrow="union",
        ),
    )
    debounce_ms: int | None = field(
        default=None,
        metadata=_doc(
            "Wait this long after a keystroke before asking the model; unset: learnt from "
            "your typing speed. A manual trigger never waits. Trusted-only: 0 sends a paid "
            "request on every keystroke.",
            trust="trusted-only",
            min=0,
            max=2000,
        ),
    )
    candidates: int = field(
        default=1,
        metadata=_doc(
            "Suggestions asked for in one request, on OpenAI and OpenAI-compatible servers "
            "that honour `n` (vLLM); each extra one costs its output tokens.",
            trust="trusted-only",
            min=1,
            max=5,
        ),
    )


@dataclass(frozen=True)
class ContextSettings:
    max_tokens: int = field(
        default=2048,
        metadata=_doc(
            "Token budget of the prompt's code: prefix, suffix and snippets.",
            trust="trusted-only",
            min=64,
        ),
    )
    cross_file: bool = field(
        default=True,
        metadata=_doc(
            "Add code from other files of the workspace to prompts: definitions of the names "
            "used near the cursor, imports, recent edits, similar code; in reviews, the "
            "signatures of what a chunk calls. A project file may "
            "turn it off, never on (on sends code you chose to keep back).",
            trust="narrow-only",
            narrow="off",
        ),
    )
    max_files: int = field(
        default=20_000,
        metadata=_doc(
            "Most files of a workspace folder the symbol index reads (those nearest the "
            "folder's root first).",
            trust="free",
            min=1,
        ),
    )
    max_index_file_size: int = field(
        default=512_000,
        metadata=_doc(
            "Files larger than this many bytes stay out of the symbol index (generated code, "
            "data); `maxFileSize` still caps it.",
            trust="free",
            min=1,
        ),
    )
    index_time_limit: float = field(
        default=600.0,
        metadata=_doc(
            "Seconds one build of the symbol index may spend reading files; the files left "
            "are read at the next build (a restart, a checkout). Indexing runs in worker "
            "processes and never delays completions.",
            trust="free",
            min=1.0,
        ),
    )


@dataclass(frozen=True)
class CacheSettings:
    enabled: bool = field(
        default=True,
        metadata=_doc(
            "Keep answers in the disk cache. User-only: it decides what is written to your "
            "disk, and off pays again for every answer.",
            trust="user-only",
        ),
    )
    dir: str | None = field(
        default=None,
        metadata=_doc(
            "Cache folder, an absolute path (`~` allowed); default the user cache dir "
            "(QWEN_LSP_CACHE_DIR overrides).",
            trust="user-only",
            absolute=True,
        ),
    )
    max_size_mb: int = field(
        default=256,
        metadata=_doc(
            "Size limit of the disk cache, in MiB. User-only: your disk.",
            trust="user-only",
            min=1,
        ),
    )


@dataclass(frozen=True)
class PrivacySettings:
    local_only: bool = field(
        default=False,
        metadata=_doc(
            "Refuse any endpoint that is not on this machine or a private network "
            "(loopback, 10/8, 172.16/12, 192.168/16). A project file may turn it on, never off.",
            trust="narrow-only",
            narrow="on",
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
        metadata=_doc(
            "Most to spend per day, in `spend.currency`; unset: no limit. A project file may "
            "lower it or set one, never raise or remove it.",
            trust="narrow-only",
            narrow="lower",
            min=0.0,
        ),
    )
    monthly_limit: float | None = field(
        default=None,
        metadata=_doc(
            "Most to spend per calendar month, in `spend.currency`. A project file may lower "
            "it or set one, never raise or remove it.",
            trust="narrow-only",
            narrow="lower",
            min=0.0,
        ),
    )
    currency: Literal["USD", "CNY"] = field(
        default="USD",
        metadata=_doc(
            "Currency of the limits and of totals across models. User-only: switching it "
            "would raise your limits sevenfold.",
            trust="user-only",
        ),
    )
    price_file: str | None = field(
        default=None,
        metadata=_doc(
            "A TOML price table that overrides the shipped one, model by model.",
            trust="user-only",
        ),
    )
    count_acceptance: bool = field(
        default=True,
        metadata=_doc(
            "Count, on this machine only, the suggestions shown, accepted and still in the "
            "file a while later, per model (`qwen-lsp stats`). User-only: it decides what is "
            "written to your disk; nothing is ever sent.",
            trust="user-only",
        ),
    )
    retention_delay_ms: int = field(
        default=120_000,
        metadata=_doc(
            "How long after an accepted suggestion to measure how much of it is still in the "
            "file (retained characters), in milliseconds.",
            trust="free",
            min=0,
            max=3_600_000,
        ),
    )


@dataclass(frozen=True)
class ReviewInstruction:
    """Instructions for the reviewer, for the files its `paths` globs match (all without)."""

    # A plain string where a list of these is expected is one entry for every file
    # (`review.instructions = "..."`, as the setting was first written).
    TEXT_SHORTHAND = "text"

    text: str = field(
        default="",
        metadata=_entry_doc(
            "What the reviewer should know or check in these files (team rules).",
            required=True,
        ),
    )
    paths: tuple[str, ...] = field(
        default=(),
        metadata=_entry_doc(
            "Glob patterns of the files it is for, relative to the repository root, matched "
            "against the path or the file name (`src/api/**`, `*.sql`); every file when empty."
        ),
    )


@dataclass(frozen=True)
class ReviewSettings:
    on_save: bool = field(
        default=False,
        metadata=_doc(
            "Review a file when it is saved and show findings as diagnostics. Trusted-only: "
            "every save is a paid review.",
            trust="trusted-only",
        ),
    )
    instructions: tuple[ReviewInstruction, ...] = field(
        default=(),
        metadata=_doc(
            "Extra instructions for the reviewer (team rules), added to the review prompt: a "
            "string for every file, or a list of {text, paths} tables "
            "(`[[review.instructions]]`), each for the files its `paths` globs match. Free: a "
            "repository may set them, as its `.qwen-lsp/review.md` does.",
            trust="free",
        ),
    )
    prompt_dir: str | None = field(
        default=None,
        metadata=_doc(
            "A folder of your own whose system.md and user.md replace the shipped review "
            "prompt: an absolute path or one starting with ~ (a relative one is refused). "
            "User-only: it names files to read.",
            trust="user-only",
        ),
    )
    max_findings: int = field(
        default=20,
        metadata=_doc(
            "Most findings kept per file, most severe first.", trust="free", min=1, max=1000
        ),
    )
    chunk_tokens: int = field(
        default=3000,
        metadata=_doc(
            "Token budget of the code sent in one review request. Trusted-only: it sets the "
            "size, and so the cost, of every review request.",
            trust="trusted-only",
            min=200,
        ),
    )
    max_tokens: int = field(
        default=2048,
        metadata=_doc(
            "Most tokens a review answer may have.", trust="trusted-only", min=64, max=65_536
        ),
    )
    timeout_ms: int = field(
        default=120_000,
        metadata=_doc(
            "Deadline of one review request, in milliseconds.", trust="trusted-only", min=1000
        ),
    )
    run_timeout: int = field(
        default=1800,
        metadata=_doc(
            "Most seconds a whole `--check` run may take (`--timeout` overrides it); when it "
            "is over, the run stops and reports what it finished as incomplete. A project "
            "file may lower it, never raise it.",
            trust="narrow-only",
            narrow="lower",
            min=10,
        ),
    )


@dataclass(frozen=True)
class CustomAction:
    """A code action of the user's own: a title for the menu and the instruction for the model."""

    title: str = field(
        default="",
        metadata=_entry_doc("What the editor's code action menu shows.", required=True),
    )
    prompt: str = field(
        default="",
        metadata=_entry_doc(
            "The instruction sent to the chat model with the selected code; "
            "{{language}}, {{path}} and {{answer_language}} are filled in.",
            required=True,
        ),
    )


@dataclass(frozen=True)
class ActionSettings:
    enabled: bool = field(
        default=True,
        metadata=_doc("Offer AI code actions (listing them never calls a model).", trust="free"),
    )
    max_tokens: int = field(
        default=4096,
        metadata=_doc(
            "Most tokens the answer to one code action may have.",
            trust="trusted-only",
            min=64,
            max=65_536,
        ),
    )
    timeout_ms: int = field(
        default=90_000,
        metadata=_doc(
            "Deadline of one code action request, in milliseconds.",
            trust="trusted-only",
            min=1000,
        ),
    )
    custom: tuple[CustomAction, ...] = field(
        default=(),
        metadata=_doc(
            "Your own code actions: a list of {title, prompt} tables; each rewrites the "
            "selection (or the definition at the cursor) as its prompt says.",
            trust="trusted-only",
        ),
    )


@dataclass(frozen=True)
class Settings:
    provider: ProviderName = field(
        default="dashscope",
        metadata=_doc(
            "Who serves the model: dashscope, openai or openai-compatible.",
            trust="trusted-only",
        ),
    )
    model: str | None = field(
        default=None,
        metadata=_doc(
            "Completion model; default per provider (qwen3-coder-flash on DashScope).",
            trust="trusted-only",
        ),
    )
    chat_model: str | None = field(
        default=None,
        metadata=_doc(
            "Model for code actions and reviews; default per provider.", trust="trusted-only"
        ),
    )
    base_url: str | None = field(
        default=None,
        metadata=_doc(
            "Endpoint URL; default from the provider (and `region` for DashScope).",
            trust="trusted-only",
        ),
    )
    region: Literal["beijing", "singapore", "us", "hongkong"] = field(
        default="beijing",
        metadata=_doc(
            "DashScope region; keys only work in their own region.", trust="trusted-only"
        ),
    )
    api_key: str | None = field(
        default=None,
        repr=False,  # a secret: never shown, not even in a message about a bad value
        metadata=_doc(
            "API key; better from DASHSCOPE_API_KEY / OPENAI_API_KEY. Never in a project.",
            trust="user-only",
        ),
    )
    server_kind: Literal["auto", "ollama", "llamacpp", "vllm", "generic"] = field(
        default="auto",
        metadata=_doc(
            "openai-compatible: which server baseUrl is, so FIM goes the way it takes raw "
            "prompts (Ollama: /api/generate raw; llama.cpp: /infill with the other files; vllm "
            "or generic: /v1/completions); auto asks the server once.",
            trust="trusted-only",
        ),
    )
    prompt_mode: Literal["auto", "fim", "partial", "chat"] = field(
        default="auto",
        metadata=_doc(
            "auto probes the endpoint once; fim, partial or chat force a mode.",
            trust="trusted-only",
        ),
    )
    exclude: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Glob patterns of files never completed nor read into prompts; a project file's "
            "patterns are added to yours.",
            trust="narrow-only",
            narrow="union",
        ),
    )
    max_file_size: int = field(
        default=1_000_000,
        metadata=_doc(
            "Files larger than this many bytes get no completions and no review. "
            "Trusted-only: raising it has larger files reviewed, and paid for.",
            trust="trusted-only",
            min=1,
        ),
    )
    log_level: Literal["error", "warning", "info", "debug"] = field(
        default="info",
        metadata=_doc(
            "Log level of the server's log (stderr and the log file); debug logs prompt text.",
            trust="user-only",
        ),
    )
    log_file: str | None = field(
        default=None,
        metadata=_doc(
            "Log file, an absolute path (`~` allowed); default qwen-lsp.log in the user log "
            'folder; "" for none.',
            trust="user-only",
            absolute=True,
        ),
    )
    trusted_folders: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "User file or environment only: folders whose project file may set the "
            "trusted-only settings.",
            trust="user-only",
        ),
    )
    language: Literal["auto", "zh", "en"] = field(
        default="auto",
        metadata=_doc(
            "Language of explanations and of comments the model writes: auto follows the "
            "editor's locale, else Chinese when the code holds Chinese, else English; zh; en.",
            trust="free",
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


def setting_field(key: str) -> tuple[dataclasses.Field[Any], Any]:
    """The field and the type of one dotted key."""
    cls: type = Settings
    *parents, leaf = key.split(".")
    for part in parents:
        cls = _hints(cls)[_snake(part)]
    f = next(f for f in dataclasses.fields(cls) if f.name == _snake(leaf))
    return f, _hints(cls)[f.name]


def _default_of(f: dataclasses.Field[Any]) -> Any:
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]


def describe_settings() -> list[tuple[str, str, str]]:
    """(dotted key, default, doc) for every setting, for docs and `doctor`."""
    rows = []
    for key in schema_keys():
        f, _annotation = setting_field(key)
        rows.append((key, repr(_default_of(f)), f.metadata.get("doc", "")))
    return rows


def trust_of(key: str) -> str:
    """The trust class of a dotted key. A field that declares none counts as user-only, the
    safest (and the schema test fails on it)."""
    return setting_field(key)[0].metadata.get("trust", "user-only")


def trust_label(key: str) -> str:
    """The trust class as the settings table shows it: `narrow-only (adds to yours)`, ..."""
    f, _annotation = setting_field(key)
    trust = trust_of(key)
    if trust == "narrow-only":
        return f"{trust} ({NARROWINGS[f.metadata['narrow']].says})"
    return trust


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
        # A relative folder would land wherever the process happens to start (the repository).
        if meta.get("absolute") and value and not Path(value).expanduser().is_absolute():
            raise ValueError(f"must be an absolute path (or start with ~), got {value!r}")
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
    shorthand = getattr(cls, "TEXT_SHORTHAND", None)
    if shorthand and isinstance(value, str) and not (from_text and value.lstrip()[:1] == "["):
        value = [{shorthand: value}] if value.strip() else []
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
            reason = str(exc) if f.repr else "invalid value"  # a secret's value is never shown
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


def project_root(folder: Path) -> Path:
    """The workspace of a command run outside an editor: the git root of `folder` (the nearest
    folder holding `.git`), else `folder` itself."""
    return search_boundary(folder.resolve())


def search_boundary(folder: Path, roots: Sequence[Path] = ()) -> Path:
    """The highest folder the project-file search may look in: the nearest of `folder` and its
    parents that is a workspace root or holds `.git`; `folder` itself when none is. Above it
    lies what the repository's author does not own (a home folder, /tmp)."""
    stops = {Path(root).resolve() for root in roots}
    for directory in (folder, *folder.parents):
        if directory in stops or (directory / ".git").exists():
            return directory
    return folder


def find_project_file(
    folder: Path | None, roots: Sequence[Path] = ()
) -> tuple[Path | None, dict[str, Any], list[str]]:
    """The nearest `.qwen-lsp.toml` or `pyproject.toml` with `[tool.qwen-lsp]`, upward from
    `folder` to its `search_boundary` and never above."""
    problems: list[str] = []
    if folder is None:
        return None, {}, problems
    folder = folder.resolve()
    boundary = search_boundary(folder, roots)
    for directory in (folder, *folder.parents):
        candidate = directory / ".qwen-lsp.toml"
        if candidate.is_file():
            return candidate, _read_toml(candidate, problems), problems
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject, problems).get("tool", {}).get("qwen-lsp")
            if isinstance(data, dict):
                return pyproject, data, problems
        if directory == boundary:
            break
    return None, {}, problems


def env_name(dotted: str) -> str:
    """The environment variable of a dotted key: `completion.maxTokens` ->
    `QWEN_LSP_COMPLETION_MAX_TOKENS`."""
    return "QWEN_LSP_" + "_".join(_snake(part).upper() for part in dotted.split("."))


def env_options(env: Mapping[str, str]) -> tuple[dict[str, Any], set[str]]:
    """Raw options from `QWEN_LSP_*` variables, and which dotted keys came as text."""
    raw: dict[str, Any] = {}
    keys: set[str] = set()
    for dotted in schema_keys():
        name = env_name(dotted)
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


def _admit_project(
    project: Mapping[str, Any],
    beneath: Mapping[str, Any],
    where: Path,
    trusted: bool,
    problems: list[str],
    cls: type = Settings,
    prefix: str = "",
) -> dict[str, Any]:
    """The part of a project file that applies, key by key by its trust class (see the module
    docstring); `beneath` is the user file's raw options, which narrow-only keys tighten."""
    hints = _hints(cls)
    fields = {camel(f.name): f for f in dataclasses.fields(cls)}
    admitted: dict[str, Any] = {}
    for key, value in project.items():
        f = fields.get(key)
        dotted = prefix + key
        if f is None:
            admitted[key] = value  # validation names the unknown key
            continue
        annotation = hints[f.name]
        if dataclasses.is_dataclass(annotation):
            if isinstance(value, Mapping):
                below = beneath.get(key)
                below = below if isinstance(below, Mapping) else {}
                value = _admit_project(
                    value, below, where, trusted, problems, annotation, dotted + "."
                )
            admitted[key] = value  # not a table: validation says so
            continue
        trust = f.metadata.get("trust", "user-only")
        if trust == "user-only":
            instead = (
                "a key is never read from a project file: set DASHSCOPE_API_KEY or OPENAI_API_KEY"
                if not f.repr
                else "set it in your user file, the environment or the editor"
            )
            problems.append(f"{where}: '{dotted}' is a user-only setting; ignored ({instead})")
        elif trust == "trusted-only" and not trusted:
            problems.append(
                f"{where}: '{dotted}' is a trusted-only setting and this folder is not "
                "trusted; ignored (trust the folder in your editor, or add it to "
                "trustedFolders in your user file)"
            )
        elif trust == "narrow-only":
            rule = NARROWINGS[f.metadata["narrow"]]
            try:
                theirs = _coerce(value, annotation, f.metadata, False)
            except ValueError as exc:
                # Dropped, not defaulted: a bad value must not clear the user's limit.
                problems.append(f"{where}: setting '{dotted}': {exc}; ignored")
                continue
            mine = _default_of(f)
            if key in beneath:
                try:
                    mine = _coerce(beneath[key], annotation, f.metadata, False)
                except ValueError as exc:  # the project's value hides it from validation
                    problems.append(f"setting '{dotted}': {exc}; using the default")
            admitted[key], refused = rule.tightest(mine, theirs)
            if refused:
                problems.append(
                    f"{where}: '{dotted}' is narrow-only: a project file {rule.says}; ignored"
                )
        else:
            admitted[key] = value
    return admitted


def load_settings(
    folder: Path | None = None,
    *,
    roots: Sequence[Path] = (),
    editor: Mapping[str, Any] | None = None,
    workspace_config: Mapping[str, Any] | None = None,
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    workspace_trusted: bool = False,
) -> LoadedSettings:
    """Read every source for `folder` and resolve them into one `LoadedSettings`. `roots` are
    the workspace folders: the project-file search stops at them (and at a git root)."""
    env = os.environ if env is None else env
    problems: list[str] = []

    user_path = user_config_file(env)
    user = _read_toml(user_path, problems)

    project_path, project, project_problems = find_project_file(folder, roots)
    problems.extend(project_problems)
    env_raw, text_keys = env_options(env)
    if project_path is not None:
        trusted = workspace_trusted or is_trusted(
            project_path.parent, _trusted_folders(user, env_raw)
        )
        project = _admit_project(project, user, project_path, trusted, problems)

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
    # pre-commit's --from-ref/--to-ref (and a pre-push hook's range), which it passes to hooks
    # as PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF; None when it reviews what is staged
    pre_commit_range: tuple[str, str] | None = None


def check_environment(env: Mapping[str, str] | None = None) -> CheckEnvironment:
    env = os.environ if env is None else env
    summary = env.get("GITHUB_STEP_SUMMARY")
    start, end = env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF")
    return CheckEnvironment(
        step_summary=Path(summary) if summary else None,
        no_color=bool(env.get("NO_COLOR")),
        pre_commit_range=(start, end) if start and end else None,
    )
