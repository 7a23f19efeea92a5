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
CREATE TABLE IF NOT EXISTS refunds (
    provider TEXT NOT NULL, payment_id TEXT NOT NULL, refund_key TEXT NOT NULL,
    amount INTEGER NOT NULL, currency TEXT NOT NULL, refund_id TEXT,
    state TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (provider, payment_id, refund_key)
);
"""


class RefundRefused(ValueError):
    """Not refundable: not a paid payment of ours, or more than is left on it."""


@dataclass(frozen=True)
class RefundEntry:
    """A refund we asked for; ``state``: requested (sent, no answer kept yet),
    pending (the provider is processing it) or succeeded."""

    provider: str
    payment_id: str
    refund_key: str
    amount: int
    currency: str
    refund_id: str | None
    state: str


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

    async def paid_for_order(self, provider: str, order_id: str) -> LedgerEntry | None:
        """The succeeded payment for the order with this provider, if any."""

        def work() -> LedgerEntry | None:
            db = self._connect()
            try:
                row = db.execute(
                    "SELECT * FROM payments WHERE provider = ? AND order_id = ? "
                    "AND state = 'succeeded' ORDER BY paid_at DESC LIMIT 1",
                    (provider, order_id),
                ).fetchone()
            finally:
                db.close()
            if row is None:
                return None
            return LedgerEntry(
                row["provider"], row["payment_id"], row["order_id"], row["amount"],
                row["currency"], row["sender_id"], row["state"],
            )  # fmt: skip

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

    async def reserve_refund(
        self, provider: str, payment_id: str, key: str, amount: int
    ) -> tuple[RefundEntry, bool]:
        """Books ``amount`` against a succeeded payment under ``key``, atomically.

        Returns the refund and whether the provider must be asked: a new key, or
        one whose earlier request got no answer. A key already answered is
        returned as it is. Raises ``RefundRefused`` when the payment is unknown or
        unpaid, or ``amount`` is more than what is left of it.
        """

        def work() -> tuple[RefundEntry, bool]:
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    "SELECT * FROM refunds WHERE provider = ? AND payment_id = ? "
                    "AND refund_key = ?",
                    (provider, payment_id, key),
                ).fetchone()
                if row is not None:
                    db.execute("COMMIT")
                    entry = _refund(row)
                    return entry, entry.state == "requested"
                payment = db.execute(
                    "SELECT amount, currency, state FROM payments "
                    "WHERE provider = ? AND payment_id = ?",
                    (provider, payment_id),
                ).fetchone()
                if payment is None or payment["state"] != "succeeded":
                    raise RefundRefused(f"{provider} {payment_id} is not paid")
                (refunded,) = db.execute(
                    "SELECT COALESCE(SUM(amount), 0) FROM refunds "
                    "WHERE provider = ? AND payment_id = ?",
                    (provider, payment_id),
                ).fetchone()
                if not 0 < amount <= payment["amount"] - refunded:
                    raise RefundRefused(
                        f"{amount} is more than the {payment['amount'] - refunded} "
                        f"left of {payment_id}"
                    )
                db.execute(
                    "INSERT INTO refunds VALUES (?, ?, ?, ?, ?, NULL, 'requested', ?)",
                    (provider, payment_id, key, amount, payment["currency"],
                     datetime.now().isoformat()),
                )  # fmt: skip
                db.execute("COMMIT")
                return (
                    RefundEntry(provider, payment_id, key, amount,
                                payment["currency"], None, "requested"),
                    True,
                )  # fmt: skip
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                db.close()

        return await asyncio.to_thread(work)

    async def settle_refund(
        self, entry: RefundEntry, refund_id: str, succeeded: bool
    ) -> RefundEntry:
        state = "succeeded" if succeeded else "pending"

        def work() -> None:
            db = self._connect()
            try:
                db.execute(
                    "UPDATE refunds SET refund_id = ?, state = ? WHERE provider = ? "
                    "AND payment_id = ? AND refund_key = ?",
                    (refund_id, state, entry.provider, entry.payment_id,
                     entry.refund_key),
                )  # fmt: skip
            finally:
                db.close()

        await asyncio.to_thread(work)
        return RefundEntry(
            entry.provider, entry.payment_id, entry.refund_key, entry.amount,
            entry.currency, refund_id, state,
        )  # fmt: skip

    async def release_refund(self, entry: RefundEntry) -> None:
        """Forgets a reservation the provider refused, so the amount is free again."""

        def work() -> None:
            db = self._connect()
            try:
                db.execute(
                    "DELETE FROM refunds WHERE provider = ? AND payment_id = ? "
                    "AND refund_key = ? AND state = 'requested'",
                    (entry.provider, entry.payment_id, entry.refund_key),
                )
            finally:
                db.close()

        await asyncio.to_thread(work)


def _refund(row: sqlite3.Row) -> RefundEntry:
    return RefundEntry(
        row["provider"], row["payment_id"], row["refund_key"], row["amount"],
        row["currency"], row["refund_id"], row["state"],
    )  # fmt: skip
