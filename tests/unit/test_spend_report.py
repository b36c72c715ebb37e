"""The spend report behind `qwen-lsp stats` and `qwen-lsp.showStats`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from qwen_lsp.model import Usage
from qwen_lsp.spend import Ledger
from qwen_lsp.spend.report import format_report, money, report_json, spend_report


def test_periods_per_model_with_a_total_in_one_currency(tmp_path: Path):
    ledger = Ledger(tmp_path / "spend.db")
    ledger.record_call("completion", "qwen3-coder-flash", Usage(1_000_000, 0))  # CNY 1
    ledger.record_saved("completion", "qwen3-coder-flash", Usage(1_000_000, 0), "reuse")
    ledger.record_call("review", "gpt-4.1", Usage(1_000_000, 0))  # USD 2
    today, week, whole = spend_report(ledger, currency="USD")
    assert [p.key for p in (today, week, whole)] == ["today", "week", "all"]
    assert [t.model for t in today.models] == ["gpt-4.1", "qwen3-coder-flash"]
    assert today.total.requests == 2 and today.total.saved_requests == 1
    assert today.total.cost == pytest.approx(2 + 0.14)
    assert today.total.saved == pytest.approx(0.14)
    data = report_json([today, week, whole])
    assert data["week"]["since"] == (dt.date.today() - dt.timedelta(days=6)).isoformat()
    assert data["all"]["total"]["currency"] == "USD"
    text = format_report([today, week, whole], price_date="2026-11")
    assert "CNY 1.00" in text and "USD 2.00" in text and "all models (USD)" in text
    assert "2026-11" in text


def test_nothing_recorded_in_a_period(tmp_path: Path):
    ledger = Ledger(tmp_path / "spend.db")
    periods = spend_report(ledger, currency="CNY", today=dt.date(2001, 1, 1))
    assert "nothing recorded" in format_report(periods)


def test_small_amounts_keep_their_digits():
    assert money(0.000123, "CNY") == "CNY 0.000123"
    assert money(0.0456, "USD") == "USD 0.0456"
    assert money(12.5, "USD") == "USD 12.50"
    assert money(0, "USD") == "USD 0"
