"""What counts as a secret in text, and the placeholder it becomes before text leaves for a
model.

`redact_secrets` replaces API keys, tokens, private keys, JWTs, password-like assignments,
`.env`-style lines and high-entropy strings in assignments by a placeholder. Patterns are
specific (known key shapes) or anchored on an assignment to a name that says "secret", so
ordinary code keeps its text; the false-positive rate on real code is measured by the tests.
The door every prompt passes is `providers/redacting.py`.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

PLACEHOLDER = "<redacted>"

# Known key and token shapes: (kind, literal markers, pattern); the whole match is replaced.
# A pattern only runs where one of its markers occurs: `in` is a fast scan, while eleven
# patterns tried at every position of a prompt would cost milliseconds per keystroke.
_TOKEN_PATTERNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "private-key",
        ("-----BEGIN",),
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    ("anthropic-key", ("sk-ant-",), r"\bsk-ant-[A-Za-z0-9_\-]{20,}"),
    ("openai-key", ("sk-",), r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    (
        "github-token",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})",
    ),
    ("gitlab-token", ("glpat-",), r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    (
        "aws-access-key",
        ("AKIA", "ASIA", "AGPA", "AIDA", "AROA"),
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b",
    ),
    ("google-api-key", ("AIza",), r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("slack-token", ("xox",), r"\bxox[abposr]-[0-9A-Za-z\-]{10,}"),
    ("stripe-key", ("_live_", "_test_"), r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"),
    ("jwt", ("eyJ",), r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("url-credentials", ("://",), r"(?<=://)[^/\s:@'\"]+:[^/\s@'\"]{3,}(?=@)"),
)

# A name that says its value is secret, ending in the secret word: password, db_password,
# api_key, clientSecret, AUTH_TOKEN (but not token_type or secret_santa_list).
_SECRET_WORD = (
    r"(?:passw(?:or)?d|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key"
    r"|private[_\-]?key|session[_\-]?key|secret[_\-]?key)"
)
_SECRET_NAME = r"[A-Za-z0-9_\-]*" + _SECRET_WORD + r"(?![A-Za-z])[0-9]*"
# The regexes below are only tried on lines holding a secret word: most lines hold none, and
# scanning every line with them would cost milliseconds per prompt.
_SECRET_MARKERS = ("passw", "pwd", "secret", "token", "key")
# name = "value" / name: 'value' / "name": "value" / name := `value` (quoted values only: code
# like `password = get_password()` is left alone).
_QUOTED_ASSIGNMENT = re.compile(
    r"""(?<![A-Za-z0-9_\-])(?P<name>["']?""" + _SECRET_NAME + r"""["']?)"""
    r"""(?P<op>\s*(?::=|=|:|=>)\s*)(?P<quote>["'`])(?P<value>[^"'`\n]{4,})(?P=quote)""",
    re.IGNORECASE,
)
# .env / shell lines: an upper-case NAME=value with an unquoted value. Upper case and no
# spaces around "=", because `auth = self.auth` is code, not configuration.
_SECRET_ENV_NAME = (
    r"[A-Z0-9_]*(?:PASSW(?:OR)?D|PASSWD|PWD|SECRET|TOKEN|API_?KEY|APIKEY|ACCESS_?KEY"
    r"|PRIVATE_?KEY|SESSION_?KEY)[A-Z0-9_]*"
)
_ENV_LINE = re.compile(
    r"^(?P<lead>[ \t]*(?:export[ \t]+)?)(?P<name>" + _SECRET_ENV_NAME + r")(?P<op>=)"
    r"(?P<value>[^\s\"'#][^\s#]{3,})[ \t]*$",
    re.MULTILINE,
)
# Any quoted string assigned to something, checked for entropy (random tokens, not words).
_ANY_ASSIGNED_STRING = re.compile(
    r"""(?P<op>(?::=|=|:|=>)\s*)(?P<quote>["'])(?P<value>[A-Za-z0-9+/=_\-.]{20,})(?P=quote)"""
)
_DOTTED_NAME = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
_CONSTANT_NAME = re.compile(r"^[A-Z][A-Z0-9_]+$")
_WORD = re.compile(r"^[A-Za-z]{3,}$")
_TOKENS = [(kind, markers, re.compile(pattern)) for kind, markers, pattern in _TOKEN_PATTERNS]


@dataclass(frozen=True)
class Redaction:
    text: str
    found: tuple[str, ...]  # the kinds of secret replaced, one entry per replacement


def shannon_entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_random(value: str) -> bool:
    """A token-like string: long, high entropy, mixing character classes, and not words,
    a dotted name, a path or a run like "0123456789abcdef"."""
    if len(value) < 20 or value[0] in "-./" or _DOTTED_NAME.match(value):
        return False  # too short to be a key, a flag or a path, a dotted name
    if sum(bool(_WORD.match(part)) for part in re.split(r"[-_./]", value)) >= 2:
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


def redact_secrets(text: str) -> Redaction:
    """`text` with every secret found replaced by a placeholder."""
    if not text:
        return Redaction(text, ())
    found: list[str] = []

    def token(kind: str) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            if shannon_entropy(match.group(0)) < 3.0:
                return match.group(0)  # "sk-xxxxxxxxxxxxxxxxxxxx": an example, not a key
            found.append(kind)
            return PLACEHOLDER

        return replace

    for kind, markers, pattern in _TOKENS:
        if any(marker in text for marker in markers):
            text = pattern.sub(token(kind), text)

    def assignment(match: re.Match[str]) -> str:
        if match.group("value") == PLACEHOLDER or _is_placeholder_value(match.group("value")):
            return match.group(0)
        found.append("assignment")
        quote = match.group("quote")
        return f"{match.group('name')}{match.group('op')}{quote}{PLACEHOLDER}{quote}"

    text = _on_lines_with_secret_words(text, lambda line: _QUOTED_ASSIGNMENT.sub(assignment, line))

    def env_line(match: re.Match[str]) -> str:
        if _is_placeholder_value(match.group("value")):
            return match.group(0)
        found.append("env")
        return f"{match.group('lead')}{match.group('name')}{match.group('op')}{PLACEHOLDER}"

    text = _ENV_LINE.sub(env_line, text)

    def random_string(match: re.Match[str]) -> str:
        if not looks_random(match.group("value")):
            return match.group(0)
        found.append("high-entropy")
        quote = match.group("quote")
        return f"{match.group('op')}{quote}{PLACEHOLDER}{quote}"

    text = _ANY_ASSIGNED_STRING.sub(random_string, text)
    return Redaction(text, tuple(found))


_PLACEHOLDER_VALUES = re.compile(
    r"^(?:<[^>]*>|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*\}\}|\*+|changeme|"
    r"none|null|true|false|redacted|os\.environ.*|process\.env.*|getenv.*)$|"
    r"xxx|\.\.\.|example|dummy|placeholder|your[_\- ]|mock|fake",
    re.IGNORECASE,
)


def _on_lines_with_secret_words(text: str, rewrite: Callable[[str], str]) -> str:
    """Apply `rewrite` to each line that holds a secret word, leaving the others untouched."""
    lower = text.lower()
    hits = sorted(i for marker in _SECRET_MARKERS for i in _occurrences(lower, marker))
    out: list[str] = []
    done = 0
    for index in hits:
        if index < done:
            continue  # a second word on a line already rewritten
        start = text.rfind("\n", 0, index) + 1
        end = text.find("\n", index)
        end = len(text) if end == -1 else end
        out.append(text[done:start])
        out.append(rewrite(text[start:end]))
        done = end
    out.append(text[done:])
    return "".join(out)


def _occurrences(text: str, marker: str) -> list[int]:
    found, index = [], text.find(marker)
    while index != -1:
        found.append(index)
        index = text.find(marker, index + 1)
    return found


def _is_placeholder_value(value: str) -> bool:
    """Values that are visibly not a secret: templates, env references, examples, constant
    names ("MY_API_KEY"), dotted names, and short or spaced words ("secret", "a b")."""
    value = value.strip()
    return (
        PLACEHOLDER in value
        or bool(_PLACEHOLDER_VALUES.search(value))
        or bool(_CONSTANT_NAME.match(value) or _DOTTED_NAME.match(value))
        or len(value) < 8
        or " " in value
    )
