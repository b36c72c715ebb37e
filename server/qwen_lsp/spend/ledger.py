"""The spend ledger: every paid call and every answer served without one, on disk.

Every paid call records its model, tokens and cost; every answer served without a call (disk
cache, typing-through reuse, ...) records the cost it saved. The ledger is a small SQLite
file beside the answer cache (0600, its folder 0700), shared safely by every editor process
and `--check`. Its rows are plain SQLite values: reading them runs nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qwen_lsp.model import Usage
from qwen_lsp.spend.prices import PriceTable, load_prices
from qwen_lsp.storage import open_database, private_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Acceptance:
    """What became of the suggestions of one model: shown, accepted, still there later."""

    model: str
    shown: int = 0
    accepted: int = 0
    accepted_chars: int = 0
    retained_chars: int = 0
    measured: int = 0  # accepted suggestions whose retention was measured

    @property
    def rate(self) -> float | None:
        return self.accepted / self.shown if self.shown else None


@dataclass(frozen=True)
class Totals:
    """A slice of the ledger: paid calls and what was served without one."""

    model: str
    currency: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    saved_requests: int = 0
    saved: float = 0.0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    ts TEXT NOT NULL,
    day TEXT NOT NULL,
    feature TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,           -- 'call' (paid) or what saved it: 'cache', 'reuse', ...
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost REAL NOT NULL,           -- paid, or saved for the other kinds
    currency TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_day ON events(day);
CREATE TABLE IF NOT EXISTS acceptance (
    ts TEXT NOT NULL,
    day TEXT NOT NULL,
    model TEXT NOT NULL,
    language TEXT NOT NULL,
    mode TEXT NOT NULL,           -- the prompt mode the answer was asked in
    kind TEXT NOT NULL,           -- 'shown', 'accepted' or 'retained'
    chars INTEGER NOT NULL        -- of the suggestion; for 'retained', still in the file
);
CREATE INDEX IF NOT EXISTS acceptance_day ON acceptance(day);
"""


class Ledger:
    """Append-only record of spend and savings; in memory when `path` is None or unusable.

    Every database operation runs on one worker thread, in order: a record never waits on
    the disk (it is off the completion path), and a read sees every record made before it.
    """

    def __init__(self, path: Path | None, prices: PriceTable | None = None) -> None:
        self.prices = prices or load_prices()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spend-ledger")
        self.warning: str | None = None
        target: Path | None = None
        if path is not None:
            try:
                private_dir(path.parent, tighten=False)
                target = path
            except OSError as exc:
                self.warning = f"cannot keep the spend ledger in {path}: {exc}"
        self._db = self._worker.submit(self._open, target).result()
        if self.warning:
            log.warning(self.warning)

    def _open(self, target: Path | None) -> sqlite3.Connection:
        try:
            return self._connect(target)
        except (OSError, sqlite3.Error) as exc:
            self.warning = f"cannot open the spend ledger {target}: {exc}; keeping it in memory"
            return self._connect(None)

    @staticmethod
    def _connect(target: Path | None) -> sqlite3.Connection:
        if target is None:
            db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        else:
            db = open_database(target, timeout=5)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # no fsync per record; WAL keeps it consistent
            db.executescript(_SCHEMA)
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _insert(self, row: tuple[Any, ...]) -> None:
        try:
            self._db.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?)", row)
        except sqlite3.Error as exc:
            log.warning("cannot write the spend ledger: %s", exc)

    def _add(self, feature: str, model: str, kind: str, usage: Usage) -> float:
        amount, currency = self.prices.cost(model, usage)
        now = dt.datetime.now()
        row = (
            now.isoformat(timespec="seconds"),
            now.date().isoformat(),
            feature,
            model,
            kind,
            usage.input_tokens,
            usage.output_tokens,
            amount,
            currency,
        )
        self._worker.submit(self._insert, row)
        return amount

    def record_call(self, feature: str, model: str, usage: Usage) -> float:
        """A paid call; returns its cost in the model's currency."""
        return self._add(feature, model, "call", usage)

    def record_saved(self, feature: str, model: str, usage: Usage, how: str = "cache") -> float:
        """An answer served without a call, worth what the call would have cost."""
        return self._add(feature, model, how, usage)

    def record_acceptance(
        self, kind: str, model: str, language: str, mode: str, chars: int
    ) -> None:
        """A suggestion `shown`, `accepted`, or measured (`retained`: `chars` still there)."""
        now = dt.datetime.now()
        row = (now.isoformat(timespec="seconds"), now.date().isoformat())
        self._worker.submit(self._insert_acceptance, (*row, model, language, mode, kind, chars))

    def _insert_acceptance(self, row: tuple[Any, ...]) -> None:
        try:
            self._db.execute("INSERT INTO acceptance VALUES (?,?,?,?,?,?,?)", row)
        except sqlite3.Error as exc:
            log.warning("cannot write the acceptance counts: %s", exc)

    def acceptance(self, since: dt.date | None = None) -> list[Acceptance]:
        """Per model, from `since` on (all time by default)."""
        query = (
            "SELECT model, SUM(kind = 'shown'), SUM(kind = 'accepted'),"
            " SUM(CASE WHEN kind = 'accepted' THEN chars ELSE 0 END),"
            " SUM(CASE WHEN kind = 'retained' THEN chars ELSE 0 END), SUM(kind = 'retained')"
            " FROM acceptance WHERE day >= ? GROUP BY model ORDER BY model"
        )
        low = since.isoformat() if since else "0000-00-00"

        def read() -> list[Any]:
            try:
                return self._db.execute(query, (low,)).fetchall()
            except sqlite3.Error as exc:  # a ledger written before this table existed
                log.warning("cannot read the acceptance counts: %s", exc)
                return []

        rows = self._worker.submit(read).result()
        return [Acceptance(*row) for row in rows]

    def totals(
        self,
        since: dt.date | None = None,
        until: dt.date | None = None,
        *,
        feature: str | None = None,
    ) -> list[Totals]:
        """Per model (and currency), from `since` to `until` inclusive (all time by default);
        of one `feature` ("completion", ...) when given."""
        query = (
            "SELECT model, currency,"
            " SUM(kind = 'call'), SUM(CASE WHEN kind = 'call' THEN input_tokens ELSE 0 END),"
            " SUM(CASE WHEN kind = 'call' THEN output_tokens ELSE 0 END),"
            " SUM(CASE WHEN kind = 'call' THEN cost ELSE 0 END),"
            " SUM(kind != 'call'), SUM(CASE WHEN kind != 'call' THEN cost ELSE 0 END)"
            " FROM events WHERE day >= ? AND day <= ? AND (? IS NULL OR feature = ?)"
            " GROUP BY model, currency ORDER BY model"
        )
        low = since.isoformat() if since else "0000-00-00"
        high = until.isoformat() if until else "9999-99-99"
        args = (low, high, feature, feature)
        rows = self._worker.submit(lambda: self._db.execute(query, args).fetchall()).result()
        return [Totals(m, c, r, i, o, cost, sr, saved) for m, c, r, i, o, cost, sr, saved in rows]

    def spent(self, since: dt.date, currency: str) -> float:
        """Paid since `since`, converted into `currency` (for budgets)."""
        return sum(
            self.prices.convert(t.cost, t.currency, currency) for t in self.totals(since=since)
        )

    def close(self) -> None:
        self._worker.submit(self._db.close).result()
        self._worker.shutdown(wait=True)
