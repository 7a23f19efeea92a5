"""The demo store as an order source: orders, returns, refunds and products read
from and written to its SQLite file (``database``), seeded on first use.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from actions.integrations.base import (
    ExchangeRequest,
    Order,
    OrderItem,
    OrderNotChangeable,
    OrderSource,
    OrderState,
    Product,
    Refund,
    RefundState,
    ReturnRequest,
    ReturnState,
    StockLine,
)
from actions.integrations.catalog import same_word, stems
from actions.integrations.demo_store.database import DemoDatabase
from actions.integrations.demo_store.exchange import exchange
from actions.integrations.demo_store.seed import REFUND_DAYS


class DemoStore(OrderSource):
    name = "demo"
    exchanges = True
    kinds = frozenset({"wildberries", "ozon", "shop"})

    def __init__(
        self, path: Path, clock: Callable[[], datetime] = datetime.now
    ) -> None:
        self.db = DemoDatabase(path, clock)

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.db.clock

    def ensure_ready(self) -> None:
        """Creates and seeds the file if missing; recreates it if corrupt."""
        self.db.ensure_ready()

    # --- reads ----------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        return await self.db.run(lambda db: self._order(db, order_id))

    def _order(self, db: sqlite3.Connection, order_id: str) -> Order | None:
        row = db.execute(
            "SELECT * FROM orders WHERE order_id = ?", (order_id,)
        ).fetchone()
        if row is None and order_id.count("-") == 1 and order_id[0].isdigit():
            # An Ozon order number without the posting suffix: its first posting.
            row = db.execute(
                "SELECT * FROM orders WHERE order_id LIKE ? ORDER BY order_id LIMIT 1",
                (order_id + "-%",),
            ).fetchone()
        if row is None:
            return None
        items = db.execute(
            "SELECT i.*, p.title_ru, p.title_en FROM order_items i "
            "JOIN products p ON p.sku = i.sku WHERE i.order_id = ?",
            (row["order_id"],),
        ).fetchall()
        return Order(
            order_id=row["order_id"],
            channel=row["channel"],
            state=OrderState(row["state"]),
            created_at=datetime.fromisoformat(row["created_at"]),
            expected_delivery=_date(row["expected_delivery"]),
            delivered_at=_datetime(row["delivered_at"]),
            total=row["total"],
            currency=row["currency"],
            paid=bool(row["paid"]),
            address=row["address"],
            carrier=row["carrier"],
            tracking_number=row["tracking_number"],
            customer_phone=row["customer_phone"],
            items=tuple(
                OrderItem(
                    i["sku"],
                    i["title_ru"],
                    i["title_en"],
                    i["size"],
                    i["color"],
                    i["quantity"],
                    i["price"],
                )
                for i in items
            ),
        )

    async def get_returns(self, order_id: str) -> list[ReturnRequest]:
        def work(db: sqlite3.Connection) -> list[ReturnRequest]:
            rows = db.execute(
                "SELECT * FROM returns WHERE order_id = ? ORDER BY created_at DESC",
                (order_id,),
            ).fetchall()
            return [
                ReturnRequest(
                    r["return_id"],
                    r["order_id"],
                    ReturnState(r["state"]),
                    datetime.fromisoformat(r["created_at"]),
                )
                for r in rows
            ]

        return await self.db.run(work)

    async def get_refunds(self, order_id: str) -> list[Refund]:
        def work(db: sqlite3.Connection) -> list[Refund]:
            rows = db.execute(
                "SELECT * FROM refunds WHERE order_id = ? ORDER BY created_at DESC",
                (order_id,),
            ).fetchall()
            return [
                Refund(
                    r["refund_id"],
                    r["order_id"],
                    r["amount"],
                    r["currency"],
                    RefundState(r["state"]),
                    datetime.fromisoformat(r["created_at"]),
                    _date(r["expected_by"]),
                    _datetime(r["completed_at"]),
                )
                for r in rows
            ]

        return await self.db.run(work)

    async def find_products(self, query: str) -> list[Product]:
        wanted = set(stems(query))

        def work(db: sqlite3.Connection) -> list[Product]:
            scored = []
            for row in db.execute("SELECT * FROM products").fetchall():
                words = set(
                    stems(f"{row['title_ru']} {row['title_en']} {row['keywords']}")
                )
                score = sum(
                    1 for term in wanted if any(same_word(term, w) for w in words)
                )
                if score:
                    scored.append((score, row))
            scored.sort(key=lambda pair: -pair[0])
            products = []
            for _, row in scored:
                stock = db.execute(
                    "SELECT size, color, quantity FROM stock WHERE sku = ?",
                    (row["sku"],),
                ).fetchall()
                products.append(
                    Product(
                        row["sku"],
                        row["title_ru"],
                        row["title_en"],
                        row["price"],
                        row["currency"],
                        tuple(
                            StockLine(s["size"], s["color"], s["quantity"])
                            for s in stock
                        ),
                    )
                )
            return products

        return await self.db.run(work)

    # --- writes ---------------------------------------------------------------

    async def cancel_order(self, order_id: str) -> Order:
        def work(db: sqlite3.Connection) -> Order:
            order = self._require(db, order_id)
            if not order.state.can_cancel:
                raise OrderNotChangeable(order.state)
            db.execute(
                "UPDATE orders SET state = ?, expected_delivery = NULL "
                "WHERE order_id = ?",
                (OrderState.CANCELLED.value, order.order_id),
            )
            if order.paid:
                now = self.clock()
                db.execute(
                    "INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                    (
                        f"RF-{uuid.uuid4().hex[:8].upper()}",
                        order.order_id,
                        order.total,
                        order.currency,
                        RefundState.PENDING.value,
                        now.isoformat(),
                        (now + timedelta(days=REFUND_DAYS)).date().isoformat(),
                    ),
                )
            return self._order(db, order.order_id)  # type: ignore[return-value]

        return await self.db.run(work)

    async def change_address(self, order_id: str, address: str) -> Order:
        def work(db: sqlite3.Connection) -> Order:
            order = self._require(db, order_id)
            if not order.state.can_change_delivery:
                raise OrderNotChangeable(order.state)
            db.execute(
                "UPDATE orders SET address = ? WHERE order_id = ?",
                (address, order.order_id),
            )
            return self._order(db, order.order_id)  # type: ignore[return-value]

        return await self.db.run(work)

    async def start_return(self, order_id: str) -> ReturnRequest:
        def work(db: sqlite3.Connection) -> ReturnRequest:
            order = self._require(db, order_id)
            if order.state is not OrderState.DELIVERED:
                raise OrderNotChangeable(order.state)
            now = self.clock()
            request = ReturnRequest(
                f"R-{uuid.uuid4().hex[:6].upper()}",
                order.order_id,
                ReturnState.REQUESTED,
                now,
            )
            db.execute(
                "INSERT INTO returns VALUES (?, ?, ?, ?)",
                (
                    request.return_id,
                    order.order_id,
                    request.state.value,
                    now.isoformat(),
                ),
            )
            return request

        return await self.db.run(work)

    async def start_exchange(
        self, order_id: str, sku: str, size: str | None, color: str | None
    ) -> ExchangeRequest:
        def work(db: sqlite3.Connection) -> ExchangeRequest:
            order = self._require(db, order_id)
            return exchange(db, order, sku, size, color, self.clock())

        return await self.db.run(work)

    async def mark_paid(self, order_id: str) -> Order:
        def work(db: sqlite3.Connection) -> Order:
            order = self._require(db, order_id)
            if order.state is OrderState.CANCELLED:
                raise OrderNotChangeable(order.state)
            state = (
                OrderState.PROCESSING
                if order.state is OrderState.AWAITING_PAYMENT
                else order.state
            )
            db.execute(
                "UPDATE orders SET paid = 1, state = ? WHERE order_id = ?",
                (state.value, order.order_id),
            )
            return self._order(db, order.order_id)  # type: ignore[return-value]

        return await self.db.run(work)

    async def orders_by_phone(self, phone: str, limit: int = 5) -> list[Order]:
        wanted = re.sub(r"\D", "", phone)[-10:]
        if len(wanted) < 10:
            return []

        def work(db: sqlite3.Connection) -> list[Order]:
            rows = db.execute(
                "SELECT order_id, customer_phone FROM orders "
                "WHERE customer_phone IS NOT NULL ORDER BY created_at DESC"
            ).fetchall()
            matches = [
                row["order_id"]
                for row in rows
                if re.sub(r"\D", "", row["customer_phone"])[-10:] == wanted
            ][:limit]
            return [self._order(db, order_id) for order_id in matches]  # type: ignore[misc]

        return await self.db.run(work)

    async def set_state(
        self, order_id: str, state: OrderState, tracking_number: str | None = None
    ) -> Order:
        """The shop moves an order on (the merchant's side of the demo: what a
        warehouse or a carrier would report). Delivered stamps the time; a
        tracking number may come with shipping."""

        def work(db: sqlite3.Connection) -> Order:
            order = self._require(db, order_id)
            delivered = (
                self.clock().isoformat() if state is OrderState.DELIVERED else None
            )
            db.execute(
                "UPDATE orders SET state = ?, delivered_at = COALESCE(?, "
                "delivered_at), tracking_number = COALESCE(?, tracking_number) "
                "WHERE order_id = ?",
                (state.value, delivered, tracking_number, order.order_id),
            )
            return self._order(db, order.order_id)  # type: ignore[return-value]

        return await self.db.run(work)

    def _require(self, db: sqlite3.Connection, order_id: str) -> Order:
        order = self._order(db, order_id)
        if order is None:
            raise KeyError(order_id)
        return order


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
