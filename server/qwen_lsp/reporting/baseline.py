"""Baselines: findings a team has accepted, by fingerprint, so later runs report only new ones.

The file is JSON a person can read in a review: each accepted finding's fingerprint with its
file, line, rule and message for context. Only fingerprints are compared, and they do not
depend on line numbers, so the baseline keeps holding while code moves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from qwen_lsp.model import Finding
from qwen_lsp.reporting.report import TOOL_NAME

BASELINE_VERSION = 1


class BaselineError(ValueError):
    """The baseline file cannot be read or is not a baseline."""


def load_baseline(path: Path) -> frozenset[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"baseline {path} does not exist (make it with --write-baseline)"
        ) from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    items = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("fingerprint"), str) for i in items
    ):
        raise BaselineError(f"{path} is not a {TOOL_NAME} baseline (no findings with fingerprints)")
    return frozenset(i["fingerprint"] for i in items)


def baseline_text(findings: Iterable[Finding]) -> str:
    entries = [
        {
            "fingerprint": f.fingerprint,
            "path": f.path,
            "line": f.line,
            "rule": f.rule,
            "message": f.message,
        }
        for f in findings
    ]
    payload = {"tool": TOOL_NAME, "version": BASELINE_VERSION, "findings": entries}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
