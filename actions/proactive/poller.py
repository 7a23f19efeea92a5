"""Polling the sources that do not report changes themselves.

Wildberries and Ozon give sellers no order webhooks, and a Bitrix24 portal or a
Shopify shop may not be set up to send them. Every ``EASYFLOW_ORDER_POLL_S``
(300 s; 0 turns it off) the action server reads the followed orders again, the
least recently checked first, at most ``batch`` a round, through the same order
source clients the dialog uses, and compares each with the state its followers
were last told of (``order_states``, kept in the database, so a restart neither
misses a change nor repeats one). A change is queued for the followers first and
recorded second: a crash in between queues it again, and the queue's dedupe key
(order, state, conversation) keeps that from reaching anyone twice. An order that
reached a final state (delivered, cancelled) stops being polled.
"""

from __future__ import annotations

import logging

from actions.integrations.base import (
    AmbiguousOrder,
    OrderSource,
    OrderSourceError,
    OrderState,
)
from actions.integrations.router import RoutingOrderSource
from actions.proactive.order_updates import OrderUpdates

logger = logging.getLogger(__name__)
FINAL = frozenset({OrderState.DELIVERED, OrderState.CANCELLED})


class OrderPoller:
    def __init__(self, orders: OrderSource, updates: OrderUpdates, batch: int = 50):
        self.orders = orders
        self.updates = updates
        self.batch = batch

    async def poll_once(self) -> int:
        """One round; how many orders were seen in a new state."""
        followers = self.updates.followers
        changes = 0
        for source, order_id, known in await followers.watched(self.batch):
            try:
                if source and isinstance(self.orders, RoutingOrderSource):
                    order = await self.orders.get_order_from(order_id, source)
                else:
                    order = await self.orders.get_order(order_id)
            except (OrderSourceError, AmbiguousOrder):
                logger.warning(
                    "orders.poll_failed", extra={"order_id": order_id, "source": source}
                )
                continue
            if order is None:
                continue
            state = order.state.value
            if state != known:
                changes += 1
                if known is not None:  # first sight: nothing the follower missed
                    await self.updates.changed(order, source or None)
            if order.state in FINAL and known is not None:
                await followers.forget(order_id, source)
            else:
                await followers.known(source, order_id, state)
        return changes
