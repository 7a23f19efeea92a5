"""Changing the delivery address of an order that has not shipped yet."""

from __future__ import annotations

from rasa_sdk.events import EventType, SlotSet

from actions.context import Turn
from actions.integrations.base import Order, OrderNotChangeable
from actions.orders.slots import ADDRESS


async def handle_change_delivery(order: Order, turn: Turn) -> list[EventType]:
    if not order.state.can_change_delivery:
        turn.say(
            "utter_change_delivery_refused",
            order_id=order.order_id,
            address=order.address,
        )
        return []
    address = turn.tracker.get_slot(ADDRESS)
    if not address:
        turn.say("utter_address_invalid")
        return []
    try:
        order = await turn.services.orders.change_address(order.order_id, address)
    except OrderNotChangeable:
        turn.say(
            "utter_change_delivery_refused",
            order_id=order.order_id,
            address=order.address,
        )
        return [SlotSet(ADDRESS, None)]
    turn.say("utter_delivery_changed", order_id=order.order_id, address=order.address)
    return [SlotSet(ADDRESS, None)]
