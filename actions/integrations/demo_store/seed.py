"""Seeding a new demo store: the seed data (``data``) written into its tables.

Stock quantities, tracking numbers and buyer phones are derived from the SKU or the
order number (CRC32), so every fresh store holds the same values and tests can know
a demo order's phone (``demo_phone``).
"""

from __future__ import annotations

import sqlite3
import zlib
from datetime import datetime, timedelta
from typing import Any

from actions.integrations.base import OrderState, RefundState
from actions.integrations.demo_store.data import (
    CATALOGUE,
    SHOWCASE,
    SOLD_OUT,
    at,
    generated_orders,
)

# Days from a cancel or return to the refund's expected date.
REFUND_DAYS = 10
_CARRIERS = {"shop": "СДЭК", "ozon": "Ozon Логистика", "wildberries": "WB Логистика"}


def fill(db: sqlite3.Connection, now: datetime) -> None:
    """Writes the catalogue, stock and orders of ``data`` into a new database."""
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
                    else 1 + zlib.crc32(f"{product.sku}/{size}/{color}".encode()) % 9
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
                f"TRK{zlib.crc32(seed.order_id.encode()):010d}" if shipped else None,
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


def demo_phone(order_id: str) -> str:
    """A made-up buyer phone per demo order: +7 900 <7 digits from the number>."""
    digits = f"{zlib.crc32(order_id.encode()):07d}"[-7:]
    return f"+7 900 {digits[:3]}-{digits[3:5]}-{digits[5:]}"


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
