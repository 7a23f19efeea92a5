"""An exchange in the demo store: the item's return and a replacement order for
the new size or colour, written in one transaction with the stock it takes."""

from __future__ import annotations

import random
import sqlite3
import uuid
from datetime import datetime, timedelta

from actions.integrations.base import (
    ExchangeRequest,
    Order,
    OrderNotChangeable,
    OrderState,
    ReturnState,
    VariantUnavailable,
)

# Days from the exchange to the replacement's expected delivery.
REPLACEMENT_DAYS = 4


def exchange(
    db: sqlite3.Connection,
    order: Order,
    sku: str,
    size: str | None,
    color: str | None,
    now: datetime,
) -> ExchangeRequest:
    if order.state is not OrderState.DELIVERED:
        raise OrderNotChangeable(order.state)
    item = next((i for i in order.items if i.sku == sku), None)
    if item is None:
        raise KeyError(sku)
    taken = db.execute(
        "UPDATE stock SET quantity = quantity - 1 WHERE sku = ? AND size IS ? "
        "AND color IS ? AND quantity > 0",
        (sku, size, color),
    )
    if taken.rowcount == 0:
        raise VariantUnavailable(sku, size, color)
    return_id = f"R-{uuid.uuid4().hex[:6].upper()}"
    db.execute(
        "INSERT INTO returns VALUES (?, ?, ?, ?)",
        (return_id, order.order_id, ReturnState.REQUESTED.value, now.isoformat()),
    )
    replacement = _free_order_id(db)
    expected = (now + timedelta(days=REPLACEMENT_DAYS)).date().isoformat()
    # The replacement is paid by the returned item; the rest is the original's.
    db.execute(
        "INSERT INTO orders SELECT ?, channel, ?, ?, ?, NULL, ?, currency, 1, "
        "address, NULL, NULL, customer_phone FROM orders WHERE order_id = ?",
        (
            replacement,
            OrderState.PROCESSING.value,
            now.isoformat(),
            expected,
            item.price,
            order.order_id,
        ),
    )
    db.execute(
        "INSERT INTO order_items VALUES (?, ?, ?, ?, 1, ?)",
        (replacement, sku, size, color, item.price),
    )
    return ExchangeRequest(
        return_id, order.order_id, replacement, sku, size, color, now
    )


def _free_order_id(db: sqlite3.Connection) -> str:
    """A shop-format number ("E-48213") that no order has yet."""
    while True:
        candidate = f"E-{random.randint(10_000, 99_999)}"
        taken = db.execute(
            "SELECT 1 FROM orders WHERE order_id = ?", (candidate,)
        ).fetchone()
        if taken is None:
            return candidate
