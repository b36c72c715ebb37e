"""Names that say their value is secret: password, api_key, AccessKeySecret, sk, 密码, ..."""

from __future__ import annotations

import re

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
KEY_HALF = re.compile(r"^[A-Za-z0-9+/=_\-]{16,}$")
# Where a secret word ends, in a lowered line; each hit is checked as the end of a name.
WORD_HIT = re.compile(
    r"(?:passw(?:or)?d|passphrase|pwd|pswd|psw|secret|token|credentials?|key(?:[_\-. ]?id)?"
    r"|pass|pw|ak|sk|auth|密码|口令|密钥|秘钥|令牌|私钥|密匙)\d*(?![a-z])"
)
# Every lower-case literal that a name above holds; a line without one holds no such name.
NAME_MARKERS = (
    "pass", "pwd", "psw", "pw", "secret", "token", "key", "cred", "auth", "ak", "sk",
    "密码", "口令", "密钥", "秘钥", "令牌", "私钥", "密匙",
)  # fmt: skip


def is_secret_name(name: str) -> bool:
    name = name.strip("\"'`[]")
    lowered = name.lower()
    return bool(
        _LONG_NAME.search(lowered) or _SHORT_NAME.search(lowered) or _CAMEL_NAME.search(name)
    )


def is_password(name: str) -> bool:
    return _PASSWORD_NAME.search(name.strip("\"'`[]").lower()) is not None


def key_half(name: str, value: str) -> bool:
    """`sk: ...` and `with_ak("...")` only name a key when the value looks like one."""
    if _KEY_HALF_NAME.search(name.strip("\"'`[]").lower()) is None:
        return True
    has_digit = any(c.isdigit() for c in value)
    return bool(KEY_HALF.match(value)) and has_digit and any(c.isalpha() for c in value)
