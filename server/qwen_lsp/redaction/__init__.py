"""What counts as a secret in text, and the numbered placeholder it becomes before text leaves
for a model.

`find_secrets` (find.py) says where the secrets of a text are:
- known key and token shapes (shapes.py: OpenAI, Anthropic, GitHub, GitLab, AWS, Google, Slack,
  Stripe, Alibaba Cloud, Tencent Cloud, Volcengine, Hugging Face, npm, PyPI, SendGrid, Mailgun,
  Twilio, Azure AD, Telegram, private key blocks, JWTs), and the secret that goes with a known
  key id on the same or the next lines (an AccessKey pair);
- values given to a name that says "secret" (names.py: password, token, api_key,
  AccessKeySecret, sk, 密码, 密钥, ...), in every form files write them (lines.py): assigned,
  quoted or not (code, YAML, INI, .properties, .env, Dockerfiles), passed as an argument
  (`setPassword("...")`, `setProperty("db.password", "...")`), in XML, in a comment;
- arguments of login and connect calls (`login("admin", "...")`), credentials in URLs, DSNs,
  connection strings (`Password=...;`, `AccountKey=...`), query strings (`sig=`,
  `access_token=`), Authorization headers and command lines (`-p`, `--password`, `curl -u`);
- Kubernetes Secret data, Terraform variable defaults, and high-entropy strings assigned to
  anything (blocks.py).
Rules are specific shapes or anchored on such a name, and values.py tells a secret value from
a name, a template, an example or code, so ordinary code keeps its text; hashes (lockfile
integrity, checksums, commit ids) and UUIDs in ordinary places are never touched. Every rule
runs only where one of its literal markers occurs, because this runs on the prompt of every
keystroke. `bench/bench_redaction.py` measures recall on a generated corpus, false positives on
installed packages, and speed.

`redact_texts` (replace.py) replaces the secrets of a request's texts by the numbered
placeholders of `Placeholders` (placeholders.py: `REDACTED_SECRET_1`, ...: the same value, the
same number, in every part of the request), which also put the real values back into an answer
and refuse one that holds a placeholder they never gave out. The door every prompt passes is
`providers/redacting.py`.
"""

from __future__ import annotations

from qwen_lsp.redaction.find import Secret, find_secrets
from qwen_lsp.redaction.placeholders import PLACEHOLDER_STEMS, Placeholders, UnknownPlaceholder
from qwen_lsp.redaction.replace import Redaction, redact_secrets, redact_texts
from qwen_lsp.redaction.values import looks_random, shannon_entropy

__all__ = [
    "PLACEHOLDER_STEMS",
    "Placeholders",
    "Redaction",
    "Secret",
    "UnknownPlaceholder",
    "find_secrets",
    "looks_random",
    "redact_secrets",
    "redact_texts",
    "shannon_entropy",
]
