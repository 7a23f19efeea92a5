"""The order form's code question, for an order with an e-mail but no phone.

``action_ask_order_form_one_time_code`` is the question: Rasa runs it whenever the
form asks for ``one_time_code`` (the first time, and again after a wrong or expired
answer). It sends a code to the order's e-mail unless one is still live, and says
where it went (masked). ``validate_one_time_code`` checks an answer: a right code
verifies the order for the conversation as the right digits do; a wrong one is
counted by the same ``AttemptLimiter``; an expired one is not counted, and the
question that follows sends a new code. Only messages with digits are answers
(``ValidateOrderForm.extract_one_time_code``).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.orders.lookup import order_in_form
from actions.orders.slots import ATTEMPTS, CODE
from actions.privacy import VERIFIED_SLOT, limiter_for, verified
from actions.services import get_services
from actions.verification.codes import Asked, Checked

logger = logging.getLogger(__name__)

_QUESTION = {
    Asked.SENT: "utter_one_time_code_sent",
    Asked.WAITING: "utter_ask_order_form_one_time_code",
    Asked.LIMIT: "utter_one_time_code_send_limit",
    Asked.FAILED: "utter_one_time_code_not_sent",
}


class ActionAskOneTimeCode(Action):
    def name(self) -> str:
        return "action_ask_order_form_one_time_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        services = get_services()
        codes = services.codes
        order = await order_in_form(services, tracker)
        if order is None or codes is None:
            dispatcher.utter_message(response="utter_one_time_code_not_sent")
            return []
        asked = await codes.ask(order, tracker.sender_id, language(tracker))
        dispatcher.utter_message(
            response=_QUESTION[asked.outcome],
            email=asked.masked_email,
            minutes=max(1, services.settings.code_ttl_s // 60),
        )
        return []


async def validate_code(
    value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    """The form's validation of an answer to the code question."""
    services = get_services()
    attempts = int(tracker.get_slot(ATTEMPTS) or 0)
    order = await order_in_form(services, tracker)
    codes = services.codes
    if order is None or codes is None:
        dispatcher.utter_message(response="utter_one_time_code_mismatch")
        return {CODE: None, ATTEMPTS: attempts + 1}
    limiter = limiter_for(services.settings)
    # Locked: the code is not even compared; the form ends and
    # action_handle_order_request explains.
    give_up = {CODE: None, ATTEMPTS: services.settings.max_order_id_attempts}
    if await limiter.locked(order, tracker.sender_id):
        return give_up
    checked = await codes.check(order, tracker.sender_id, str(value or ""))
    if checked is Checked.RIGHT:
        logger.info(
            "orders.verified", extra={"order_id": order.order_id, "factor": "code"}
        )
        return {
            CODE: "verified",
            VERIFIED_SLOT: verified(tracker, order.order_id),
            ATTEMPTS: 0,
        }
    if checked is Checked.NO_CODE:
        # Nothing to compare against: not an attempt. Asked again, which sends
        # a new code if this hour's sends allow.
        dispatcher.utter_message(response="utter_one_time_code_expired")
        return {CODE: None}
    await limiter.failed(order, tracker.sender_id)
    if await limiter.locked(order, tracker.sender_id):
        return give_up
    dispatcher.utter_message(response="utter_one_time_code_mismatch")
    return {CODE: None, ATTEMPTS: attempts + 1}
