"""What a secret value looks like, as opposed to a name, a template, an example, a hash or
code."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

Span = tuple[int, int, str]  # start, end and kind of a value to hide in a text

HASH_PREFIX = re.compile(r"^(?:sha(?:1|224|256|384|512)[-:=]|md5[-:]|h1:|blake2b?[-:])", re.I)
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
_X_RUN = re.compile(r"x{3,}", re.I)
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
CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z]+$")
DOTTED_NAME = re.compile(r"^[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+$")
# get_password, self.token, "option." in prose
WORDS = re.compile(r"^_*[A-Za-z]+(?:[_\-.]+[A-Za-z]+)*[_.,:;!?]*$")
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
NUMBERISH = re.compile(
    r"^(?:0x[0-9a-fA-F]+|[\d.:,_+\-]+|v?\d+(?:\.\d+)+(?:[a-z]+\d*)?(?:[-+][\w.]+)*)$"
)
URL_START = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.I)
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
    if len(value) < 20 or value[0] in "-." or DOTTED_NAME.match(value):
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


def stand_in(value: str) -> bool:
    """A value that is visibly not a secret: a template, a reference, an example, a hash."""
    lowered = value.lower()
    return (
        lowered in _NOT_SECRET
        or value.startswith(("$", "%", "<", "{"))
        or lowered.startswith(("os.environ", "process.env", "getenv", "env:", "env(", "vault:"))
        or bool(_TEMPLATE.match(value))
        or bool(_NOT_LITERAL.search(value))
        or any(_stands_in(value, m.group(0)) for m in _STAND_IN.finditer(value))
        or (len(value) <= 24 and _TYPED_RUN.search(value) is not None)
        or bool(_WEAK_WORD.match(value))
        or bool(HASH_PREFIX.match(value))
    )


def _stands_in(value: str, word: str) -> bool:
    """Whether `word`, found in `value`, makes it a stand-in. A run of x ("sk-xxxx",
    "xxx-token") does, unless what is left is itself a random secret: a drawn password holds
    "xxx" between two symbols now and then ("Xxx+HMpH.w37IS")."""
    if not _typed(word):
        return False
    if set(word.lower()) != {"x"}:
        return True
    rest = _X_RUN.sub("", value)
    return sum(c.isalnum() for c in rest) < 8 or not _mixed(rest)


def _typed(word: str) -> bool:
    """Written by a person, not drawn at random: "fake", "FAKE", "Fake", but not "FakE"."""
    return word.islower() or word.isupper() or word.istitle() or not word.isalpha()


def is_path(value: str) -> bool:
    """/etc/app/key.pem, ./secrets.json, C:\\keys; not base64 that starts with a slash."""
    return bool(_PATHISH.match(value)) and not (len(value) >= 20 and _mixed(value))


def _mixed(value: str) -> bool:
    """Upper case, lower case and digits all present: not a name anyone types."""
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


def quoted_secret(value: str, *, password: bool) -> bool:
    """A quoted literal given to a secret name that is a secret, not a name or an example.
    Passwords may be short or a passphrase ("correct-horse-battery-staple"); other secrets are
    keys and tokens, never lower-case words."""
    if len(value) < (6 if password else 8) or len(value) > 4096:
        return False
    if " " in value or "\\n" in value or value.startswith("--") or stand_in(value):
        return False
    if NUMBERISH.match(value) or URL_START.match(value):
        return False
    if is_path(value):
        return False
    if CONSTANT_NAME.match(value) or _LOWER_WORD.match(value):
        return False  # "MY_API_KEY", "bearer"
    if _SNAKE_NAME.match(value) or (DOTTED_NAME.match(value) and not _mixed(value)):
        return False  # "display_name", settings.SECRET_KEY
    if _identifier_words(value):
        return False  # "SecretStr", "InvalidApiKey", "NotebookDocumentSyncClientCapabilities"
    return password or not _LOWER_COMPOUND.match(value)


def unquoted_secret(value: str, *, password: bool, in_string: bool = False) -> bool:
    """An unquoted value (YAML, INI, .properties, a comment) that is a secret, not code.
    `in_string`: the value is a parameter inside a connection or query string
    (`;password=Os.XJ8nv5YCok;`), where a dotted name is text, not a reference to code."""
    if not quoted_secret(value, password=password):
        return False
    if value.startswith(("@", "&", "*", "!", "|", ">", "-", "=", "~", ".")):
        return False  # YAML tags, anchors and block scalars, flags, paths
    if any(c in value for c in "()[]{}`\"'") or not value.isascii():
        return False  # a call, an index, a template, prose in another language
    if WORDS.match(value) or _HEX_NUMBER.match(value):
        return False  # an identifier or a number: get_token, SecretStr, 0x1f
    first = re.split(r"\.|::|->", value)[0]
    code = first.lower() in _RECEIVERS or _MODULE_NAME.match(first)
    if not in_string and DOTTED_NAME.match(value) and code:
        return False  # code: self.password, rust_openssl.hpke.X25519PrivateKey
    has_letter = any(c.isalpha() for c in value)
    has_other = any(not c.isalpha() for c in value)
    return has_letter and has_other and (password or looks_random(value) or len(value) >= 12)
