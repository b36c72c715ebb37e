"""`qwen-lsp stats`: what was spent and saved, from the spend ledger in the cache folder.

Prints today, the last 7 days and all time, per model (requests, tokens in and out, cost in
the model's currency, answers served without a request and what they would have cost), with
a total per period in `spend.currency`; `--format json` gives the same figures to scripts.
Then, per model, what became of its suggestions (counted on this machine only): shown,
accepted, the acceptance rate, characters retained a while later and the completion spend per
1,000 retained characters. It only reads: a cache folder without a ledger yet is reported,
not created.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from qwen_lsp.cli import EXIT_OK, EXIT_PROBLEM
from qwen_lsp.config import cache_dir, load_settings, project_root
from qwen_lsp.spend import Ledger, load_prices
from qwen_lsp.spend.report import (
    acceptance_json,
    acceptance_report,
    format_acceptance,
    format_report,
    report_json,
    spend_report,
)
from qwen_lsp.storage import LEDGER


def run_stats(
    overrides: dict[str, Any], *, output_format: str = "text", out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    loaded = load_settings(Path.cwd(), roots=(project_root(Path.cwd()),), cli=overrides)
    settings = loaded.settings
    path = cache_dir(settings) / LEDGER
    price_file = settings.spend.price_file
    try:
        prices = load_prices(Path(price_file).expanduser() if price_file else None)
    except (OSError, ValueError, KeyError) as exc:
        print(f"qwen-lsp stats: cannot read spend.priceFile {price_file}: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    currency = settings.spend.currency
    if not path.is_file():
        if output_format == "json":
            json.dump({"ledger": str(path), "currency": currency, "empty": True}, out, indent=2)
            out.write("\n")
        else:
            print(f"No spend recorded yet ({path} does not exist).", file=out)
        return EXIT_OK
    ledger = Ledger(path, prices)
    try:
        if ledger.warning:
            print(f"qwen-lsp stats: {ledger.warning}", file=sys.stderr)
            return EXIT_PROBLEM
        periods = spend_report(ledger, currency=currency)
        accepted = acceptance_report(ledger)
    finally:
        ledger.close()
    if output_format == "json":
        data = {"ledger": str(path), "currency": currency, "priceDate": prices.date}
        report = {**data, **report_json(periods), "acceptance": acceptance_json(accepted)}
        json.dump(report, out, indent=2)
        out.write("\n")
    else:
        print(f"qwen-lsp spend ledger: {path}\n", file=out)
        print(format_report(periods, price_date=prices.date), file=out)
        print(file=out)
        print(format_acceptance(accepted), file=out)
    return EXIT_OK
