"""`qwen-lsp eval --format html`: one self-contained page (plotly's JavaScript written inline,
nothing fetched from a network) with the table and three charts: quality against cost per
model, the latency distribution, and exact matches per language.

plotly is an optional extra (`pip install '.[eval]'` from a clone): without it this module
says how to get it instead of drawing.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


class ChartsUnavailable(RuntimeError):
    """plotly is not installed."""


def eval_html(
    data: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    table: str,
    *,
    per_100: Sequence[float],
    currency: str,
) -> str:
    """The page; `per_100`: each model's cost per 100 completions converted into `currency`
    (models priced in different currencies share one axis)."""
    try:
        import plotly.graph_objects as go
    except ImportError as exc:
        raise ChartsUnavailable(
            "the HTML report draws its charts with plotly: install the eval extra "
            "(from a clone: pip install '.[eval]'), or use --format text or json"
        ) from exc

    models = data["models"]
    names = {m["spec"]: f"{m['provider']}:{m['model']}" for m in models}
    if len(set(names.values())) < len(names):  # one model at two endpoints: keep them apart
        names = {m["spec"]: m["spec"] for m in models}
    quality = go.Figure()
    for m, cost in zip(models, per_100, strict=True):
        name = names[m["spec"]]
        quality.add_trace(
            go.Scatter(
                x=[cost],
                y=[m["exact_match"] * 100],
                mode="markers+text",
                text=[name],
                textposition="top center",
                marker={"size": 10 + 30 * m["similarity"]},
                name=name,
                hovertemplate=(
                    f"{html.escape(name)}<br>exact %{{y:.1f}} %<br>similarity "
                    f"{m['similarity']:.2f}<br>cost per 100: %{{x:.4f}} "
                    f"{html.escape(currency)}<extra></extra>"
                ),
            )
        )
    quality.update_layout(
        title="Quality against cost (marker size: edit similarity)",
        xaxis_title=f"cost per 100 completions ({currency})",
        yaxis_title="exact match (%)",
        yaxis_range=[-5, 105],
    )
    latency = go.Figure()
    for m in models:
        values = [r["latency_ms"] for r in rows if r["model"] == m["spec"] and r["paid"]]
        if not values:
            values = [r["latency_ms"] for r in rows if r["model"] == m["spec"]]
        latency.add_trace(go.Box(y=values, name=names[m["spec"]], boxpoints="outliers"))
    paid = any(r["paid"] for r in rows)
    latency.update_layout(
        title="Latency per completion (ms)" + ("" if paid else ": answers from the cache"),
        yaxis_title="ms",
    )
    languages = sorted({r["language"] for r in rows})
    per_language = go.Figure()
    for m in models:
        mine = [r for r in rows if r["model"] == m["spec"]]
        shares = []
        for language in languages:
            of_language = [r for r in mine if r["language"] == language]
            exact = sum(1 for r in of_language if r["exact"])
            shares.append(100 * exact / len(of_language) if of_language else 0)
        per_language.add_trace(go.Bar(x=languages, y=shares, name=names[m["spec"]]))
    per_language.update_layout(
        title="Exact match per language (%)", barmode="group", yaxis_range=[0, 100]
    )
    charts = [
        quality.to_html(full_html=False, include_plotlyjs=True),
        latency.to_html(full_html=False, include_plotlyjs=False),
        per_language.to_html(full_html=False, include_plotlyjs=False),
    ]
    partial = "<p><strong>Partial report: the run was cut short.</strong></p>"
    state = "" if data["complete"] else partial
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>qwen-lsp eval</title>"
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em}"
        "</style></head><body><h1>qwen-lsp eval</h1>"
        f"{state}<pre>{html.escape(table)}</pre>{''.join(charts)}</body></html>\n"
    )
