"""Returns (eligibility by the shop's return window) and refund status."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rasa_sdk.events import EventType, SlotSet

from actions.context import Turn
from actions.integrations.base import (
    Order,
    OrderState,
    RefundState,
    ReturnRequest,
    ReturnState,
)

logger = logging.getLogger(__name__)
# The return this conversation is about: a photo sent next is linked to it
# (actions/attachments/action.py).
RETURN_SLOT = "return_id"


async def handle_return(order: Order, turn: Turn) -> list[EventType]:
    returns = await turn.services.orders.get_returns(order.order_id)
    if return_refused(order, returns, turn):
        open_returns = [r for r in returns if r.state is not ReturnState.REJECTED]
        return [SlotSet(RETURN_SLOT, open_returns[0].return_id)] if open_returns else []
    window = turn.services.shop_profile.current.return_window_days
    deadline = return_deadline(order, window)
    request = await turn.services.orders.start_return(order.order_id)
    logger.info(
        "returns.started",
        extra={"order_id": order.order_id, "return_id": request.return_id},
    )
    turn.say(
        "utter_return_started",
        order_id=order.order_id,
        return_id=request.return_id,
        deadline=turn.date(deadline or datetime.now() + timedelta(days=window)),
        amount=turn.money(order.total, order.currency),
    )
    return [SlotSet(RETURN_SLOT, request.return_id)]


def return_deadline(order: Order, window: int) -> datetime | None:
    """The last day to hand the item back; unknown where the source does not say
    when it was delivered (marketplaces check their window themselves)."""
    return order.delivered_at + timedelta(days=window) if order.delivered_at else None


def return_refused(order: Order, returns: list[ReturnRequest], turn: Turn) -> bool:
    """Says why the order cannot be returned (or exchanged, which starts with a
    return): a return already open, not delivered, or the window is over."""
    open_returns = [r for r in returns if r.state is not ReturnState.REJECTED]
    if open_returns:
        existing = open_returns[0]
        turn.say(
            f"utter_return_exists_{existing.state.value}",
            order_id=order.order_id,
            return_id=existing.return_id,
            created=turn.date(existing.created_at),
        )
        return True
    if order.state is not OrderState.DELIVERED:
        turn.say("utter_return_not_delivered", order_id=order.order_id)
        return True
    window = turn.services.shop_profile.current.return_window_days
    deadline = return_deadline(order, window)
    if deadline is not None and datetime.now() > deadline:
        turn.say(
            "utter_return_window_expired",
            order_id=order.order_id,
            delivered=turn.date(order.delivered_at),
            window=window,
        )
        return True
    return False


async def handle_refund(order: Order, turn: Turn) -> list[EventType]:
    refunds = await turn.services.orders.get_refunds(order.order_id)
    if not refunds:
        returns = await turn.services.orders.get_returns(order.order_id)
        if returns and returns[0].state is ReturnState.REQUESTED:
            turn.say(
                "utter_refund_after_return",
                order_id=order.order_id,
                return_id=returns[0].return_id,
            )
        else:
            turn.say("utter_refund_none", order_id=order.order_id)
        return []
    refund = refunds[0]
    if refund.state is RefundState.COMPLETED:
        turn.say(
            "utter_refund_completed",
            order_id=order.order_id,
            amount=turn.money(refund.amount, refund.currency),
            completed=turn.date(refund.completed_at),
        )
    else:
        turn.say(
            "utter_refund_pending",
            order_id=order.order_id,
            amount=turn.money(refund.amount, refund.currency),
            refund_by=turn.date(refund.expected_by),
        )
    return []
