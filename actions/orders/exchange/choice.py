"""The return flow's offer of an exchange: a return asked for because of the fit
or the colour ("кроссовки малы, верну") first gets "a refund, or another size or
colour?" with buttons. "Refund" is a yes to the pending return
(``return_confirmed``); "exchange" sends ``/exchange_item``, which the order form
answers with the exchange flow for the same order."""

from __future__ import annotations

import logging
import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.context import Turn
from actions.integrations.base import (
    AmbiguousOrder,
    OperationUnsupported,
    Order,
    OrderSourceError,
)
from actions.orders.lookup import order_access
from actions.orders.slots import PENDING
from actions.orders.unverified import say_self_service
from actions.privacy import Access
from actions.returns import handle_return, return_refused

logger = logging.getLogger(__name__)

_FIT_OR_COLOUR = re.compile(
    r"размер|\bмал[аоы]?\b|маловат|маломер|велик|большеват|жм[уеё]т|тесн"
    r"|не\s+подош|не\s+сел|цвет|\bsize|\bfit|too\s+(?:small|big|large|tight)"
    r"|colou?r",
    re.IGNORECASE,
)


def _return_text(tracker: Tracker) -> str:
    for event in reversed(tracker.events):
        parsed = event.get("parse_data") or {}
        if event.get("event") == "user" and (
            (parsed.get("intent") or {}).get("name") == "return_item"
        ):
            return str(event.get("text") or "")
    return ""


async def handle_return_or_exchange(order: Order, turn: Turn) -> list[EventType]:
    """A return; for a fit or colour problem with sized goods, the choice first."""
    sized = any(item.size or item.color for item in order.items)
    if not sized or not _FIT_OR_COLOUR.search(_return_text(turn.tracker)):
        return await handle_return(order, turn)
    returns = await turn.services.orders.get_returns(order.order_id)
    if return_refused(order, returns, turn):
        return []
    logger.info("returns.exchange_offered", extra={"order_id": order.order_id})
    turn.say("utter_return_or_exchange", order_id=order.order_id)
    return [SlotSet(PENDING, f"return:{order.order_id}")]


async def return_confirmed(order_id: str, turn: Turn) -> list[EventType]:
    """The shopper chose the refund: checked again, then the return."""
    try:
        order = await turn.services.orders.get_order(order_id)
    except (OrderSourceError, AmbiguousOrder):
        order = None
    if (
        order is None
        or await order_access(turn.services, order, turn.tracker) is not Access.GRANTED
    ):
        logger.warning("privacy.return_refused", extra={"order_id": order_id})
        turn.say("utter_order_verification_failed")
        return []
    try:
        return await handle_return(order, turn)
    except OperationUnsupported as error:
        say_self_service(turn, order_id, error.source)
    except OrderSourceError:
        logger.exception("returns.failed", extra={"order_id": order_id})
        turn.say("utter_order_source_unavailable")
    return []
