"""The review answer: the JSON schema's findings read out of a model's answer, checked and
mapped to file lines; malformed findings and ones outside the lines under review are counted.
Models name severities in their own words ("critical", "major", "low"): the usual ones are
mapped to the schema's three, so a serious finding is never dropped for its spelling."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from qwen_lsp import errors
from qwen_lsp.engine.review.chunks import Chunk
from qwen_lsp.model import SEVERITIES, Finding, Generation
from qwen_lsp.postprocess.answers import code_from_answer

_FENCED_JSON = re.compile(r"```(?:json)?\s*\n(.*?)\n?```", re.DOTALL)


class MalformedAnswer(errors.BadResponse):
    """The model answered, but not with the review answer schema. `generation`: that answer,
    when the review needs it (to ask again, and to count what it cost)."""

    kind = "bad-review-answer"
    generation: Generation | None = None


# Severity words models use besides the schema's, by the schema's level they mean.
SEVERITY_ALIASES = {
    **dict.fromkeys(("critical", "high", "blocker", "fatal", "severe", "err"), "error"),
    **dict.fromkeys(("medium", "major", "moderate", "warn"), "warning"),
    **dict.fromkeys(("low", "minor", "trivial", "note", "information", "hint", "style"), "info"),
}


def severity_of(value: Any) -> str | None:
    """The schema's severity for what a model wrote, or None when it is not one we know."""
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    return word if word in SEVERITIES else SEVERITY_ALIASES.get(word)


# -- the answer ------------------------------------------------------------------------------


@dataclass
class ChunkFindings:
    findings: list[Finding] = field(default_factory=list)
    malformed: int = 0  # findings dropped for their shape
    outside: int = 0  # findings dropped for pointing outside the lines under review


def _load_json(text: str) -> Any:
    """The JSON object in an answer; models sometimes fence it or add a sentence around it."""
    candidates = [text.strip()]
    candidates += [m.group(1) for m in _FENCED_JSON.finditer(text)]
    first, last = text.find("{"), text.rfind("}")
    if 0 <= first < last:
        candidates.append(text[first : last + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise MalformedAnswer("the review answer is not JSON")


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _suggestion(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if "```" in value or "~~~" in value:
        return code_from_answer(value)  # a model that fenced its replacement code
    return value.removesuffix("\n")


def parse_answer(text: str, chunk: Chunk) -> ChunkFindings:
    """Findings of one answer, in file lines; MalformedAnswer when it is not the schema."""
    data = _load_json(text)
    items = data.get("findings") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise MalformedAnswer('the review answer has no "findings" list')
    out = ChunkFindings()
    for item in items:
        finding = _finding(item, chunk)
        if finding is None:
            out.malformed += 1
        elif finding == "outside":
            out.outside += 1
        else:
            out.findings.append(finding)
    return out


def _finding(item: Any, chunk: Chunk) -> Finding | str | None:
    """A Finding, "outside" when it points outside the review, None when it is malformed."""
    if not isinstance(item, dict):
        return None
    line = _whole_number(item.get("line"))
    end = _whole_number(item.get("endLine", item.get("line")))
    severity = severity_of(item.get("severity"))
    message = item.get("message")
    rule = item.get("rule") or "review"
    if (
        line is None
        or end is None
        or end < line
        or severity is None
        or not isinstance(message, str)
        or not message.strip()
        or not isinstance(rule, str)
    ):
        return None
    path = item.get("path")
    if isinstance(path, str) and path.strip().removeprefix("./") not in ("", chunk.path):
        return "outside"
    first, last = chunk.start + line - 1, chunk.start + end - 1
    if not chunk.under_review(first, last):
        return "outside"
    return Finding(
        path=chunk.path,
        line=first,
        end_line=last,
        severity=severity,
        rule=rule.strip(),
        message=message.strip(),
        suggestion=_suggestion(item.get("suggestion")),
        fingerprint=_fingerprint(chunk, rule, first, last),
    )


def _fingerprint(chunk: Chunk, rule: str, first: int, last: int) -> str:
    """File, rule and the flagged code with its whitespace collapsed: not the line numbers."""
    code = "\n".join(" ".join(chunk.line_text(n).split()) for n in range(first, last + 1))
    material = f"{chunk.path}\0{rule.strip().lower()}\0{code}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(material).hexdigest()[:24]
