"""Order status for a verified shopper: state, dates, total, carrier and address,
then the offer of updates (``actions/orders/updates.py``)."""

from __future__ import annotations

from rasa_sdk.events import EventType

from actions.context import Turn
from actions.integrations.base import Order
from actions.orders.updates import offer_updates


async def handle_status(order: Order, turn: Turn) -> list[EventType]:
    turn.say(
        f"utter_order_status_{order.state.value}",
        order_id=order.order_id,
        eta=turn.date(order.expected_delivery),
        delivered=turn.date(order.delivered_at),
        total=turn.money(order.total, order.currency),
        carrier=order.carrier or "—",
        tracking=order.tracking_number or "—",
        address=order.address,
    )
    return await offer_updates(order, turn)
