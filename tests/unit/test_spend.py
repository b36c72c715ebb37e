"""The spend ledger: costs from the dated price table, savings, totals and budgets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from qwen_lsp.model import Usage
from qwen_lsp.spend import Ledger, check_budget, load_prices


def test_shipped_prices_are_dated_and_cover_the_default_models():
    prices = load_prices()
    assert prices.date
    for model in ("qwen3-coder-flash", "qwen3-coder-plus", "gpt-4.1-mini", "gpt-4.1"):
        assert prices.price(model) is not None
    cost, currency = prices.cost("qwen3-coder-flash", Usage(1_000_000, 1_000_000))
    assert (cost, currency) == (5.0, "CNY")
    assert prices.price("qwen3-coder-plus-2025-09-23") == prices.price("qwen3-coder-plus")
    assert prices.cost("unknown-model", Usage(10, 10)) == (0.0, "")


def test_a_price_file_overrides_model_by_model(tmp_path: Path):
    override = tmp_path / "prices.toml"
    override.write_text('[models."qwen3-coder-flash"]\ncurrency = "CNY"\ninput = 2\noutput = 8\n')
    prices = load_prices(override)
    assert prices.price("qwen3-coder-flash").input == 2
    assert prices.price("gpt-4.1") is not None


def test_ledger_totals_calls_and_savings_per_model_and_survives_reopen(tmp_path: Path):
    path = tmp_path / "spend.db"
    ledger = Ledger(path)
    ledger.record_call("completion", "qwen3-coder-flash", Usage(1000, 100))
    ledger.record_call("completion", "qwen3-coder-flash", Usage(3000, 300))
    ledger.record_saved("completion", "qwen3-coder-flash", Usage(1000, 100), "cache")
    ledger.record_call("review", "gpt-4.1", Usage(10_000, 1000))
    ledger.close()
    again = Ledger(path)
    flash, gpt = sorted(again.totals(), key=lambda t: t.model, reverse=True)
    assert (flash.requests, flash.input_tokens, flash.output_tokens) == (2, 4000, 400)
    assert flash.cost == pytest.approx((4000 * 1.0 + 400 * 4.0) / 1e6)
    assert (flash.saved_requests, flash.saved) == (1, pytest.approx((1000 + 400) / 1e6))
    assert (gpt.currency, gpt.cost) == ("USD", pytest.approx(0.028))
    assert again.totals(since=dt.date.today() + dt.timedelta(days=1)) == []


def test_budgets_stop_spending_at_the_limit_in_one_currency(tmp_path: Path):
    ledger = Ledger(tmp_path / "spend.db")
    ledger.record_call("completion", "gpt-4.1", Usage(1_000_000, 0))  # 2 USD
    ledger.record_call("completion", "qwen3-coder-plus", Usage(1_000_000, 0))  # 4 CNY
    assert ledger.spent(dt.date.today(), "USD") == pytest.approx(2 + 4 * 0.14)
    state = check_budget(ledger, daily_limit=2.5, monthly_limit=None, currency="USD")
    assert not state.allowed and "daily limit of 2.5 USD" in state.reason
    assert check_budget(ledger, daily_limit=3.0, monthly_limit=None, currency="USD").allowed
    state = check_budget(ledger, daily_limit=None, monthly_limit=10, currency="CNY")
    assert not state.allowed and "monthly" in state.reason


def test_an_unusable_ledger_path_falls_back_to_memory(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    ledger = Ledger(blocker / "spend.db")
    assert ledger.warning
    ledger.record_call("completion", "gpt-4.1", Usage(10, 10))
    assert ledger.totals()[0].requests == 1
