"""`qwen-lsp eval`'s figures: the JSON report (its shape is a public contract, see README
"qwen-lsp eval"), the table printed in a terminal, and the per-language and per-hole details
the HTML report draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qwen_lsp.engine.evaluation.holes import Hole
from qwen_lsp.engine.evaluation.run import Filled, ModelRun, kinds_of, percentile
from qwen_lsp.spend import PriceTable


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _model_figures(run: ModelRun, holes: int, prices: PriceTable) -> dict[str, Any]:
    filled = run.filled
    scored = [f for f in filled if f.score is not None]
    answered = [f for f in scored if f.answer]
    paid = [f for f in filled if f.paid]
    latencies = [f.latency_ms for f in paid] or [f.latency_ms for f in scored]
    currency = ""
    total = every = 0.0
    for f in scored:
        cost, their_currency = prices.cost(f.model, f.usage)
        currency = currency or their_currency
        every += cost
        if f.paid:
            total += cost
    kept = sum(f.score.kept_chars for f in scored if f.score is not None)
    tests = [f.tests_pass for f in filled if f.tests_pass is not None]
    return {
        "spec": run.spec.spec,
        "provider": run.spec.provider,
        "model": run.spec.model,
        "holes": holes,
        "answered": len(answered),
        "exact_match": _share(sum(1 for f in scored if f.score and f.score.exact), holes),
        "similarity": round(sum(f.score.similarity for f in scored if f.score) / holes, 4)
        if holes
        else 0.0,
        "parses": _share(sum(1 for f in answered if f.score and f.score.parses), holes),
        "tests_pass": _share(sum(tests), holes) if tests else None,
        "latency_ms": {
            "p50": round(percentile(latencies, 0.5), 1),
            "p95": round(percentile(latencies, 0.95), 1),
        },
        "requests": len(paid),
        "from_cache": len(scored) - len(paid),
        "tokens": {
            "input": sum(f.usage.input_tokens for f in paid),
            "output": sum(f.usage.output_tokens for f in paid),
        },
        "cost": {
            "currency": currency,
            "total": round(total, 6),
            "per_100": round(every / len(scored) * 100, 6) if scored else 0.0,
            "per_1000_kept_chars": round(every / kept * 1000, 6) if kept and currency else None,
        },
    }


def eval_report(
    runs: Sequence[ModelRun],
    holes: Sequence[Hole],
    *,
    seed: int,
    prices: PriceTable,
    complete: bool,
) -> dict[str, Any]:
    """The report, exactly in the documented shape. Shares are of all holes (a hole a model
    did not answer counts as a miss)."""
    return {
        "seed": seed,
        "holes": len(holes),
        "by_kind": kinds_of(holes),
        "models": [_model_figures(run, len(holes), prices) for run in runs],
        "complete": complete and all(run.stopped is None for run in runs),
    }


def eval_rows(runs: Sequence[ModelRun]) -> list[dict[str, Any]]:
    """One row per model and hole, for the charts."""
    rows = []
    for run in runs:
        for f in run.filled:
            rows.append(_row(run.spec.spec, f))
    return rows


def _row(spec: str, f: Filled) -> dict[str, Any]:
    return {
        "model": spec,
        "hole": f.hole.id,
        "kind": f.hole.kind,
        "language": f.hole.language,
        "latency_ms": round(f.latency_ms, 1),
        "paid": f.paid,
        "exact": bool(f.score and f.score.exact),
        "similarity": f.score.similarity if f.score else 0.0,
        "parses": bool(f.answer and f.score and f.score.parses),
    }


def eval_table(data: dict[str, Any]) -> str:
    """The terminal table: one line per model."""
    kinds = ", ".join(f"{count} {kind}" for kind, count in data["by_kind"].items())
    lines = [f"{data['holes']} holes (seed {data['seed']}): {kinds}", ""]
    header = (
        f"{'model':<36} {'exact':>6} {'simil.':>6} {'parses':>6} {'tests':>6} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'req':>5} {'cached':>6} {'cost':>10} "
        f"{'/100':>9} {'/1k kept':>9}"
    )
    lines += [header, "-" * len(header)]
    for m in data["models"]:
        cost = m["cost"]
        money = cost["currency"] or "?"
        tests = f"{m['tests_pass']:.1%}" if m["tests_pass"] is not None else "-"
        name = f"{m['provider']}:{m['model']}"  # the endpoint is in the JSON report
        per_kept = cost["per_1000_kept_chars"]
        lines.append(
            f"{name[:36]:<36} {m['exact_match']:>6.1%} {m['similarity']:>6.2f} "
            f"{m['parses']:>6.1%} {tests:>6} {m['latency_ms']['p50']:>7.0f} "
            f"{m['latency_ms']['p95']:>7.0f} {m['requests']:>5} {m['from_cache']:>6} "
            f"{cost['total']:>6.4f} {money:<3} {cost['per_100']:>9.4f} "
            + (f"{per_kept:>9.4f}" if per_kept is not None else f"{'-':>9}")
        )
    if not data["complete"]:
        lines += ["", "PARTIAL: the run was cut short (see above); rerun to finish it."]
    return "\n".join(lines)
