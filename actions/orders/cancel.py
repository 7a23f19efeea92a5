"""Cancelling an order: the question to a verified shopper, then the cancel itself
once they say yes (``actions/pending.py``), with the refund of a paid order."""

from __future__ import annotations

import logging

from rasa_sdk.events import EventType, SlotSet

from actions.context import Turn
from actions.integrations.base import (
    AmbiguousOrder,
    OperationUnsupported,
    Order,
    OrderNotChangeable,
    OrderSourceError,
    OrderState,
)
from actions.orders.lookup import order_access
from actions.orders.slots import PENDING, SOURCE
from actions.orders.unverified import say_self_service
from actions.payments.refunds import refund_payment
from actions.privacy import Access

logger = logging.getLogger(__name__)


async def handle_cancel(order: Order, turn: Turn) -> list[EventType]:
    if order.state is OrderState.CANCELLED:
        turn.say("utter_cancel_already_cancelled", order_id=order.order_id)
        return []
    if not order.state.can_cancel:
        turn.say("utter_cancel_refused", order_id=order.order_id)
        return []
    turn.say(
        "utter_confirm_cancel",
        order_id=order.order_id,
        total=turn.money(order.total, order.currency),
    )
    return [SlotSet(PENDING, f"cancel:{order.order_id}")]


async def cancel_confirmed(order_id: str, turn: Turn) -> list[EventType]:
    """The shopper said yes to "cancel order X?".

    Checked again: the question is only asked a verified shopper, but a tracker
    is the caller's word, and a cancel must never rest on it alone.
    """
    try:
        current = await turn.services.orders.get_order(order_id)
    except (OrderSourceError, AmbiguousOrder):
        current = None
    if (
        current is None
        or await order_access(turn.services, current, turn.tracker)
        is not Access.GRANTED
    ):
        logger.warning("privacy.cancel_refused", extra={"order_id": order_id})
        turn.say("utter_order_verification_failed")
        return []
    try:
        order = await turn.services.orders.cancel_order(order_id)
    except OrderNotChangeable:
        turn.say("utter_cancel_refused", order_id=order_id)
        return []
    except OperationUnsupported as error:
        say_self_service(turn, order_id, error.source)
        return []
    except OrderSourceError:
        logger.exception("orders.cancel_failed", extra={"order_id": order_id})
        turn.say("utter_order_source_unavailable")
        return []
    if order.paid:
        services = turn.services
        await refund_payment(services.ledger, services.payments, order.order_id)
        await _say_refund(order, turn)
    else:
        turn.say("utter_order_cancelled", order_id=order.order_id)
    logger.info("orders.cancelled", extra={"order_id": order.order_id})
    # Anyone else following the order hears of it; this conversation was told.
    await turn.services.order_updates.changed(
        order, turn.tracker.get_slot(SOURCE), exclude=turn.tracker.sender_id
    )
    return []


async def _say_refund(order: Order, turn: Turn) -> None:
    """When the money comes back, where the source says; "soon" where it does not."""
    try:
        refunds = await turn.services.orders.get_refunds(order.order_id)
    except (OperationUnsupported, OrderSourceError):
        refunds = []  # the marketplace refunds on its own schedule
    expected = refunds[0].expected_by if refunds else None
    amount = turn.money(order.total, order.currency)
    if expected is None:
        turn.say(
            "utter_order_cancelled_refund_soon",
            order_id=order.order_id,
            amount=amount,
        )
    else:
        turn.say(
            "utter_order_cancelled_refund",
            order_id=order.order_id,
            amount=amount,
            refund_by=turn.date(expected),
        )
