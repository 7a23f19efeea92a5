"""The shop moving an order on: ``POST /orders/demo/<order_id>/state``.

The demo store's side of a warehouse or carrier report (the real sources report
through their own webhooks or polling). Not public: the route is not on the
action server's allow-list (``actions/access.py``), so it needs the action token,
like every route that changes something. The body is
``{"state": "shipped", "tracking_number": "…"}`` (tracking optional); the order's
followers are told through the durable queue (``OrderUpdates.changed``).
"""

from __future__ import annotations

import json
import logging
from typing import TypeVar

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.integrations.base import OrderSource, OrderState
from actions.integrations.demo_store import DemoStore
from actions.integrations.router import RoutingOrderSource
from actions.proactive.order_updates import OrderUpdates

logger = logging.getLogger(__name__)
_TRACKING_MAX = 64
S = TypeVar("S", bound=OrderSource)


def source_of(orders: OrderSource, kind: type[S]) -> S | None:
    """The configured source of ``kind`` (alone, or one of a router's)."""
    if isinstance(orders, kind):
        return orders
    if isinstance(orders, RoutingOrderSource):
        return next((s for s in orders.sources if isinstance(s, kind)), None)
    return None


def shop_events_blueprint(store: DemoStore, updates: OrderUpdates) -> Blueprint:
    blueprint = Blueprint("shop_events", url_prefix="/orders")

    @blueprint.post("/demo/<order_id:str>/state", name="demo_order_state")
    async def set_state(request: Request, order_id: str) -> HTTPResponse:
        try:
            body = json.loads(request.body or b"")
        except ValueError:
            return _bad("the body must be JSON")
        if not isinstance(body, dict):
            return _bad("the body must be a JSON object")
        try:
            state = OrderState(body.get("state"))
        except ValueError:
            allowed = ", ".join(s.value for s in OrderState)
            return _bad(f"state must be one of {allowed}")
        tracking = body.get("tracking_number")
        if tracking is not None and (
            not isinstance(tracking, str) or not 0 < len(tracking) <= _TRACKING_MAX
        ):
            return _bad(f"tracking_number must be text of 1-{_TRACKING_MAX} chars")
        before = await store.get_order(order_id)
        if before is None:
            return response.json({"error": "no such order"}, status=404)
        try:
            order = await store.set_state(order_id, state, tracking)
        except KeyError:  # removed in between
            return response.json({"error": "no such order"}, status=404)
        told = 0
        if order.state is not before.state:
            told = await updates.changed(order, store.name)
        logger.info(
            "orders.demo_state_set",
            extra={"order_id": order.order_id, "order_state": state.value},
        )
        return response.json(
            {"order_id": order.order_id, "state": order.state.value, "told": told}
        )

    return blueprint


def _bad(message: str) -> HTTPResponse:
    return response.json({"error": message}, status=400)
