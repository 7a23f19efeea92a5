"""The demo store: an embedded SQLite order source, created and seeded on first use.

A missing file is created and seeded; a corrupt one (not a database, or an unknown
schema version) is moved aside to ``<name>.corrupt-<time>`` and recreated, with a
warning in the log. SQLite calls run in a worker thread to keep the event loop free.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from actions.integrations.base import (
    Order,
    OrderItem,
    OrderNotChangeable,
    OrderSource,
    OrderSourceError,
    OrderState,
    Product,
    Refund,
    RefundState,
    ReturnRequest,
    ReturnState,
    StockLine,
)
from actions.integrations.catalog import stems
from actions.integrations.seed import (
    CATALOGUE,
    SHOWCASE,
    SOLD_OUT,
    at,
    generated_orders,
)

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "2"
REFUND_DAYS = 10
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE products (
    sku TEXT PRIMARY KEY, title_ru TEXT NOT NULL, title_en TEXT NOT NULL,
    keywords TEXT NOT NULL, price INTEGER NOT NULL, currency TEXT NOT NULL
);
CREATE TABLE stock (
    sku TEXT NOT NULL REFERENCES products(sku), size TEXT, color TEXT,
    quantity INTEGER NOT NULL
);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY, channel TEXT NOT NULL, state TEXT NOT NULL,
    created_at TEXT NOT NULL, expected_delivery TEXT, delivered_at TEXT,
    total INTEGER NOT NULL, currency TEXT NOT NULL, paid INTEGER NOT NULL,
    address TEXT NOT NULL, carrier TEXT, tracking_number TEXT, customer_phone TEXT
);
CREATE TABLE order_items (
    order_id TEXT NOT NULL REFERENCES orders(order_id), sku TEXT NOT NULL,
    size TEXT, color TEXT, quantity INTEGER NOT NULL, price INTEGER NOT NULL
);
CREATE TABLE returns (
    return_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(order_id),
    state TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE refunds (
    refund_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(order_id),
    amount INTEGER NOT NULL, currency TEXT NOT NULL, state TEXT NOT NULL,
    created_at TEXT NOT NULL, expected_by TEXT, completed_at TEXT
);
"""

_CARRIERS = {"shop": "СДЭК", "ozon": "Ozon Логистика", "wildberries": "WB Логистика"}


class DemoStore(OrderSource):
    name = "demo"
    kinds = frozenset({"wildberries", "ozon", "shop"})

    def __init__(
        self, path: Path, clock: Callable[[], datetime] = datetime.now
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.Lock()
        self._ready = False

    # --- lifecycle -------------------------------------------------------------

    def ensure_ready(self) -> None:
        """Creates and seeds the file if missing; recreates it if corrupt."""
        with self._lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Several action servers may start at once on one data directory
            # (the production profile runs two): one of them checks and seeds.
            with self._process_lock():
                self._check_or_create()
            self._ready = True

    @contextmanager
    def _process_lock(self) -> Iterator[None]:
        with open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _check_or_create(self) -> None:
        if self.path.exists() and not self._is_valid():
            backup = self.path.with_name(
                f"{self.path.name}.corrupt-{self.clock():%Y%m%d%H%M%S}"
            )
            self.path.rename(backup)
            logger.warning(
                "demo_store.recreated",
                extra={"path": str(self.path), "backup": str(backup)},
            )
        if not self.path.exists():
            self._create()
            logger.info("demo_store.seeded", extra={"path": str(self.path)})

    def _is_valid(self) -> bool:
        try:
            with self._connect() as db:
                row = db.execute(
                    "SELECT value FROM meta WHERE key = 'schema_version'"
                ).fetchone()
                return row is not None and row[0] == SCHEMA_VERSION
        except sqlite3.DatabaseError:
            return False

    def _create(self) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(tmp)
        try:
            db.executescript(_SCHEMA)
            self._seed(db, self.clock())
            db.commit()
        finally:
            db.close()
        tmp.replace(self.path)  # atomic: a crash never leaves a half-seeded store

    @staticmethod
    def _seed(db: sqlite3.Connection, now: datetime) -> None:
        db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        db.execute("INSERT INTO meta VALUES ('seeded_at', ?)", (now.isoformat(),))
        prices = {}
        for product in CATALOGUE:
            prices[product.sku] = product.price
            db.execute(
                "INSERT INTO products VALUES (?, ?, ?, ?, ?, 'RUB')",
                (
                    product.sku,
                    product.title_ru,
                    product.title_en,
                    product.keywords,
                    product.price,
                ),
            )
            for size in product.sizes:
                for color in product.colors:
                    sold_out = (product.sku, size, color) in SOLD_OUT
                    quantity = (
                        0
                        if sold_out
                        else 1
                        + zlib.crc32(f"{product.sku}/{size}/{color}".encode()) % 9
                    )
                    db.execute(
                        "INSERT INTO stock VALUES (?, ?, ?, ?)",
                        (product.sku, size, color, quantity),
                    )
        for seed in (*SHOWCASE, *generated_orders()):
            created = at(now, seed.created_days_ago)
            delivered = at(now, seed.delivered_days_ago)
            expected = (
                None
                if seed.expected_in_days is None
                else (now + timedelta(days=seed.expected_in_days)).date()
            )
            total = sum(prices[sku] * quantity for sku, _, _, quantity in seed.items)
            shipped = seed.state in (
                OrderState.SHIPPED,
                OrderState.READY_FOR_PICKUP,
                OrderState.DELIVERED,
            )
            db.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, 'RUB', ?, ?, ?, ?, ?)",
                (
                    seed.order_id,
                    seed.channel,
                    seed.state.value,
                    _iso(created),
                    _iso(expected),
                    _iso(delivered),
                    total,
                    int(seed.paid),
                    seed.address,
                    _CARRIERS[seed.channel] if shipped else None,
                    f"TRK{zlib.crc32(seed.order_id.encode()):010d}"
                    if shipped
                    else None,
                    demo_phone(seed.order_id),
                ),
            )
            for sku, size, color, quantity in seed.items:
                db.execute(
                    "INSERT INTO order_items VALUES (?, ?, ?, ?, ?, ?)",
                    (seed.order_id, sku, size, color, quantity, prices[sku]),
                )
            if seed.return_state:
                db.execute(
                    "INSERT INTO returns VALUES (?, ?, ?, ?)",
                    (
                        f"R-{seed.order_id}",
                        seed.order_id,
                        seed.return_state,
                        _iso(delivered or created),
                    ),
                )
            if seed.refund_state:
                started = (delivered or created) + timedelta(days=1)  # type: ignore[operator]
                completed = seed.refund_state == RefundState.COMPLETED.value
                db.execute(
                    "INSERT INTO refunds VALUES (?, ?, ?, 'RUB', ?, ?, ?, ?)",
                    (
                        f"RF-{seed.order_id}",
                        seed.order_id,
                        total,
                        seed.refund_state,
                        _iso(started),
                        _iso((started + timedelta(days=REFUND_DAYS)).date()),
                        _iso(started + timedelta(days=3)) if completed else None,
                    ),
                )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            yield db
            db.commit()
        finally:
            db.close()

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            self.ensure_ready()
            try:
                with self._connect() as db:
                    return work(db)
            except sqlite3.DatabaseError as error:
                raise OrderSourceError(f"demo store failed: {error}") from error

        return await asyncio.to_thread(call)

    # --- reads ----------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        return await self._run(lambda db: self._order(db, order_id))

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

        return await self._run(work)

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

        return await self._run(work)

    async def find_products(self, query: str) -> list[Product]:
        wanted = set(stems(query))

        def work(db: sqlite3.Connection) -> list[Product]:
            scored = []
            for row in db.execute("SELECT * FROM products").fetchall():
                words = set(
                    stems(f"{row['title_ru']} {row['title_en']} {row['keywords']}")
                )
                score = sum(
                    1 for term in wanted if any(_same_word(term, w) for w in words)
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

        return await self._run(work)

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

        return await self._run(work)

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

        return await self._run(work)

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

        return await self._run(work)

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

        return await self._run(work)

    def _require(self, db: sqlite3.Connection, order_id: str) -> Order:
        order = self._order(db, order_id)
        if order is None:
            raise KeyError(order_id)
        return order


def demo_phone(order_id: str) -> str:
    """A made-up buyer phone per demo order: +7 900 <7 digits from the number>."""
    digits = f"{zlib.crc32(order_id.encode()):07d}"[-7:]
    return f"+7 900 {digits[:3]}-{digits[3:5]}-{digits[5:]}"


def _same_word(a: str, b: str) -> bool:
    """Equal stems, or one a prefix of the other ("кроссовок" and "кроссовк")."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= 5 and long.startswith(short)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
