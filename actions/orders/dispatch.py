"""``action_handle_order_request``: answers the order form's request from the order
source, one handler per request kind (``_HANDLERS``).

Privacy (``actions/privacy.py``) decides how much: a verified shopper gets the
details and the change; anyone else gets the coarse state, and a change becomes a
request to a human operator where the source offers no factor to verify.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.context import Turn
from actions.integrations.base import (
    AmbiguousOrder,
    OperationUnsupported,
    OrderSourceError,
)
from actions.orders.address import handle_change_delivery
from actions.orders.cancel import handle_cancel
from actions.orders.exchange.choice import handle_return_or_exchange
from actions.orders.exchange.flow import handle_exchange
from actions.orders.exchange.slots import ASKS
from actions.orders.lookup import find_order, order_access
from actions.orders.slots import ATTEMPTS, ORDER_ID, REQUEST, SOURCE, SOURCE_NAMES
from actions.orders.status import handle_status
from actions.orders.unverified import handle_unverified, say_self_service
from actions.payment import handle_pay
from actions.privacy import Access
from actions.returns import handle_refund
from actions.services import get_services

logger = logging.getLogger(__name__)


class ActionHandleOrderRequest(Action):
    def name(self) -> str:
        return "action_handle_order_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # An exchange that still needs details sets ASKS again (exchange_form);
        # one the shopper walked away from must not start the form later.
        events = await self._answer(dispatcher, tracker)
        return [SlotSet(ASKS, None), *events] if tracker.get_slot(ASKS) else events

    async def _answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        services = get_services()
        turn = Turn(dispatcher, tracker, services, language(tracker))
        order_id = tracker.get_slot(ORDER_ID)
        if not order_id:
            turn.say("utter_order_id_give_up")
            return [SlotSet(ATTEMPTS, 0)]
        try:
            order = await find_order(services, order_id, tracker.get_slot(SOURCE))
            if order is None:
                turn.say("utter_order_not_found", order_id=order_id)
                return [SlotSet(ORDER_ID, None)]
            request = tracker.get_slot(REQUEST) or "status"
            await services.shop_profile.refresh()  # the Shop page's return window
            allowed = await order_access(services, order, tracker)
            if allowed is not Access.GRANTED:
                return await handle_unverified(order, request, allowed, turn)
            handler = _HANDLERS.get(request, handle_status)
            return await handler(order, turn)
        except AmbiguousOrder as error:  # the shopper never said where
            turn.say(
                "utter_order_ambiguous",
                order_id=order_id,
                sources=", ".join(SOURCE_NAMES.get(s, s) for s in error.sources),
            )
            return [SlotSet(ORDER_ID, None)]
        except OrderSourceError:
            logger.exception("orders.source_failed", extra={"order_id": order_id})
            turn.say("utter_order_source_unavailable")
            return []
        except OperationUnsupported as error:
            say_self_service(turn, order_id, error.source)
            return []


_HANDLERS = {
    "status": handle_status,
    "cancel": handle_cancel,
    "change_delivery": handle_change_delivery,
    "return": handle_return_or_exchange,
    "exchange": handle_exchange,
    "refund": handle_refund,
    "pay": handle_pay,
}
