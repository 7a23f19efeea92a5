"""Answers for a shopper the source cannot serve in the dialog: not verified, or
asking for a change the source does not offer.

A source with no factor cannot verify anyone, so a change (or a detail) is handed
to an operator, who checks the buyer in the shop's own system.
"""

from __future__ import annotations

import logging

from rasa_sdk.events import EventType, SlotSet

from actions.context import Turn
from actions.integrations.base import Order
from actions.orders.slots import ATTEMPTS, MARKETPLACE_APPS, SOURCE_NAMES
from actions.privacy import Access
from actions.support import start_handoff

logger = logging.getLogger(__name__)


async def handle_unverified(
    order: Order, request: str, allowed: Access, turn: Turn
) -> list[EventType]:
    """The order number alone: the coarse state, never details or a change."""
    logger.info(
        "privacy.details_withheld",
        extra={
            "order_id": order.order_id,
            "request": request,
            "access": allowed.value,
        },
    )
    events: list[EventType] = [SlotSet(ATTEMPTS, 0)]
    if request == "status":
        turn.say(f"utter_order_brief_{order.state.value}", order_id=order.order_id)
    if allowed is Access.NO_FACTOR:
        if request == "status":
            turn.say("utter_order_details_by_operator")
            return events
        turn.say("utter_order_change_by_operator", order_id=order.order_id)
        reason = f"unverified_{request}:{order.order_id}"
        return events + await start_handoff(turn, reason=reason)
    if allowed is Access.LOCKED:
        turn.say("utter_order_verification_locked")
    elif allowed is Access.CODE_LIMIT:
        turn.say("utter_one_time_code_send_limit")
    else:
        turn.say("utter_order_verification_failed")
    return events


def say_self_service(turn: Turn, order_id: str, source: str) -> None:
    """Marketplaces: "do it in the X app"; shop platforms: "on the shop's site"."""
    if source in MARKETPLACE_APPS:
        turn.say(
            "utter_marketplace_self_service",
            order_id=order_id,
            marketplace=SOURCE_NAMES[source],
        )
    else:
        turn.say("utter_shop_self_service", order_id=order_id)
