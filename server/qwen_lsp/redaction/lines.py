"""Rules on the lines that hold a marker: values given to a name that says "secret", in every
form files write them; login and connect arguments; Authorization headers; signed URLs; command
lines."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from qwen_lsp.redaction.names import (
    KEY_HALF,
    NAME_MARKERS,
    WORD_HIT,
    is_password,
    is_secret_name,
    key_half,
)
from qwen_lsp.redaction.values import (
    DOTTED_NAME,
    URL_START,
    WORDS,
    Span,
    is_path,
    looks_random,
    quoted_secret,
    shannon_entropy,
    stand_in,
    unquoted_secret,
)

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
    for hit in WORD_HIT.finditer(lower):
        end = hit.end()
        if end < len(line) and (line[end].isalnum() or line[end] == "_"):
            continue  # the word is inside a name: password_hash, token_type
        start = _name_start(line, hit.start())
        if lower.startswith("key", start):
            before = _KEY_WORD_BEFORE.search(lower, max(0, start - 14), start)
            if before is not None:
                start = _name_start(line, before.start())
        name = line[start:end]
        if not is_secret_name(name):
            continue
        lead = line[:start]
        yield from _values_after(line, lead, name, end)


def _values_after(line: str, lead: str, name: str, end: int) -> Iterator[tuple[int, int, str]]:
    password = is_password(name)

    def quoted(match: re.Match[str] | None, kind: str) -> Iterator[tuple[int, int, str]]:
        if match is not None:
            value = match.group("value")
            if quoted_secret(value, password=password) and key_half(name, value):
                yield (*match.span("value"), kind)

    def unquoted(match: re.Match[str] | None, kind: str) -> Iterator[tuple[int, int, str]]:
        if match is not None:
            value = match.group("value")
            after = line[match.end("value") : match.end("value") + 1]
            if after and after in "([{.":
                return  # a call or an index: code
            in_string = kind == "parameter"
            if unquoted_secret(value, password=password, in_string=in_string) and key_half(
                name, value
            ):
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
    call = _AFTER_CALL.match(line, end)
    if call is not None and not _GETTER.search(name.split(".")[-1]):
        yield from _call_arguments(line, call.end(), name, setter=True)


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
    if quoted_secret(match.group(group).strip(), password=password):
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
        if quoted_secret(value, password=True):
            yield (*found.span("value"), "sql-password")


def _env_value(value: str) -> bool:
    return not stand_in(value) and not is_path(value) and not URL_START.match(value)


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
                    and quoted_secret(value, password=True)
                    and key_half(fn, value)
                )
                or (not setter and index > 0 and quoted_secret(value, password=True))
                or (not setter and index == 0 and KEY_HALF.match(value) and looks_random(value))
            ):
                yield (*literal.span("value"), "argument")
            at = literal.end()
            continue
        at += 1


# Calls whose arguments after the first are credentials: login("admin", "<password>"),
# HTTPBasicAuth("user", "<password>"), getConnection(url, "user", "<password>"),
# AccessKeyCredential("<id>", "<secret>"); also requests' auth=("user", "<password>").
_LOGIN_CALL = re.compile(
    r"(?P<word>log_?in|log_?on|sign_?in|authenticate|authorize|auth|connect|connection"
    r"|credentials?)\s*(?:=\s*)?\("
)
_LOGIN_NAME = re.compile(
    r"(?:^|[._])(?:log_?in|log_?on|sign_?in|authenticate|authorize|auth|connect"
    r"|get_?connection|create_?connection)$|(?:basic|digest)_?auth$|credentials?$"
)


def _find_login_arguments(line: str, lower: str) -> Iterator[tuple[int, int, str]]:
    for call in _LOGIN_CALL.finditer(lower):
        name_end = call.end("word")
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
        bool(KEY_HALF.match(decoded))
        and shannon_entropy(decoded) >= 3.5
        and not stand_in(decoded)
        and not WORDS.match(decoded)
    )


def _auth_header(value: str) -> bool:
    if stand_in(value) or WORDS.match(value) or DOTTED_NAME.match(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    return (has_digit and any(c.isalpha() for c in value)) or looks_random(value)


def _flag(value: str) -> bool:
    return unquoted_secret(value, password=True)


@dataclass(frozen=True)
class _LineRule:
    """Finders that only run on lines holding one of `markers` (lower-case literals, found by
    a fast scan): most lines of code hold none, and running the finders on every line would
    cost milliseconds per prompt."""

    markers: tuple[str, ...]
    finders: tuple[_LineFinder, ...]


_LINE_RULES: tuple[_LineRule, ...] = (
    _LineRule((*NAME_MARKERS, "identified"), (_find_named_values, _find_env_values)),
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


def find_in_lines(text: str, lower: str, spans: list[Span]) -> None:
    """The secrets on the lines of `text` that hold a marker; `lower` is `text` in lower case,
    character for character."""
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
