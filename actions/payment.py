"""Paying for an order inside the dialog: a link from the payment provider."""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk.events import EventType, SlotSet

from actions.context import Turn
from actions.integrations.base import Order, OrderState
from actions.payments.base import Payment, PaymentError, PaymentProvider

logger = logging.getLogger(__name__)

PAYMENT_LINK_SLOT = "payment_link"


async def _within_budget(
    provider: PaymentProvider, order_id: str, amount: int, currency: str, turn: Turn
) -> Payment:
    """``create_payment``, or ``TimeoutError`` after the provider's ``timeout_s``.

    A slow or failing provider gets the shopper an answer in seconds, not Rasa's
    generic apology. The call is cancelled without waiting for it: an HTTP client
    whose own timeout fires at the same moment may turn the cancellation into a
    retry (aiohttp reports it as its timeout), which must not hold the reply.
    """
    task = asyncio.ensure_future(
        provider.create_payment(order_id, amount, currency, turn.tracker.sender_id)
    )
    done, _ = await asyncio.wait({task}, timeout=provider.timeout_s)
    if task in done:
        return task.result()
    task.cancel()
    task.add_done_callback(_discard)
    raise asyncio.TimeoutError(f"{provider.name} gave no link in {provider.timeout_s}s")


def _discard(task: asyncio.Future[Payment]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.info(
            "payments.create_abandoned", extra={"error": repr(task.exception())}
        )


async def handle_pay(order: Order, turn: Turn) -> list[EventType]:
    if order.state is OrderState.CANCELLED:
        turn.say("utter_order_cannot_be_paid", order_id=order.order_id)
        return []
    if order.paid:
        turn.say("utter_order_already_paid", order_id=order.order_id)
        return []
    provider = turn.services.payments
    try:
        payment = await _within_budget(
            provider, order.order_id, order.total, order.currency, turn
        )
    except (PaymentError, asyncio.TimeoutError) as error:
        logger.error(
            "payments.create_failed",
            extra={
                "order_id": order.order_id,
                "provider": provider.name,
                "error": repr(error),
            },
        )
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
