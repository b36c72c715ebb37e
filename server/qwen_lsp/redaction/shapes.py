"""Known key and token shapes, found near their literal markers, and the secret that goes with
a key id on the same or the next lines (an AccessKey pair)."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from qwen_lsp.redaction.values import CONSTANT_NAME, WORDS, Span, shannon_entropy, stand_in


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
        or stand_in(value)
        or stand_in(decoded)
        or " " in decoded
        or bool(CONSTANT_NAME.match(decoded.replace("@", "A")))
    )


_SHAPES_BY_MARKER: dict[str, list[_Shape]] = {}
for _each in _SHAPES:
    for _marker in _each.markers:
        _SHAPES_BY_MARKER.setdefault(_marker, []).append(_each)


def find_shapes(text: str, spans: list[Span], pairs: list[int]) -> None:
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


def find_pairs(text: str, at: int, spans: list[Span]) -> None:
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
            and not WORDS.match(value)
            and not stand_in(value)
            and shannon_entropy(value) >= 2.9
        ):
            spans.append((*match.span("value"), "paired-secret"))
