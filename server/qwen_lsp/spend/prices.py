"""The price table: what a model costs per million tokens, shipped as dated data
(`prices.toml` beside this module) and overridable with `spend.priceFile`.

Costs keep the model's own currency and are converted only to add them up against a budget.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwen_lsp.model import Usage

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PRICES_FILE = Path(__file__).with_name("prices.toml")


@dataclass(frozen=True)
class Price:
    currency: str
    input: float  # per 1M input tokens
    output: float  # per 1M output tokens

    def cost(self, usage: Usage) -> float:
        return (usage.input_tokens * self.input + usage.output_tokens * self.output) / 1e6


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, Price]
    date: str
    usd_per_cny: float

    def price(self, model: str) -> Price | None:
        """The price of `model`; a dated or suffixed variant falls back to its base name."""
        if model in self.prices:
            return self.prices[model]
        matches = [name for name in self.prices if model.startswith(name)]
        return self.prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, usage: Usage) -> tuple[float, str]:
        price = self.price(model)
        return (price.cost(usage), price.currency) if price else (0.0, "")

    def convert(self, amount: float, currency: str, to: str) -> float:
        if currency == to or not currency:
            return amount
        if (currency, to) == ("CNY", "USD"):
            return amount * self.usd_per_cny
        if (currency, to) == ("USD", "CNY"):
            return amount / self.usd_per_cny
        raise ValueError(f"no rate from {currency} to {to}")


def _read_table(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_prices(override: Path | None = None) -> PriceTable:
    """The shipped table, with the models of `override` (same shape) replacing or adding."""
    data = _read_table(PRICES_FILE)
    models = dict(data.get("models", {}))
    meta = dict(data.get("meta", {}))
    if override is not None:
        extra = _read_table(override)
        models.update(extra.get("models", {}))
        meta.update(extra.get("meta", {}))
    prices = {
        name: Price(str(p["currency"]), float(p["input"]), float(p["output"]))
        for name, p in models.items()
    }
    return PriceTable(prices, str(meta.get("date", "")), float(meta.get("usd_per_cny", 0.14)))
