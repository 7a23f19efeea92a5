"""The common end of a shop platform's order event (Shopify webhooks, Bitrix24
outbound events): read the order again through the source's API, tell its
followers, and answer the way that makes the platform retry only when it should.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from sanic import response
from sanic.response import HTTPResponse

from actions.integrations.base import Order, OrderSourceError
from actions.proactive.order_updates import OrderUpdates

logger = logging.getLogger(__name__)


async def tell_followers(
    read: Awaitable[Order | None],
    updates: OrderUpdates,
    source: str,
    extra: dict[str, Any],
) -> HTTPResponse:
    """``read`` is the source's answer about the order the event names: 503
    while the source cannot answer (the platform tries again), 200 with nothing
    told for an order it does not know, else the followers told (at most once
    per state, however often the platform calls)."""
    try:
        order = await read
    except OrderSourceError:
        logger.error(f"{source}.event_reread_failed", extra=extra)
        return response.json({"error": "try again"}, status=503)
    if order is None:
        return response.json({"ignored": "unknown order"})
    told = await updates.changed(order, source)
    logger.info(
        f"{source}.order_updated",
        extra={"order_id": order.order_id, "order_state": order.state.value, **extra},
    )
    return response.json({"order_id": order.order_id, "told": told})
