"""Paying for an order inside the dialog: a link from the payment provider."""

from __future__ import annotations

import logging

from rasa_sdk.events import EventType, SlotSet

from actions.context import Turn
from actions.integrations.base import Order, OrderState
from actions.payments.base import PaymentError

logger = logging.getLogger(__name__)

PAYMENT_LINK_SLOT = "payment_link"


async def handle_pay(order: Order, turn: Turn) -> list[EventType]:
    if order.state is OrderState.CANCELLED:
        turn.say("utter_order_cannot_be_paid", order_id=order.order_id)
        return []
    if order.paid:
        turn.say("utter_order_already_paid", order_id=order.order_id)
        return []
    try:
        payment = await turn.services.payments.create_payment(
            order.order_id, order.total, order.currency, turn.tracker.sender_id
        )
    except PaymentError:
        logger.exception("payments.create_failed", extra={"order_id": order.order_id})
        turn.say("utter_payment_unavailable")
        return []
    await turn.services.ledger.record(
        turn.services.payments.name,
        payment.payment_id,
        order.order_id,
        payment.amount,
        payment.currency,
        turn.tracker.sender_id,
    )
    logger.info(
        "payments.link_sent",
        extra={"order_id": order.order_id, "payment_id": payment.payment_id},
    )
    turn.say(
        "utter_payment_link",
        order_id=order.order_id,
        amount=turn.money(payment.amount, payment.currency),
        url=payment.url,
    )
    # api/ counts payment conversion from this slot (link sent) and the
    # EXTERNAL_payment_received intent (paid).
    return [SlotSet(PAYMENT_LINK_SLOT, order.order_id)]
