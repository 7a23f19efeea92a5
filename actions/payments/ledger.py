"""Our own record of every payment link we created, whatever the provider.

A webhook is trusted only as far as this ledger agrees: the payment must be one we
created, for the amount and currency we asked; and ``mark_succeeded`` flips a
payment from pending to succeeded exactly once, so a provider's retries never tell
the shopper "paid" twice.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    provider TEXT NOT NULL, payment_id TEXT NOT NULL, order_id TEXT NOT NULL,
    amount INTEGER NOT NULL, currency TEXT NOT NULL, sender_id TEXT,
    state TEXT NOT NULL, created_at TEXT NOT NULL, paid_at TEXT,
    PRIMARY KEY (provider, payment_id)
);
"""


@dataclass(frozen=True)
class LedgerEntry:
    provider: str
    payment_id: str
    order_id: str
    amount: int
    currency: str
    sender_id: str | None
    state: str


class PaymentLedger:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.executescript(_SCHEMA)
        return db

    async def record(
        self,
        provider: str,
        payment_id: str,
        order_id: str,
        amount: int,
        currency: str,
        sender_id: str | None,
    ) -> None:
        def work() -> None:
            db = self._connect()
            try:
                db.execute(
                    "INSERT OR IGNORE INTO payments VALUES (?, ?, ?, ?, ?, ?, "
                    "'pending', ?, NULL)",
                    (
                        provider,
                        payment_id,
                        order_id,
                        amount,
                        currency,
                        sender_id,
                        datetime.now().isoformat(),
                    ),
                )
            finally:
                db.close()

        await asyncio.to_thread(work)

    async def get(self, provider: str, payment_id: str) -> LedgerEntry | None:
        def work() -> LedgerEntry | None:
            db = self._connect()
            try:
                row = db.execute(
                    "SELECT * FROM payments WHERE provider = ? AND payment_id = ?",
                    (provider, payment_id),
                ).fetchone()
            finally:
                db.close()
            if row is None:
                return None
            return LedgerEntry(
                row["provider"],
                row["payment_id"],
                row["order_id"],
                row["amount"],
                row["currency"],
                row["sender_id"],
                row["state"],
            )

        return await asyncio.to_thread(work)

    async def mark_succeeded(self, provider: str, payment_id: str) -> bool:
        """``True`` only for the call that moved the payment from pending."""

        def work() -> bool:
            db = self._connect()
            try:
                changed = db.execute(
                    "UPDATE payments SET state = 'succeeded', paid_at = ? "
                    "WHERE provider = ? AND payment_id = ? AND state = 'pending'",
                    (datetime.now().isoformat(), provider, payment_id),
                ).rowcount
            finally:
                db.close()
            return bool(changed)

        return await asyncio.to_thread(work)
