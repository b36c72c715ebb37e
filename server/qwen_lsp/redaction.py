"""What counts as a secret in text, and the numbered placeholder it becomes before text leaves
for a model.

`find_secrets` says where the secrets of a text are:
- known key and token shapes (OpenAI, Anthropic, GitHub, GitLab, AWS, Google, Slack, Stripe,
  Alibaba Cloud, Tencent Cloud, Volcengine, Hugging Face, npm, PyPI, SendGrid, Mailgun, Twilio,
  Azure AD, Telegram, private key blocks, JWTs), and the secret that goes with a known key id
  on the same or the next lines (an AccessKey pair);
- values given to a name that says "secret" (password, token, api_key, AccessKeySecret, sk,
  密码, 密钥, ...): assigned, quoted or not (code, YAML, INI, .properties, .env, Dockerfiles),
  passed as an argument (`login("admin", "...")`, `setPassword("...")`,
  `setProperty("db.password", "...")`), in XML, in a comment, or in Kubernetes Secret data;
- credentials in URLs, DSNs, connection strings (`Password=...;`, `AccountKey=...`), query
  strings (`sig=`, `access_token=`), Authorization headers and command lines (`-p`,
  `--password`, `curl -u`);
- high-entropy strings assigned to anything.
Rules are specific shapes or anchored on such a name, so ordinary code keeps its text; hashes
(lockfile integrity, checksums, commit ids) and UUIDs in ordinary places are never touched.
Every rule runs only where one of its literal markers occurs, because this runs on the prompt
of every keystroke. `bench/bench_redaction.py` measures recall on a generated corpus, false
positives on installed packages, and speed.

`Placeholders` gives each secret value of one request a numbered placeholder
(`REDACTED_SECRET_1`, ...: the same value, the same number, in every part of the request) and
puts the real values back into an answer, refusing an answer that holds a placeholder it never
gave out. The door every prompt passes is `providers/redacting.py`.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

# -- placeholders ------------------------------------------------------------------------------

# Upper-case identifiers, so a model copies them as they are (inside strings, URLs, YAML) and
# no escaping changes them; none occurs in real code. The first stem that a request does not
# already hold is used, so a user's own text is never taken for a placeholder.
PLACEHOLDER_STEMS = ("REDACTED_SECRET_", "HIDDEN_SECRET_", "MASKED_SECRET_", "QWENLSP_SECRET_")


class UnknownPlaceholder(ValueError):
    """An answer held a placeholder that the request never gave out, or a mangled one."""


class Placeholders:
    """The numbered placeholders of one request: value -> `REDACTED_SECRET_<n>` and back."""

    def __init__(self, stem: str = PLACEHOLDER_STEMS[0]) -> None:
        self.stem = stem
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        words = stem.strip("_").split("_")
        self._first_word = words[0].lower()
        self._exact = re.compile(re.escape(stem) + r"[1-9][0-9]*(?![0-9])")
        # A model that mangles a placeholder still writes its words: any of these that is not
        # exactly a placeholder given out makes the answer refused.
        self._mention = re.compile("[_-]?".join(map(re.escape, words)), re.IGNORECASE)

    @classmethod
    def for_texts(cls, texts: Iterable[str]) -> Placeholders:
        """Placeholders whose stem none of `texts` mentions."""
        texts = list(texts)
        stems = itertools.chain(
            PLACEHOLDER_STEMS, (f"REDACTED{n}_SECRET_" for n in itertools.count(2))
        )
        for stem in stems:
            candidate = cls(stem)
            if not any(candidate.mentioned_in(text) for text in texts):
                return candidate
        raise AssertionError("unreachable: the stems never run out")

    def mentioned_in(self, text: str) -> bool:
        # A fast scan first: a case-insensitive search of a whole prompt is slow.
        return self._first_word in text.lower() and self._mention.search(text) is not None

    def placeholder(self, value: str) -> str:
        """The placeholder of `value`, numbered in order of first use."""
        name = self._by_value.get(value)
        if name is None:
            name = f"{self.stem}{len(self._by_value) + 1}"
            self._by_value[value] = name
            self._by_placeholder[name] = value
        return name

    @property
    def values(self) -> Mapping[str, str]:
        """Placeholder -> the real value it stands for."""
        return dict(self._by_placeholder)

    def __len__(self) -> int:
        return len(self._by_value)

    def restore(self, text: str, *, json_document: bool | None = None) -> str:
        """`text` with each placeholder replaced by its real value; UnknownPlaceholder when it
        holds one this request never gave out, or a mangled one ("redacted_secret_1",
        "REDACTED_SECRET_").

        A value goes back as it was in the prompt: source text. An answer that is a JSON
        document quoting code (a review) needs it escaped as JSON string content instead, or a
        quote or backslash in it would break the document. `json_document` says which the
        answer is; None: escape only when the answer is JSON that the plain values would break.
        """
        mentions = list(self._mention.finditer(text))
        if not mentions:
            return text
        for mention in mentions:
            exact = self._exact.match(text, mention.start())
            if exact is None or exact.group(0) not in self._by_placeholder:
                shown = text[mention.start() : mention.end() + 6].split("\n")[0]
                raise UnknownPlaceholder(f"the answer holds {shown!r}, not a placeholder sent")

        def put_back(escape: bool) -> str:
            def real(match: re.Match[str]) -> str:
                value = self._by_placeholder[match.group(0)]
                return _json_escaped(value) if escape else value

            return self._exact.sub(real, text)

        if json_document is not None:
            return put_back(json_document)
        plain = put_back(False)
        if plain != put_back(True) and _is_json(text) and not _is_json(plain):
            return put_back(True)
        return plain


def _json_escaped(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def _is_json(text: str) -> bool:
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


# -- what a secret value looks like -----------------------------------------------------------

_HASH_PREFIX = re.compile(r"^(?:sha(?:1|224|256|384|512)[-:=]|md5[-:]|h1:|blake2b?[-:])", re.I)
_TEMPLATE = re.compile(
    r"^(?:<[^>]*>|\$\{?[\w.:\-]+\}?|\{\{.*\}\}|\{[\w.\-]*\}|%\(?\w*\)?[sdr]|[*#.x\-_?]+|\[.*\])$",
    re.I,
)
# Templates, references and code inside a value: ${VAR}, {{ var }}, {name}, %(name)s, $(cmd),
# $OTHER_VAR, regular expressions (\w, (?:, [^).
_NOT_LITERAL = re.compile(
    r"\$\{[^}]*\}|\{\{.*?\}\}|#\{[\w.]+\}|\{[\w.\[\]:!]*\}|%\(\w+\)[sdr]|\$\([^)]*\)|\{%|<%"
    r"|\$[A-Z_]{2,}|\\[A-Za-z]|\(\?|\[\^|\][+*?]"
)
# Words that visibly mark an example or a stand-in: anywhere (long words no key holds by
# chance) or standing alone (short ones).
_STAND_IN = re.compile(
    r"example|placeholder|changeme|change_me|redacted|dummy|username"
    r"|(?<![a-z0-9])(?:x{3,}|sample|fake|mock|your|insert|replace[_\-]?me|todo|test)"
    r"(?![a-z0-9])",
    re.I,
)
# Runs a person types in a short made-up value ("deadbeef12346"); long random keys hold them
# by chance.
_TYPED_RUN = re.compile(r"deadbeef|abcdef|123456|qwerty", re.I)
# A word anyone would type as a stand-in, perhaps with digits: password1, mysecret, secret123.
_WEAK_WORD = re.compile(
    r"^(?:my|your|the|some|a|test|dev|demo)?[_\-]?(?:password|passwd|pass|pwd|secret|token|key"
    r"|admin|root|user|guest|demo|test|letmein|foo|bar|baz|qux|welcome|default)[\W\d_]*$",
    re.I,
)
_NOT_SECRET = frozenset(
    (
        *("none", "null", "nil", "true", "false", "yes", "no", "on", "off", "undefined"),
        *("required", "optional", "string", "str", "bytes", "int", "default", "empty"),
        *("unset", "env", "environ"),
    )
)
_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z]+$")
_DOTTED_NAME = re.compile(r"^[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+$")
# get_password, self.token, "option." in prose
_WORDS = re.compile(r"^_*[A-Za-z]+(?:[_\-.]+[A-Za-z]+)*[_.,:;!?]*$")
_LOWER_WORD = re.compile(r"^[a-z]+$")
_SNAKE_NAME = re.compile(r"^_*[a-z]+(?:_+[a-z0-9]+)+_*$")  # display_name, link_open
_LOWER_COMPOUND = re.compile(r"^[a-z]+(?:[_.\-][a-z0-9]+)+$")  # access.token, auth-int
# A dotted name in code: self.password, config.api_key, rust_openssl.hpke.X25519PrivateKey.
_RECEIVERS = frozenset(
    (
        *("self", "this", "cls", "config", "conf", "cfg", "settings", "options", "opts"),
        *("args", "params", "props", "env", "os", "process", "request", "req", "ctx"),
        *("context", "app", "secrets", "credentials", "creds", "auth", "super", "window"),
    )
)
_HEX_NUMBER = re.compile(r"^0x[0-9a-fA-F]+$")
_MODULE_NAME = re.compile(r"^[a-z]{3,}(?:_[a-z]{3,})+$")  # rust_openssl
# Numbers, dates and versions: 0x1f, 2031-01-01, 1.2.3rc1, v2.0.0-beta.1, 0.6.1+5.3.0-1-ge13ca99
_NUMBERISH = re.compile(
    r"^(?:0x[0-9a-fA-F]+|[\d.:,_+\-]+|v?\d+(?:\.\d+)+(?:[a-z]+\d*)?(?:[-+][\w.]+)*)$"
)
_URL_START = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.I)
_PATHISH = re.compile(
    r"^(?:[A-Za-z]:)?(?:~|\.{1,2})?[/\\][\w.\-/\\ ]*$"
    r"|^[\w.\-]+\.(?:pem|key|crt|json|p12|pfx|txt|ya?ml|env|cfg|ini|toml)$"
)


_IDENTIFIER = re.compile(r"^[A-Za-z_]+$")
_IDENTIFIER_PART = re.compile(r"[A-Z]{2,}(?![a-z])|[A-Z]*[a-z]+")
_VOWELS = frozenset("aeiouy")


def _identifier_words(value: str) -> bool:
    """A name made of words, as code names things: WorkspaceFoldersChangeEvent, SecretStr,
    InvalidApiKey. Keys are not: they hold digits, split into short pieces, and have few
    vowels."""
    if not _IDENTIFIER.match(value) or value.lower() == value or value.upper() == value:
        return False
    parts = _IDENTIFIER_PART.findall(value)
    letters = len(value.replace("_", ""))
    lower = [c for c in value if c.islower()]
    vowels = sum(c in _VOWELS for c in lower)
    return (
        sum(map(len, parts)) == letters
        and letters / len(parts) >= 3.5
        and vowels >= 0.28 * len(lower)
    )


def shannon_entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_random(value: str) -> bool:
    """A token-like string: long, high entropy, mixing character classes, and not words,
    a dotted name, a path or a run like "0123456789abcdef"."""
    if len(value) < 20 or value[0] in "-." or _DOTTED_NAME.match(value):
        return False  # too short to be a key, a flag, a dotted name
    if _identifier_words(value):
        return False
    if sum(bool(re.match(r"^[A-Za-z]{3,}$", part)) for part in re.split(r"[-_./]", value)) >= 2:
        return False  # model names, slugs, identifiers
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
        )
    )
    steps = sum(ord(b) - ord(a) == 1 for a, b in itertools.pairwise(value))
    return classes >= 2 and steps < len(value) // 3 and shannon_entropy(value) >= 4.0


def _stand_in(value: str) -> bool:
    """A value that is visibly not a secret: a template, a reference, an example, a hash."""
    lowered = value.lower()
    return (
        lowered in _NOT_SECRET
        or value.startswith(("$", "%", "<", "{"))
        or lowered.startswith(("os.environ", "process.env", "getenv", "env:", "env(", "vault:"))
        or bool(_TEMPLATE.match(value))
        or bool(_NOT_LITERAL.search(value))
        or any(_typed(m.group(0)) for m in _STAND_IN.finditer(value))
        or (len(value) <= 24 and _TYPED_RUN.search(value) is not None)
        or bool(_WEAK_WORD.match(value))
        or bool(_HASH_PREFIX.match(value))
    )


def _typed(word: str) -> bool:
    """Written by a person, not drawn at random: "fake", "FAKE", "Fake", but not "FakE"."""
    return word.islower() or word.isupper() or word.istitle() or not word.isalpha()


def _is_path(value: str) -> bool:
    """/etc/app/key.pem, ./secrets.json, C:\\keys; not base64 that starts with a slash."""
    return bool(_PATHISH.match(value)) and not (len(value) >= 20 and _mixed(value))


def _mixed(value: str) -> bool:
    """Upper case, lower case and digits all present: not a name anyone types."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


def _quoted_secret(value: str, *, password: bool) -> bool:
    """A quoted literal given to a secret name that is a secret, not a name or an example.
    Passwords may be short or a passphrase ("correct-horse-battery-staple"); other secrets are
    keys and tokens, never lower-case words."""
    if len(value) < (6 if password else 8) or len(value) > 4096:
        return False
    if " " in value or "\\n" in value or value.startswith("--") or _stand_in(value):
        return False
    if _NUMBERISH.match(value) or _URL_START.match(value):
        return False
    if _is_path(value):
        return False
    if _CONSTANT_NAME.match(value) or _LOWER_WORD.match(value):
        return False  # "MY_API_KEY", "bearer"
    if _SNAKE_NAME.match(value) or (_DOTTED_NAME.match(value) and not _mixed(value)):
        return False  # "display_name", settings.SECRET_KEY
    if _identifier_words(value):
        return False  # "SecretStr", "InvalidApiKey", "NotebookDocumentSyncClientCapabilities"
    return password or not _LOWER_COMPOUND.match(value)


def _unquoted_secret(value: str, *, password: bool) -> bool:
    """An unquoted value (YAML, INI, .properties, a comment) that is a secret, not code."""
    if not _quoted_secret(value, password=password):
        return False
    if value.startswith(("@", "&", "*", "!", "|", ">", "-", "=", "~", ".")):
        return False  # YAML tags, anchors and block scalars, flags, paths
    if any(c in value for c in "()[]{}`\"'") or not value.isascii():
        return False  # a call, an index, a template, prose in another language
    if _WORDS.match(value) or _HEX_NUMBER.match(value):
        return False  # an identifier or a number: get_token, SecretStr, 0x1f
    first = re.split(r"\.|::|->", value)[0]
    if _DOTTED_NAME.match(value) and (first.lower() in _RECEIVERS or _MODULE_NAME.match(first)):
        return False  # code: self.password, rust_openssl.hpke.X25519PrivateKey
    has_letter = any(c.isalpha() for c in value)
    has_other = any(not c.isalpha() for c in value)
    return has_letter and has_other and (password or looks_random(value) or len(value) >= 12)


# -- names that say "secret" -------------------------------------------------------------------

# A name ending in one of these words names a secret (password, db_password, api_key,
# clientSecret, AUTH_TOKEN, AccessKeySecret, ALIBABA_CLOUD_ACCESS_KEY_ID, 数据库密码), but
# token_type or secret_santa_list do not. Short words only count on their own or after a
# separator (HUAWEICLOUD_SDK_AK, db.pass, with_sk, smtpPass), so "task" and "bypass" do not.
# All in lower case: names are compared lowered.
_PASSWORD_WORD = r"passw(?:or)?d|passwd|passphrase|pwd|pswd|psw|密码|口令"
_LONG_WORDS = (
    _PASSWORD_WORD + r"|secret|token|credentials?|apikey|appkey|accesskey|secretkey|privatekey"
    r"|(?:api|access|secret|private|session|signing|encryption|master|app|client|account"
    r"|shared[_\-. ]?access|storage|auth|license|subscription)[_\-. ]?key(?:[_\-. ]?id)?"
    r"|secret[_\-. ]?id|密钥|秘钥|令牌|私钥|密匙"
)
_LONG_NAME = re.compile(r"(?:" + _LONG_WORDS + r")\d*$")
_SHORT_NAME = re.compile(r"(?:^|[_.\-$])(?:pass|pw|ak|sk|auth)\d*$")
_CAMEL_NAME = re.compile(r"[a-z0-9](?:Pass|Pw|Ak|Sk|Auth)\d*$")
_PASSWORD_NAME = re.compile(r"(?:" + _PASSWORD_WORD + r"|pass|pw)\d*$")
# AK and SK name the two halves of a cloud AccessKey; their values are always long and random.
_KEY_HALF_NAME = re.compile(r"(?:^|[^a-z])(?:ak|sk)\d*$")
_KEY_HALF = re.compile(r"^[A-Za-z0-9+/=_\-]{16,}$")
# Where a secret word ends, in a lowered line; each hit is checked as the end of a name.
_WORD_HIT = re.compile(
    r"(?:passw(?:or)?d|passphrase|pwd|pswd|psw|secret|token|credentials?|key(?:[_\-. ]?id)?"
    r"|pass|pw|ak|sk|auth|密码|口令|密钥|秘钥|令牌|私钥|密匙)\d*(?![a-z])"
)
# Every lower-case literal that a name above holds; a line without one holds no such name.
_NAME_MARKERS = (
    "pass", "pwd", "psw", "pw", "secret", "token", "key", "cred", "auth", "ak", "sk",
    "密码", "口令", "密钥", "秘钥", "令牌", "私钥", "密匙",
)  # fmt: skip


def _is_secret_name(name: str) -> bool:
    name = name.strip("\"'`[]")
    lowered = name.lower()
    return bool(
        _LONG_NAME.search(lowered) or _SHORT_NAME.search(lowered) or _CAMEL_NAME.search(name)
    )


def _is_password(name: str) -> bool:
    return _PASSWORD_NAME.search(name.strip("\"'`[]").lower()) is not None


def _key_half(name: str, value: str) -> bool:
    """`sk: ...` and `with_ak("...")` only name a key when the value looks like one."""
    if _KEY_HALF_NAME.search(name.strip("\"'`[]").lower()) is None:
        return True
    has_digit = any(c.isdigit() for c in value)
    return bool(_KEY_HALF.match(value)) and has_digit and any(c.isalpha() for c in value)


# -- the rules ---------------------------------------------------------------------------------

_Span = tuple[int, int, str]  # start, end, kind: the value to hide


@dataclass(frozen=True)
class _Shape:
    """A known key or token shape; the whole match (or its `value` group) is the secret.

    The pattern is only tried near an occurrence of one of its markers (case-sensitive
    literals), from `before` characters ahead of it to the end of its line: `str.find` is a fast
    scan, while two dozen patterns tried at every position of a prompt would cost milliseconds
    per keystroke."""

    kind: str
    markers: tuple[str, ...]
    pattern: re.Pattern[str]
    before: int = 0  # how far ahead of its marker a match may start
    pairs: bool = False  # a key id: the secret of its pair is on the same or the next lines
    lines: bool = False  # a match may run over several lines


def _shape(
    kind: str,
    markers: tuple[str, ...],
    pattern: str,
    *,
    before: int = 0,
    pairs: bool = False,
    lines: bool = False,
) -> _Shape:
    return _Shape(kind, markers, re.compile(pattern), before, pairs, lines)


_START = r"(?<![\w\-])"  # a token starts at a word boundary
_SHAPES: tuple[_Shape, ...] = (
    _shape(
        "private-key",
        ("-----BEGIN",),
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s\\\"'.,:\-]*?"
        r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|(?=[^A-Za-z0-9+/=\s\\\"'.,:\-])|\Z)",
        lines=True,
    ),
    _shape("anthropic-key", ("sk-",), _START + r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    _shape("openai-key", ("sk-",), _START + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    _shape(
        "github-token",
        ("gh",),
        _START + r"(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})",
    ),
    _shape("gitlab-token", ("gl",), _START + r"gl(?:pat|dt|rt)-[A-Za-z0-9_\-]{20,}"),
    _shape(
        "aws-access-key",
        ("AKIA", "ASIA"),
        _START + r"(?:AKIA|ASIA)[0-9A-Z]{16}\b",
        pairs=True,
    ),
    _shape("google-api-key", ("AIza",), _START + r"AIza[0-9A-Za-z_\-]{35}"),
    _shape("slack-token", ("xox",), _START + r"xox[abposr]-[0-9A-Za-z\-]{10,}"),
    _shape(
        "slack-webhook",
        ("hooks.slack.com/services/",),
        r"(?<=hooks\.slack\.com/services/)T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}",
    ),
    _shape(
        "stripe-key",
        ("_live_", "_test_", "whsec_"),
        _START + r"(?:(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}|whsec_[0-9A-Za-z+/]{24,})",
        before=2,
    ),
    _shape(
        "jwt",
        ("eyJ",),
        _START + r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    ),
    _shape("alibaba-access-key-id", ("LTAI",), _START + r"LTAI[A-Za-z0-9]{12,30}\b", pairs=True),
    _shape("tencent-secret-id", ("AKID",), _START + r"AKID[A-Za-z0-9]{13,40}\b", pairs=True),
    _shape(
        "volcengine-access-key-id",
        ("AKLT",),
        _START + r"AKLT[A-Za-z0-9_\-]{16,64}={0,2}",
        pairs=True,
    ),
    _shape("huggingface-token", ("hf_",), _START + r"hf_[A-Za-z0-9]{30,40}\b"),
    _shape("npm-token", ("npm_",), _START + r"npm_[A-Za-z0-9]{36}\b"),
    _shape("pypi-token", ("pypi-AgE",), _START + r"pypi-AgE[A-Za-z0-9_\-]{40,}"),
    _shape("sendgrid-key", ("SG.",), _START + r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}"),
    _shape("mailgun-key", ("key-",), _START + r"key-[0-9a-zA-Z]{32}\b"),
    _shape("twilio-api-key", ("SK",), _START + r"SK[0-9a-fA-F]{32}\b", pairs=True),
    _shape("twilio-account-sid", ("AC",), _START + r"AC[0-9a-f]{32}\b", pairs=True),
    _shape(
        "azure-client-secret",
        ("Q~",),
        r"(?<![\w~.\-])[\w\-.]{3}\dQ~[\w\-.~]{31,34}",
        before=4,
    ),
    _shape("telegram-bot-token", (":AA",), r"\b\d{8,10}:AA[A-Za-z0-9_\-]{33}(?![\w\-])", before=10),
    _shape(
        "url-credentials",
        ("://",),
        r"(?<=://)[^/\s:@'\"`]*:(?P<value>[^/\s:@'\"`]{3,})(?=@[\w\[])",
    ),
    _shape(
        "dsn-password",
        ("@tcp(", "@unix("),
        r"(?<![\w/])[\w.\-]+:(?P<value>[^@\s\"'/:]{3,})(?=@(?:tcp|unix)\()",
        before=200,
    ),
)
# Stand-ins in URL credentials of documentation: https://user:password@host.
_URL_STAND_INS = frozenset(("password", "passwd", "pass", "pwd", "secret", "token", "pw", "xxx"))


_PEM_BODY = re.compile(r"[A-Za-z0-9+/]{40,}")


def _url_stand_in(value: str) -> bool:
    """https://user:password@host, https://jo%40email.com:a%20secret@host: documentation."""
    decoded = urllib.parse.unquote(value)
    return (
        value.lower() in _URL_STAND_INS
        or _stand_in(value)
        or _stand_in(decoded)
        or " " in decoded
        or bool(_CONSTANT_NAME.match(decoded.replace("@", "A")))
    )


_SHAPES_BY_MARKER: dict[str, list[_Shape]] = {}
for _each in _SHAPES:
    for _marker in _each.markers:
        _SHAPES_BY_MARKER.setdefault(_marker, []).append(_each)


def _find_shapes(text: str, spans: list[_Span], pairs: list[int]) -> None:
    for marker, shapes in _SHAPES_BY_MARKER.items():
        index = text.find(marker)
        while index != -1:
            line_start = text.rfind("\n", 0, index) + 1
            line_end = text.find("\n", index)
            line_end = len(text) if line_end == -1 else line_end
            resume = index + 1
            for shape in shapes:
                start = max(line_start, index - shape.before)
                match = shape.pattern.search(text, start, len(text) if shape.lines else line_end)
                if match is None:
                    continue
                group = "value" if "value" in shape.pattern.groupindex else 0
                if _is_secret_shape(shape, match.group(group)):
                    spans.append((*match.span(group), shape.kind))
                    if shape.pairs:
                        pairs.append(match.start())
                resume = max(resume, match.end())
            index = text.find(marker, resume)


def _is_secret_shape(shape: _Shape, value: str) -> bool:
    if shape.kind in ("url-credentials", "dsn-password"):
        return not _url_stand_in(value)
    if shape.kind == "private-key":
        return _PEM_BODY.search(value) is not None  # not the marker in code that looks for keys
    return shannon_entropy(value) >= 3.0  # "sk-xxxxxxxxxxxxxxxxxxxx": an example, not a key


# The secret of a key pair, near its id: AcsClient("LTAI...", "<secret>"), or on the next lines.
_PAIR_CANDIDATE = re.compile(r"""(?P<quote>["'`])(?P<value>[A-Za-z0-9+/=_\-]{16,128})(?P=quote)""")


def _find_pairs(text: str, at: int, spans: list[_Span]) -> None:
    start = text.rfind("\n", 0, at) + 1
    end = at
    for _ in range(3):  # the id's line and the two after it
        newline = text.find("\n", end)
        end = len(text) if newline == -1 else newline + 1
    for match in _PAIR_CANDIDATE.finditer(text, start, end):
        value = match.group("value")
        if (
            any(c.isdigit() for c in value)
            and any(c.isalpha() for c in value)
            and not _WORDS.match(value)
            and not _stand_in(value)
            and shannon_entropy(value) >= 2.9
        ):
            spans.append((*match.span("value"), "paired-secret"))


# -- rules on lines that hold a marker ----------------------------------------------------------

# A finder gets a line and the line lowered (same length), and yields the spans to hide.
_LineFinder = Callable[[str, str], Iterator[tuple[int, int, str]]]

_OP = r"(?P<op>\s*(?::=|=>|===?|!==?|\+=|=|:|：|＝)\s*)"
_TYPE = r"(?:\s*:\s*[\w&'<>\[\]|. ]{1,40}?(?=\s*=)|\s+(?:string|\[\]byte|String|str))?"
_QUOTED_VALUE = r"""(?P<quote>["'`])(?P<value>(?:\\.|(?!(?P=quote))[^\\\n])+)(?P=quote)"""

# What may follow a name that says "secret", matched right after it. Each form has a condition
# on what comes before the name (its lead), checked by `_find_named_values`.
# name = "value" / name: 'value' / "name": "value" / name := `value` / name="value" (a keyword
# argument) / ENV["name"] = "value" / const name: string = "value" / var name string = "value".
_AFTER_NAME_QUOTED = re.compile(
    r"""["'`]?\]?""" + _TYPE + _OP + r"(?:[rbuf]{1,2}|@)?" + _QUOTED_VALUE, re.IGNORECASE
)
# #define API_KEY "value"
_DEFINE_LEAD = re.compile(r"^\s*#\s*define\s+$")
_AFTER_DEFINE = re.compile(r"\s+" + _QUOTED_VALUE)
# A line that is a setting: YAML, INI, .properties, .env, a Dockerfile ENV, a comment. The value
# runs to the end of the line or a trailing comment; one ending in "," or ";" is code.
_SETTING_LEAD = re.compile(
    r"^[ \t]*(?:(?:#+|//+|--|;+|/?\*+|<!--|rem\b)[ \t]*)?(?:-[ \t]+)?"
    r"(?:export[ \t]+|set[ \t]+|setx[ \t]+|env[ \t]+|arg[ \t]+|\$env:)?[\"']?$",
    re.IGNORECASE,
)
_AFTER_SETTING = re.compile(
    r"[\"']?(?P<op>[ \t]*(?:=|:|：|＝)[ \t]*|[ \t]*(?:为|是)[ \t]*|[ \t]+)"
    r"(?P<value>[^\s\"'`](?:[^\s]*[^\s,;])?)(?P<tail>(?:[ \t]+.*)?)$"
)
# name=value inside a query string or a connection string: ?user=app&password=...,
# Server=db;Password=...;, AccountKey=...;, //registry/:_auth=...
_PARAMETER_LEADS = frozenset("?&;:\"'`")
_AFTER_PARAMETER = re.compile(r"[ \t]*=[ \t]*(?P<value>[^\s\"'`;&<>]+)")
# A comment after code: conn = connect()  # password: ...
_COMMENT_LEAD = re.compile(r"^\s*(?:#|//|--|;|/?\*|<!--)|(?:^|\s)(?:#|//|--)[ \t]*$")
_AFTER_COMMENT = re.compile(
    r"(?P<op>[ \t]*(?:=|:|：|＝)[ \t]*|[ \t]*(?:为|是)[ \t]*)(?P<value>[^\s\"'`]+)"
)
# setProperty("db.password", "value"), os.Setenv("API_KEY", "value"), ("X-Api-Key", "value")
_KEYED_LEAD = re.compile(r"[(\[]\s*[\"']$")
_AFTER_KEYED = re.compile(r"""["']\s*,\s*""" + _QUOTED_VALUE)
# <password>v</password>, <add key="ApiKey" value="v"/>, <entry key="db.password">v</entry>
_AFTER_ELEMENT = re.compile(r"(?:\s[^>]*)?>(?P<value>[^<\n]+)</(?P<close>[\w.\-:]+)>")
_XML_NAMED_LEAD = re.compile(r"(?:key|name)\s*=\s*[\"']$", re.IGNORECASE)
_AFTER_XML_NAMED = re.compile(
    r"""["'](?:\s+value\s*=\s*(?P<q>["'])(?P<value>[^"'\n]+)(?P=q)|\s*>(?P<text>[^<\n]+)<)""",
    re.IGNORECASE,
)
# .env and shell: NAME=value with an upper-case name holding a secret word anywhere
# (SECRET_KEY_BASE), also before a command (PGPASSWORD=x psql); Dockerfile ENV and ARG.
_ENV_NAME = re.compile(
    r"[A-Z0-9_]*(?:PASSW(?:OR)?D|PASSWD|PWD|SECRET|TOKEN|API_?KEY|APIKEY|ACCESS_?KEY"
    r"|PRIVATE_?KEY|SESSION_?KEY|AUTH|_PASS|_AK|_SK)[A-Z0-9_]*"
)
_ENV_LEAD = re.compile(r"(?:^|\s)(?:export[ \t]+)?$")
_AFTER_ENV = re.compile(r"=(?P<value>[^\s\"'#$`][^\s#]{3,})(?=\s|$)")
_DOCKER_LEAD = re.compile(r"^\s*(?:ENV|ARG)\s+$")
_AFTER_DOCKER = re.compile(r"(?:=|[ \t]+)(?P<value>[^\s\"'$`][^\s]{3,})[ \t]*$")
# SQL: CREATE USER app WITH PASSWORD '...', IDENTIFIED BY '...'
_AFTER_SQL_PASSWORD = re.compile(r"\s+(?P<quote>['\"])(?P<value>[^'\"\n]+)(?P=quote)")
_IDENTIFIED_BY = re.compile(r"\bidentified\s+by\s+(?P<quote>['\"])(?P<value>[^'\"\n]+)(?P=quote)")
# A call: name(...). A setter of a secret takes it first: .password("v"), with_sk("v").
_AFTER_CALL = re.compile(r"\s*\(")
_GETTER = re.compile(
    r"(?:^|[._])(?:get|read|load|fetch|lookup|has|is|del|delete|remove|find|require|check"
    r"|verify|validate|clear|reset|generate|gen|new|create|make|mask|redact|hide|env|encode"
    r"|decode|hash|parse|format|quote|escape)[_A-Z]?",
)
_NAME_CHARS = frozenset("_.-$")
# "API key", "Access Key ID", "secret key" in prose and comments: a name of two words.
_KEY_WORD_BEFORE = re.compile(
    r"(?:api|access|secret|private|app|client|account|storage|license|subscription|signing"
    r"|encryption|master|session)[ \t]$"
)
# .netrc: machine host login user password <value>
_NETRC_LEAD = re.compile(r"\b(?:machine|login)\s")
_AFTER_NETRC = re.compile(r"[ \t]+(?P<value>[^\s\"'`]+)")


def _name_start(line: str, end: int) -> int:
    start = end
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] in _NAME_CHARS):
        start -= 1
    return start


def _find_named_values(line: str, lower: str) -> Iterator[tuple[int, int, str]]:
    """Values given to a name that says "secret", in every form a file writes them."""
    for hit in _WORD_HIT.finditer(lower):
        end = hit.end()
        if end < len(line) and (line[end].isalnum() or line[end] in "_"):
            continue  # the word is inside a name: password_hash, token_type
        start = _name_start(line, hit.start())
        if lower.startswith("key", start):
            before = _KEY_WORD_BEFORE.search(lower, max(0, start - 14), start)
            if before is not None:
                start = _name_start(line, before.start())
        name = line[start:end]
        if not _is_secret_name(name):
            continue
        lead = line[:start]
        yield from _values_after(line, lead, name, end)


def _values_after(line: str, lead: str, name: str, end: int) -> Iterator[tuple[int, int, str]]:
    password = _is_password(name)

    def quoted(match: re.Match[str] | None, kind: str) -> Iterator[tuple[int, int, str]]:
        if match is not None:
            value = match.group("value")
            if _quoted_secret(value, password=password) and _key_half(name, value):
                yield (*match.span("value"), kind)

    def unquoted(match: re.Match[str] | None, kind: str) -> Iterator[tuple[int, int, str]]:
        if match is not None:
            value = match.group("value")
            after = line[match.end("value") : match.end("value") + 1]
            if after and after in "([{.":
                return  # a call or an index: code
            if _unquoted_secret(value, password=password) and _key_half(name, value):
                yield (*match.span("value"), kind)

    yield from quoted(_AFTER_NAME_QUOTED.match(line, end), "assignment")
    if _DEFINE_LEAD.match(lead):
        yield from quoted(_AFTER_DEFINE.match(line, end), "assignment")
    if lead[-1:] in _PARAMETER_LEADS:
        yield from unquoted(_AFTER_PARAMETER.match(line, end), "parameter")
    if _COMMENT_LEAD.search(lead):
        yield from unquoted(_AFTER_COMMENT.match(line, end), "comment")
    if _SETTING_LEAD.match(lead):
        setting = _AFTER_SETTING.match(line, end)
        if setting is not None and _is_setting(setting, lead):
            yield from unquoted(setting, "setting")
    if _KEYED_LEAD.search(lead):
        yield from quoted(_AFTER_KEYED.match(line, end), "keyed-value")
    if lead.endswith("<"):
        element = _AFTER_ELEMENT.match(line, end)
        if element is not None and element.group("close") == name:
            yield from quoted(element, "xml-value")
    if _XML_NAMED_LEAD.search(lead[-24:]):
        yield from _xml_named_value(_AFTER_XML_NAMED.match(line, end), password)
    if name.lower() == "password":
        yield from quoted(_AFTER_SQL_PASSWORD.match(line, end), "sql-password")
        if _NETRC_LEAD.search(lead):
            yield from unquoted(_AFTER_NETRC.match(line, end), "netrc")
    if _AFTER_CALL.match(line, end) and not _GETTER.search(name.split(".")[-1]):
        yield from _call_arguments(line, _AFTER_CALL.match(line, end).end(), name, setter=True)  # type: ignore[union-attr]


def _is_setting(match: re.Match[str], lead: str) -> bool:
    lead = lead.strip().lower()
    tail = match.group("tail").strip()
    comment = lead.startswith(("#", "//", "--", ";", "*", "/*", "<!--", "rem"))
    if tail and not comment and not tail.startswith(("#", "//", "-->", "*/")):
        return False  # "password = a or b": code, not a setting
    # Only Dockerfile ENV and ARG separate a name from its value by a space.
    return bool(match.group("op").strip()) or lead.endswith(("env", "arg"))


def _xml_named_value(match: re.Match[str] | None, password: bool) -> Iterator[tuple[int, int, str]]:
    if match is None:
        return
    group = "value" if match.group("value") is not None else "text"
    if _quoted_secret(match.group(group).strip(), password=password):
        yield (*match.span(group), "xml-value")


def _find_env_values(line: str, lower: str) -> Iterator[tuple[int, int, str]]:
    """NAME=value lines of .env files and shells, and Dockerfile ENV and ARG."""
    for name in _ENV_NAME.finditer(line):
        if name.start() and (line[name.start() - 1].isalnum() or line[name.start() - 1] == "_"):
            continue
        lead = line[: name.start()]
        found = None
        if _ENV_LEAD.search(lead):
            found = _AFTER_ENV.match(line, name.end())
        if found is None and _DOCKER_LEAD.match(lead):
            found = _AFTER_DOCKER.match(line, name.end())
        if found is not None and _env_value(found.group("value")):
            yield (*found.span("value"), "env")
    for found in _IDENTIFIED_BY.finditer(lower):
        value = line[found.start("value") : found.end("value")]
        if _quoted_secret(value, password=True):
            yield (*found.span("value"), "sql-password")


def _env_value(value: str) -> bool:
    return not _stand_in(value) and not _is_path(value) and not _URL_START.match(value)


_STRING = re.compile(r"""(?P<quote>["'`])(?P<value>(?:\\.|(?!(?P=quote))[^\\\n])*)(?P=quote)""")


def _call_arguments(line: str, at: int, fn: str, *, setter: bool) -> Iterator[tuple[int, int, str]]:
    """String literals passed to a setter of a secret (`.password("v")`, `with_sk("v")`: the
    first), or to a login or connect call (`login("admin", "v")`: all after the first)."""
    depth, index, begin = 0, 0, at
    while at < len(line):
        char = line[at]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return
            depth -= 1
        elif char == "," and depth == 0:
            index += 1
        elif char in "\"'`" and depth == 0:
            literal = _STRING.match(line, at)
            if literal is None:
                return
            before = line[begin:at].rstrip()
            keyword = before.endswith(("=", ":")) and not before.endswith(("==", "::"))
            value = literal.group("value")
            if not keyword and (
                (
                    setter
                    and index == 0
                    and _quoted_secret(value, password=True)
                    and _key_half(fn, value)
                )
                or (not setter and index > 0 and _quoted_secret(value, password=True))
                or (not setter and index == 0 and _KEY_HALF.match(value) and looks_random(value))
            ):
                yield (*literal.span("value"), "argument")
            at = literal.end()
            continue
        at += 1


# Calls whose arguments after the first are credentials: login("admin", "<password>"),
# HTTPBasicAuth("user", "<password>"), getConnection(url, "user", "<password>"),
# AccessKeyCredential("<id>", "<secret>"); also requests' auth=("user", "<password>").
_LOGIN_CALL = re.compile(
    r"(?:log_?in|log_?on|sign_?in|authenticate|authorize|auth|connect|connection"
    r"|credentials?)\s*(?:=\s*)?\("
)
_LOGIN_NAME = re.compile(
    r"(?:^|[._])(?:log_?in|log_?on|sign_?in|authenticate|authorize|auth|connect"
    r"|get_?connection|create_?connection)$|(?:basic|digest)_?auth$|credentials?$"
)


def _find_login_arguments(line: str, lower: str) -> Iterator[tuple[int, int, str]]:
    for call in _LOGIN_CALL.finditer(lower):
        name_end = call.start() + len(call.group(0).split("(")[0].split("=")[0].rstrip())
        start = _name_start(line, name_end)
        if start < name_end and _LOGIN_NAME.search(lower[start:name_end].split(".")[-1]):
            yield from _call_arguments(line, call.end(), line[start:name_end], setter=False)


# A signed URL: ?sv=...&sig=<signature> (Azure SAS), X-Amz-Signature=, X-Goog-Signature=.
_URL_SIGNATURE = re.compile(
    r"(?:(?<=[?&;\s\"'`])sig|(?<=[?&;])(?:signature|x-amz-signature|x-goog-signature))"
    r"=(?P<value>[a-z0-9%+/=_\-.]{16,})"
)
# Authorization: Bearer <token> / Basic <base64> / token <value>
_AUTH_HEADER = re.compile(
    r"(?<![\w\-])(?:bearer|basic|token|digest)[ \t]+(?P<value>[a-z0-9\-._~+/]{8,}=*)"
    r"(?![\w\-.~+/=])"
)
# Command lines: --password value, docker login -p value, mysql -pvalue, curl -u user:value.
_FLAG_VALUE = re.compile(
    r"(?:^|\s)--?[\w\-]*(?:password|passwd|pass|pwd|token|api-?key|secret|secret-key"
    r"|access-key|auth)(?:[ \t]+|=)(?P<quote>[\"']?)(?P<value>[^\s\"'`-][^\s\"'`]*)(?P=quote)"
)
_SHORT_PASSWORD_FLAG = re.compile(
    r"\b(?:(?:docker|podman|helm|oras|buildah|skopeo|nerdctl)\b[^\n]*?\blogin\b[^\n]*?\s-p[ \t]+"
    r"|sshpass[ \t]+-p[ \t]*|\bmysql(?:dump|admin|sh)?\b[^\n]*?\s-p)"
    r"(?P<quote>[\"']?)(?P<value>[^\s\"'`-][^\s\"'`]*)(?P=quote)"
)
_USER_COLON_PASSWORD = re.compile(
    r"(?:^|\s)(?:-u|--user|-a|--auth)[ \t]+(?P<quote>[\"']?)[^\s:\"'$]+:"
    r"(?P<value>[^\s\"'$][^\s\"']*)(?P=quote)"
)


def _regex_finder(
    pattern: re.Pattern[str], kind: str, accept: Callable[[str], bool], *, lowered: bool
) -> _LineFinder:
    """A finder running `pattern` over the lowered line (no IGNORECASE: much faster) or the
    line itself, accepting the value (taken from the line) when `accept` says so."""

    def find(line: str, lower: str) -> Iterator[tuple[int, int, str]]:
        for match in pattern.finditer(lower if lowered else line):
            start, end = match.span("value")
            if accept(line[start:end]):
                yield (start, end, kind)

    return find


def _signature(value: str) -> bool:
    decoded = urllib.parse.unquote(value)
    return (
        bool(_KEY_HALF.match(decoded))
        and shannon_entropy(decoded) >= 3.5
        and not _stand_in(decoded)
        and not _WORDS.match(decoded)
    )


def _auth_header(value: str) -> bool:
    if _stand_in(value) or _WORDS.match(value) or _DOTTED_NAME.match(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    return (has_digit and any(c.isalpha() for c in value)) or looks_random(value)


def _flag(value: str) -> bool:
    return _unquoted_secret(value, password=True)


@dataclass(frozen=True)
class _LineRule:
    """Finders that only run on lines holding one of `markers` (lower-case literals, found by
    a fast scan): most lines of code hold none, and running the finders on every line would
    cost milliseconds per prompt."""

    markers: tuple[str, ...]
    finders: tuple[_LineFinder, ...]


_LINE_RULES: tuple[_LineRule, ...] = (
    _LineRule((*_NAME_MARKERS, "identified"), (_find_named_values, _find_env_values)),
    _LineRule(("log", "sign", "auth", "connect", "credential"), (_find_login_arguments,)),
    _LineRule(
        ("sig=", "signature="),
        (_regex_finder(_URL_SIGNATURE, "url-signature", _signature, lowered=True),),
    ),
    _LineRule(
        ("bearer", "basic", "token", "digest"),
        (_regex_finder(_AUTH_HEADER, "header", _auth_header, lowered=True),),
    ),
    _LineRule(
        ("--", " -p", " -u", " -a", "sshpass"),
        (
            _regex_finder(_FLAG_VALUE, "command-line", _flag, lowered=True),
            _regex_finder(_SHORT_PASSWORD_FLAG, "command-line", _flag, lowered=False),
            _regex_finder(_USER_COLON_PASSWORD, "command-line", _flag, lowered=False),
        ),
    ),
)


def _find_in_lines(text: str, lower: str, spans: list[_Span]) -> None:
    lines_with: dict[str, list[int]] = {}  # marker -> the starts of the lines holding it
    for marker in _LINE_MARKERS:
        starts: list[int] = []
        index = lower.find(marker)
        while index != -1:
            start = text.rfind("\n", 0, index) + 1
            starts.append(start)
            end = text.find("\n", index)
            index = -1 if end == -1 else lower.find(marker, end)
        lines_with[marker] = starts
    for rule in _LINE_RULES:
        for start in sorted({s for marker in rule.markers for s in lines_with[marker]}):
            end = text.find("\n", start)
            end = len(text) if end == -1 else end
            line, low = text[start:end], lower[start:end]
            for finder in rule.finders:
                spans.extend((start + a, start + b, k) for a, b, k in finder(line, low))


_LINE_MARKERS = tuple(dict.fromkeys(m for rule in _LINE_RULES for m in rule.markers))


# -- rules over blocks of lines ----------------------------------------------------------------

_K8S_SECRET = re.compile(r"^kind:\s*[\"']?Secret[\"']?\s*$", re.MULTILINE)
_K8S_DATA = re.compile(r"^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*$", re.MULTILINE)
_YAML_ENTRY = re.compile(
    r"^[ \t]+[\"']?[\w.\-]+[\"']?:[ \t]*"
    r"(?P<quote>[\"']?)(?P<value>[^\s\"'|>#][^\s\"']*)(?P=quote)[ \t]*$"
)
_K8S_BASE64_ENTRY = re.compile(
    r"^[ \t]+[\"']?[\w.\-]+[\"']?:[ \t]*(?P<value>[A-Za-z0-9+/]{8,}={0,2})[ \t]*$", re.MULTILINE
)
_TF_VARIABLE = re.compile(r"""^\s*variable\s+"(?P<name>[^"]+)"\s*\{""", re.MULTILINE)
_TF_DEFAULT = re.compile(r"""^\s*default\s*=\s*"(?P<value>[^"\n]+)"|^\s*\}""", re.MULTILINE)


def _find_kubernetes_secret_data(text: str, spans: list[_Span]) -> None:
    """Every value under `data:` or `stringData:` of a Kubernetes Secret: its keys are any
    names, and `data` holds base64 that hides a secret from every other rule."""
    if "kind:" not in text or not _K8S_SECRET.search(text):
        return
    for block in _K8S_DATA.finditer(text):
        indent = len(block.group("indent"))
        at = block.end() + 1
        while at < len(text):
            end = text.find("\n", at)
            end = len(text) if end == -1 else end
            line = text[at:end]
            if line.strip():
                entry = _YAML_ENTRY.match(line)
                if len(line) - len(line.lstrip()) <= indent or entry is None:
                    break
                value = entry.group("value")
                if len(value) >= 4 and not _stand_in(value):
                    spans.append((at + entry.start("value"), at + entry.end("value"), "k8s-secret"))
            at = end + 1
    # Entries cut off from their block (the code after the cursor, sent in another message):
    # base64 values of a Secret are secrets wherever they stand.
    for entry in _K8S_BASE64_ENTRY.finditer(text):
        if _is_base64(entry.group("value")):
            spans.append((*entry.span("value"), "k8s-secret"))


def _is_base64(value: str) -> bool:
    if len(value) % 4:
        return False
    try:
        base64.b64decode(value, validate=True)
    except ValueError:
        return False
    return True


def _find_terraform_defaults(text: str, spans: list[_Span]) -> None:
    """variable "db_password" { default = "..." }: the name is on another line."""
    if "variable" not in text:
        return
    for variable in _TF_VARIABLE.finditer(text):
        name = variable.group("name")
        if not _is_secret_name(name):
            continue
        found = _TF_DEFAULT.search(text, variable.end())
        value = None if found is None else found.group("value")
        if value is not None and _quoted_secret(value, password=_is_password(name)):
            spans.append((*found.span("value"), "terraform-default"))  # type: ignore[union-attr]


# -- any quoted string assigned to something, checked for entropy -----------------------------

_ANY_ASSIGNED_STRING = re.compile(
    r"""(?P<op>(?::=|=|:|=>)\s*)(?P<quote>["'])(?P<value>[A-Za-z0-9+/=_\-.]{20,})(?P=quote)"""
)


def _find_random_assigned(text: str, spans: list[_Span]) -> None:
    for match in _ANY_ASSIGNED_STRING.finditer(text):
        value = match.group("value")
        if (
            looks_random(value)
            and not _HASH_PREFIX.match(value)
            and not _NUMBERISH.match(value)
            and not _encoded_prose(value)
        ):
            spans.append((*match.span("value"), "high-entropy"))


def _encoded_prose(value: str) -> bool:
    """Base64 of plain words ("These aren't the droids..."): an example, not a key."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return False
    return decoded.isprintable() and decoded.count(" ") >= 2


# -- putting it together -----------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    start: int
    end: int
    kind: str


def find_secrets(text: str) -> list[Secret]:
    """Where the secrets of `text` are, in order, not overlapping."""
    if not text:
        return []
    spans: list[_Span] = []
    pairs: list[int] = []
    _find_shapes(text, spans, pairs)
    for at in pairs:
        _find_pairs(text, at, spans)
    _find_in_lines(text, text.lower(), spans)
    _find_kubernetes_secret_data(text, spans)
    _find_terraform_defaults(text, spans)
    _find_random_assigned(text, spans)
    return _merged(spans)


def _merged(spans: list[_Span]) -> list[Secret]:
    """Overlapping spans become one secret: hiding both is hiding their union."""
    out: list[Secret] = []
    for start, end, kind in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1].end:
            last = out[-1]
            out[-1] = Secret(last.start, max(last.end, end), last.kind)
        else:
            out.append(Secret(start, end, kind))
    return out


@dataclass(frozen=True)
class Redaction:
    """Texts with their secrets replaced by the numbered placeholders of `placeholders`."""

    texts: tuple[str, ...]
    found: tuple[str, ...]  # the kinds of secret replaced, one entry per replacement
    placeholders: Placeholders

    @property
    def text(self) -> str:
        return "".join(self.texts)


# A value found once is hidden wherever else it occurs in the request (a comment, a second
# file), if it is long enough that an occurrence is surely the same secret.
_REPEAT_MIN = 8


def redact_texts(texts: Sequence[str], *, verbatim: re.Pattern[str] | None = None) -> Redaction:
    """`texts`, the parts of one request, with every secret replaced by its placeholder: the
    same value gets the same placeholder in every part.

    The parts are read as one text, each starting a line, so a rule spanning lines (a
    Kubernetes Secret, a key pair over two lines) still sees a block that the cursor or a
    message boundary cuts. Matches of `verbatim` (a model's special tokens) are kept as they
    are and read as line breaks."""
    protected = [[m.span() for m in verbatim.finditer(text)] if verbatim else [] for text in texts]
    found_in = _found_in_parts(texts, protected)
    values = {
        text[start:end]
        for text, found in zip(texts, found_in, strict=True)
        for start, end, _ in found
    }
    repeated = sorted((v for v in values if len(v) >= _REPEAT_MIN), key=len, reverse=True)
    placeholders = Placeholders.for_texts(texts)
    out: list[str] = []
    kinds: list[str] = []
    for text, found, keep in zip(texts, found_in, protected, strict=True):
        spans = list(found)
        for value in repeated:
            index = text.find(value)
            while index != -1:
                end = index + len(value)
                if _delimited(text, index, end):
                    spans.append((index, end, "repeated"))
                index = text.find(value, end)
        # A secret followed by digits hides them too: "REDACTED_SECRET_1" then "5" would read
        # as placeholder 15.
        spans = [(s.start, _digits_end(text, s.end), s.kind) for s in _merged(spans)]
        secrets = _merged(_cut(spans, keep))
        pieces: list[str] = []
        done = 0
        for secret in secrets:
            pieces.append(text[done : secret.start])
            pieces.append(placeholders.placeholder(text[secret.start : secret.end]))
            done = secret.end
        pieces.append(text[done:])
        out.append("".join(pieces))
        kinds.extend(s.kind for s in secrets)
    return Redaction(tuple(out), tuple(kinds), placeholders)


def _found_in_parts(
    texts: Sequence[str], protected: list[list[tuple[int, int]]]
) -> list[list[_Span]]:
    """The secrets of the parts read as one text, cut back into each part."""
    pieces: list[str] = []
    offsets: list[int] = []
    at = 0
    for text, keep in zip(texts, protected, strict=True):
        offsets.append(at)
        done = 0
        for start, end in keep:
            pieces += (text[done:start], "\n" * (end - start))
            done = end
        pieces += (text[done:], "\n")
        at += len(text) + 1
    found: list[list[_Span]] = [[] for _ in texts]
    for secret in find_secrets("".join(pieces)[:-1]):
        for index, (offset, text) in enumerate(zip(offsets, texts, strict=True)):
            start, end = max(secret.start - offset, 0), min(secret.end - offset, len(text))
            if start < end:
                found[index].extend(_cut([(start, end, secret.kind)], protected[index]))
    return found


def _cut(spans: list[_Span], keep: list[tuple[int, int]]) -> list[_Span]:
    """`spans` without the ranges in `keep`."""
    for low, high in keep:
        spans = [
            piece
            for start, end, kind in spans
            for piece in ((start, min(end, low), kind), (max(start, high), end, kind))
            if piece[0] < piece[1]
        ]
    return spans


def _digits_end(text: str, end: int) -> int:
    while end < len(text) and text[end].isdigit():
        end += 1
    return end


def _delimited(text: str, start: int, end: int) -> bool:
    """The occurrence is not the middle of a longer word: `x_secret_value` does not hold a
    secret `secret_value`."""
    before = text[start - 1 : start] if start else ""
    after = text[end : end + 1]
    return not (before and _is_word_char(before) and _is_word_char(text[start])) and not (
        after and _is_word_char(after) and _is_word_char(text[end - 1])
    )


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def redact_secrets(text: str) -> Redaction:
    """`text` with every secret found replaced by a numbered placeholder."""
    return redact_texts((text,))
