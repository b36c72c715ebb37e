"""Today's spend in memory: the same figures as the ledger, cheap enough for every keystroke."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from qwen_lsp.model import Usage
from qwen_lsp.spend import Ledger, check_budget
from qwen_lsp.spend.tally import REFRESH_SECONDS, Tally


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_own_records_count_at_once_and_agree_with_the_ledger(tmp_path: Path):
    ledger = Ledger(tmp_path / "spend.db")
    tally = Tally(ledger)
    tally.record_call("completion", "qwen3-coder-flash", Usage(1000, 100))
    tally.record_call("completion", "gpt-4.1", Usage(1_000_000, 0))
    tally.record_saved("completion", "qwen3-coder-flash", Usage(1000, 100), "reuse")
    today = tally.today("USD")
    assert (today.requests, today.input_tokens, today.output_tokens) == (2, 1_001_000, 100)
    assert today.cost == pytest.approx(ledger.spent(dt.date.today(), "USD"))
    assert today.saved_requests == 1 and today.hit_rate == pytest.approx(1 / 3)
    tally.refresh()
    assert tally.today("USD") == today  # what the ledger says, not counted twice


def test_spend_of_other_processes_counts_after_a_refresh(tmp_path: Path):
    clock = Clock()
    ours = Tally(Ledger(tmp_path / "spend.db"), clock=clock)
    assert ours.today("USD").requests == 0
    other = Ledger(tmp_path / "spend.db")  # another editor, or --check
    other.record_call("review", "gpt-4.1", Usage(1_000_000, 0))
    other.close()
    assert ours.today("USD").requests == 0  # not read again yet: no disk on the hot path
    clock.now += REFRESH_SECONDS
    assert ours.today("USD").requests == 1


def test_budgets_read_the_figures_in_memory(tmp_path: Path):
    tally = Tally(Ledger(tmp_path / "spend.db"))
    assert check_budget(tally, daily_limit=1.0, monthly_limit=None, currency="USD").allowed  # type: ignore[arg-type]
    tally.record_call("completion", "gpt-4.1", Usage(1_000_000, 0))  # 2 USD
    state = check_budget(tally, daily_limit=1.0, monthly_limit=None, currency="USD")  # type: ignore[arg-type]
    assert not state.allowed and "daily limit of 1 USD" in state.reason
    state = check_budget(tally, daily_limit=None, monthly_limit=10, currency="CNY")  # type: ignore[arg-type]
    assert not state.allowed and "monthly" in state.reason  # 2 USD is over 14 CNY


def test_a_new_day_starts_from_the_ledger(tmp_path: Path):
    day = [dt.date.today()]
    tally = Tally(Ledger(tmp_path / "spend.db"), today=lambda: day[0])
    tally.record_call("completion", "gpt-4.1", Usage(1_000_000, 0))
    assert tally.today("USD").requests == 1
    day[0] += dt.timedelta(days=1)
    assert tally.today("USD").requests == 0
