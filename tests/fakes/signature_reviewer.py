"""A scripted reviewer for the fake LLM: it flags a call only when it can see the callee's
signature in the review prompt, and the call disagrees with it.

It stands in for what a model could do with the signatures, no more: it checks a call's
argument count against the parameters (those without a default must be given, no more than
all of them) and bare-name arguments that are parameter names in another order (swapped). What
it shows is whether the signatures reach the prompt of the chunk that makes the call; it says
nothing about how often a real model notices such a bug.
"""

from __future__ import annotations

import json
import re
from typing import Any

_NUMBERED = re.compile(r"^\s*(\d+) \| (.*)$")
_SIGNATURE = re.compile(r"^\s*def (\w+)\((.*?)\)")
_CALL = re.compile(r"\b(\w+)\(([^()]*)\)")


def _parameters(text: str) -> list[tuple[str, bool]]:
    """(name, has a default) of a Python parameter list, without self/cls and annotations."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part or part in ("self", "cls") or part.startswith("*"):
            continue
        name = re.split(r"[:=]", part, maxsplit=1)[0].strip()
        out.append((name, "=" in part))
    return out


def review(body: dict[str, Any]) -> str | None:
    """The answer to a review request: findings for calls that break a visible signature."""
    messages = body.get("messages") or []
    if not messages or "review" not in str(messages[0].get("content", "")).lower():
        return None
    prompt = str(messages[-1].get("content", ""))
    path = prompt.split("\n", 1)[0].removeprefix("File: ").split(" ")[0]
    signatures: dict[str, list[tuple[str, bool]]] = {}
    code: list[tuple[int, str]] = []
    for line in prompt.splitlines():
        numbered = _NUMBERED.match(line)
        if numbered:
            code.append((int(numbered.group(1)), numbered.group(2)))
            continue
        signature = _SIGNATURE.match(line)
        if signature:
            signatures[signature.group(1)] = _parameters(signature.group(2))
    findings = []
    for number, text in code:
        if text.lstrip().startswith("def "):
            continue
        for name, args_text in _CALL.findall(text):
            params = signatures.get(name)
            if params is None:
                continue
            args = [a.strip() for a in args_text.split(",") if a.strip()]
            required = sum(not default for _, default in params)
            names = [p for p, _ in params]
            problem = None
            if not required <= len(args) <= len(params):
                problem = f"{name}() takes {required}-{len(params)} arguments, given {len(args)}"
            else:
                bare = [a for a in args if a in names]
                if len(bare) >= 2 and [names.index(a) for a in bare] != sorted(
                    names.index(a) for a in bare
                ):
                    problem = f"the arguments of {name}() are in the wrong order"
            if problem:
                findings.append(
                    {
                        "path": path,
                        "line": number,
                        "endLine": number,
                        "severity": "error",
                        "rule": "wrong-call",
                        "message": problem,
                        "suggestion": None,
                    }
                )
    return json.dumps({"findings": findings})
