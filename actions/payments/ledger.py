"""Our own record of every payment link we created, whatever the provider.

A webhook is trusted only as far as this ledger agrees: the payment must be one we
created, for the amount and currency we asked; and ``mark_succeeded`` flips a
payment from pending to succeeded exactly once, so a provider's retries never tell
the shopper "paid" twice, whichever action-server replica each retry reaches: in
production the ledger is in the shared database (``actions/database.py``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from actions.database import Tables, is_postgres

METADATA = MetaData()
PAYMENTS = Table(
    "payments",
    METADATA,
    Column("provider", Text, primary_key=True),
    Column("payment_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("amount", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("sender_id", Text),
    Column("state", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("paid_at", Text),
)
REFUNDS = Table(
    "refunds",
    METADATA,
    Column("provider", Text, primary_key=True),
    Column("payment_id", Text, primary_key=True),
    Column("refund_key", Text, primary_key=True),
    Column("amount", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("refund_id", Text),
    Column("state", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)


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


class PaymentLedger(Tables):
    """At an SQLite file or a database URL (``actions/database.py``)."""

    metadata = METADATA

    async def record(
        self,
        provider: str,
        payment_id: str,
        order_id: str,
        amount: int,
        currency: str,
        sender_id: str | None,
    ) -> None:
        row = {
            "provider": provider,
            "payment_id": payment_id,
            "order_id": order_id,
            "amount": amount,
            "currency": currency,
            "sender_id": sender_id,
            "state": "pending",
            "created_at": datetime.now().isoformat(),
            "paid_at": None,
        }

        def work() -> None:
            try:
                with self.engine.begin() as db:
                    db.execute(insert(PAYMENTS).values(**row))
            except IntegrityError:
                pass  # recorded before: the first record stands

        await asyncio.to_thread(work)

    async def get(self, provider: str, payment_id: str) -> LedgerEntry | None:
        def work() -> LedgerEntry | None:
            with self.engine.begin() as db:
                row = db.execute(
                    select(PAYMENTS).where(
                        PAYMENTS.c.provider == provider,
                        PAYMENTS.c.payment_id == payment_id,
                    )
                ).first()
            return None if row is None else _payment(row)

        return await asyncio.to_thread(work)

    async def paid_for_order(self, provider: str, order_id: str) -> LedgerEntry | None:
        """The succeeded payment for the order with this provider, if any."""

        def work() -> LedgerEntry | None:
            with self.engine.begin() as db:
                row = db.execute(
                    select(PAYMENTS)
                    .where(
                        PAYMENTS.c.provider == provider,
                        PAYMENTS.c.order_id == order_id,
                        PAYMENTS.c.state == "succeeded",
                    )
                    .order_by(PAYMENTS.c.paid_at.desc())
                    .limit(1)
                ).first()
            return None if row is None else _payment(row)

        return await asyncio.to_thread(work)

    async def mark_succeeded(self, provider: str, payment_id: str) -> bool:
        """``True`` only for the call that moved the payment from pending."""

        def work() -> bool:
            with self.engine.begin() as db:
                changed = db.execute(
                    update(PAYMENTS)
                    .where(
                        PAYMENTS.c.provider == provider,
                        PAYMENTS.c.payment_id == payment_id,
                        PAYMENTS.c.state == "pending",
                    )
                    .values(state="succeeded", paid_at=datetime.now().isoformat())
                ).rowcount
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
        of_payment = and_(
            REFUNDS.c.provider == provider, REFUNDS.c.payment_id == payment_id
        )

        def work() -> tuple[RefundEntry, bool]:
            with self.engine.begin() as db:
                # The payment row is locked first (PostgreSQL: FOR UPDATE; SQLite:
                # BEGIN IMMEDIATE), so two refunds of one payment book in turn.
                payment_query = select(PAYMENTS).where(
                    PAYMENTS.c.provider == provider,
                    PAYMENTS.c.payment_id == payment_id,
                )
                if is_postgres(self.engine):
                    payment_query = payment_query.with_for_update()
                payment = db.execute(payment_query).first()
                row = db.execute(
                    select(REFUNDS).where(of_payment, REFUNDS.c.refund_key == key)
                ).first()
                if row is not None:
                    entry = _refund(row)
                    return entry, entry.state == "requested"
                if payment is None or payment.state != "succeeded":
                    raise RefundRefused(f"{provider} {payment_id} is not paid")
                refunded = db.execute(
                    select(func.coalesce(func.sum(REFUNDS.c.amount), 0)).where(
                        of_payment
                    )
                ).scalar_one()
                if not 0 < amount <= payment.amount - refunded:
                    raise RefundRefused(
                        f"{amount} is more than the {payment.amount - refunded} "
                        f"left of {payment_id}"
                    )
                entry = RefundEntry(
                    provider, payment_id, key, amount, payment.currency, None,
                    "requested",
                )  # fmt: skip
                db.execute(
                    insert(REFUNDS).values(
                        **_refund_row(entry), created_at=datetime.now().isoformat()
                    )
                )
                return entry, True

        return await asyncio.to_thread(work)

    async def settle_refund(
        self, entry: RefundEntry, refund_id: str, succeeded: bool
    ) -> RefundEntry:
        state = "succeeded" if succeeded else "pending"

        def work() -> None:
            with self.engine.begin() as db:
                db.execute(
                    update(REFUNDS)
                    .where(*_refund_key(entry))
                    .values(refund_id=refund_id, state=state)
                )

        await asyncio.to_thread(work)
        return RefundEntry(
            entry.provider, entry.payment_id, entry.refund_key, entry.amount,
            entry.currency, refund_id, state,
        )  # fmt: skip

    async def release_refund(self, entry: RefundEntry) -> None:
        """Forgets a reservation the provider refused, so the amount is free again."""

        def work() -> None:
            with self.engine.begin() as db:
                db.execute(
                    delete(REFUNDS).where(
                        *_refund_key(entry), REFUNDS.c.state == "requested"
                    )
                )

        await asyncio.to_thread(work)


def _refund_key(entry: RefundEntry) -> tuple[Any, ...]:
    return (
        REFUNDS.c.provider == entry.provider,
        REFUNDS.c.payment_id == entry.payment_id,
        REFUNDS.c.refund_key == entry.refund_key,
    )


def _refund_row(entry: RefundEntry) -> dict[str, Any]:
    return {
        "provider": entry.provider,
        "payment_id": entry.payment_id,
        "refund_key": entry.refund_key,
        "amount": entry.amount,
        "currency": entry.currency,
        "refund_id": entry.refund_id,
        "state": entry.state,
    }


def _payment(row: Row) -> LedgerEntry:
    return LedgerEntry(
        row.provider, row.payment_id, row.order_id, row.amount, row.currency,
        row.sender_id, row.state,
    )  # fmt: skip


def _refund(row: Row) -> RefundEntry:
    return RefundEntry(
        row.provider, row.payment_id, row.refund_key, row.amount, row.currency,
        row.refund_id, row.state,
    )  # fmt: skip
