"""The demo payment provider: payment links to a local page with a "pay" button.

Payments live in their own SQLite table beside the demo store. Pressing "pay" on
the page (``pay_page``) confirms the payment once and marks the order paid; pressing
it again changes nothing.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from actions.integrations.base import OrderNotChangeable, OrderSource, OrderState
from actions.payments.base import Payment, PaymentError, PaymentProvider, PaymentState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS demo_payments (
    payment_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, amount INTEGER NOT NULL,
    currency TEXT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL,
    paid_at TEXT, sender_id TEXT
);
CREATE INDEX IF NOT EXISTS demo_payments_order ON demo_payments(order_id, state);
"""


class DemoPaymentProvider(PaymentProvider):
    name = "demo"

    def __init__(
        self,
        path: Path,
        public_url: str,
        orders: OrderSource,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.path = Path(path)
        self.public_url = public_url.rstrip("/")
        self.orders = orders
        self.clock = clock

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.executescript(_SCHEMA)
        return db

    def url_for(self, payment_id: str) -> str:
        return f"{self.public_url}/pay/{payment_id}"

    def _payment(self, row: sqlite3.Row) -> Payment:
        return Payment(
            row["payment_id"],
            row["order_id"],
            row["amount"],
            row["currency"],
            PaymentState(row["state"]),
            self.url_for(row["payment_id"]),
            datetime.fromisoformat(row["created_at"]),
        )

    async def create_payment(
        self, order_id: str, amount: int, currency: str, sender_id: str | None = None
    ) -> Payment:
        def work() -> Payment:
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute(
                    "SELECT * FROM demo_payments WHERE order_id = ? AND state = ? "
                    "AND amount = ? AND currency = ?",
                    (order_id, PaymentState.PENDING.value, amount, currency),
                ).fetchone()
                if row is None:
                    payment_id = secrets.token_urlsafe(12)
                    db.execute(
                        "INSERT INTO demo_payments VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                        (
                            payment_id,
                            order_id,
                            amount,
                            currency,
                            PaymentState.PENDING.value,
                            self.clock().isoformat(),
                            sender_id,
                        ),
                    )
                    row = db.execute(
                        "SELECT * FROM demo_payments WHERE payment_id = ?",
                        (payment_id,),
                    ).fetchone()
                db.execute("COMMIT")
                return self._payment(row)
            except sqlite3.DatabaseError as error:
                raise PaymentError(f"demo payments failed: {error}") from error
            finally:
                db.close()

        return await asyncio.to_thread(work)

    async def get_payment(self, payment_id: str) -> Payment | None:
        def work() -> Payment | None:
            db = self._connect()
            try:
                row = db.execute(
                    "SELECT * FROM demo_payments WHERE payment_id = ?", (payment_id,)
                ).fetchone()
                return None if row is None else self._payment(row)
            finally:
                db.close()

        return await asyncio.to_thread(work)

    async def confirm(self, payment_id: str) -> Payment | None:
        """The shopper pressed "pay" (the provider's side). Idempotent. The pay page
        then settles it like any provider's webhook (``Settlement``)."""

        current = await self.get_payment(payment_id)
        if current is None:
            return None
        order = await self.orders.get_order(current.order_id)
        if order is None or order.state is OrderState.CANCELLED:
            raise OrderNotChangeable(order.state if order else OrderState.CANCELLED)

        def work() -> tuple[Payment | None, bool]:
            db = self._connect()
            try:
                db.execute("BEGIN IMMEDIATE")
                changed = db.execute(
                    "UPDATE demo_payments SET state = ?, paid_at = ? "
                    "WHERE payment_id = ? AND state = ?",
                    (
                        PaymentState.SUCCEEDED.value,
                        self.clock().isoformat(),
                        payment_id,
                        PaymentState.PENDING.value,
                    ),
                ).rowcount
                row = db.execute(
                    "SELECT * FROM demo_payments WHERE payment_id = ?", (payment_id,)
                ).fetchone()
                db.execute("COMMIT")
                return (None if row is None else self._payment(row)), bool(changed)
            finally:
                db.close()

        payment, _ = await asyncio.to_thread(work)
        return payment
