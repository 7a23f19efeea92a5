"""The order form: the order number, where it was bought, the phone's last digits
(or a one-time code sent to the order's e-mail) and the new address, each asked
only when the request needs it.

One form (``order_form``) collects the order number for every order request: status,
cancel, change delivery, return, refund, pay. The ``order_request`` slot, set from
the intent, says which; a shopper who changes their mind mid-form only changes that
slot. ``action_handle_order_request`` (``actions/orders/dispatch.py``) then answers.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.integrations.base import AmbiguousOrder, OrderSourceError
from actions.orders.lookup import (
    ambiguous_sources,
    find_order,
    order_access,
    order_in_form,
    pick_source,
)
from actions.orders.one_time_code import validate_code
from actions.orders.slots import (
    ADDRESS,
    ATTEMPTS,
    CODE,
    ORDER_ID,
    PHONE,
    REQUEST,
    SOURCE,
    SOURCE_NAMES,
)
from actions.privacy import VERIFIED_SLOT, Access, last4_matches, limiter_for, verified
from actions.services import get_services
from common.order_ids import find_in_text, normalize

logger = logging.getLogger(__name__)

_MIN_ADDRESS = re.compile(r"(?=.*\d)(?=.*[^\W\d_]{3,}).{8,}", re.DOTALL)
_DIGITS = re.compile(r"\S*\d\S*")
# Messages that start a flow of their own while the form waits for a number:
# their digits are durations, amounts or ratings, not a bare order number.
NOT_AN_ANSWER = frozenset(
    {"complaint", "human_handoff", "rate_conversation", "stop_updates", "bot_challenge"}
)
_ANY_DIGIT = re.compile(r"\d")


def _attempts(tracker: Tracker) -> int:
    return int(tracker.get_slot(ATTEMPTS) or 0)


def _answer_with_digits(tracker: Tracker, slot: str) -> dict[str, Any]:
    """The message as the answer to ``slot`` when the form asked for it and the
    message has digits; a button payload or words are left to their intents."""
    if tracker.get_slot("requested_slot") != slot:
        return {}
    text = tracker.latest_message.get("text") or ""
    if text.startswith("/") or not _ANY_DIGIT.search(text):
        return {}
    return {slot: text}


class ValidateOrderForm(FormValidationAction):
    def name(self) -> str:
        return "validate_order_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        services = get_services()
        if _attempts(tracker) >= services.settings.max_order_id_attempts:
            return []  # give up: action_handle_order_request offers a human
        slots = [s for s in domain_slots if s not in (PHONE, CODE, ADDRESS, SOURCE)]
        order_id = tracker.get_slot(ORDER_ID)
        if not order_id:
            return slots
        source = tracker.get_slot(SOURCE)
        if source:
            slots.append(SOURCE)  # given: validated (a typed answer is mapped)
        try:
            order = await find_order(services, order_id, source)
        except AmbiguousOrder:
            return [*slots, SOURCE]  # ask where they bought it
        except OrderSourceError:
            return slots
        if order is None:
            return slots
        allowed = await order_access(services, order, tracker)
        if allowed is Access.ASK:
            return [*slots, PHONE]
        if allowed is Access.ASK_CODE:
            return [*slots, CODE]
        # The new address only from a verified shopper; others get a human.
        if (
            allowed is Access.GRANTED
            and tracker.get_slot(REQUEST) == "change_delivery"
            and order.state.can_change_delivery
        ):
            slots.append(ADDRESS)
        return slots

    async def extract_order_id(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Takes a bare answer ("45871", "A-12") when the bot asked for a number.

        Whatever looks like a number is passed on to validation, which explains
        what is wrong with it; a message without digits is left to other intents.
        """
        if tracker.get_slot("requested_slot") != ORDER_ID:
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in NOT_AN_ANSWER:
            # "my order is 10 days late": the complaint's own rule answers; its
            # "10" is no order number (a real one in the text is an entity).
            return {}
        text = tracker.latest_message.get("text") or ""
        if find_in_text(text):
            return {}  # the entity mapping has it already
        candidates = _DIGITS.findall(text)
        return {ORDER_ID: candidates[0]} if candidates else {}

    async def validate_order_id(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        services = get_services()
        order_id = normalize(value, allow_short=True)
        if order_id is None:
            dispatcher.utter_message(response="utter_order_id_invalid", raw=str(value))
            return {ORDER_ID: None, ATTEMPTS: _attempts(tracker) + 1}
        try:
            order = await services.orders.get_order(order_id.value)
        except OrderSourceError:
            logger.exception("orders.source_failed", extra={"order_id": order_id.value})
            dispatcher.utter_message(response="utter_order_source_unavailable")
            return {ORDER_ID: None, ATTEMPTS: services.settings.max_order_id_attempts}
        except AmbiguousOrder as error:
            # Several sources have it: keep the number, ask where (action_ask_...).
            logger.info(
                "orders.ambiguous",
                extra={"order_id": order_id.value, "sources": error.sources},
            )
            return {
                ORDER_ID: order_id.value,
                ATTEMPTS: 0,
                PHONE: None,
                CODE: None,
                SOURCE: None,
            }
        if order is None:
            dispatcher.utter_message(
                response="utter_order_not_found", order_id=order_id.value
            )
            return {ORDER_ID: None, ATTEMPTS: _attempts(tracker) + 1}
        # A new order is verified afresh: forget the answers given for another one.
        return {
            ORDER_ID: order.order_id,
            ATTEMPTS: 0,
            PHONE: None,
            CODE: None,
            SOURCE: None,
        }

    async def extract_order_source(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A typed answer ("на вайлдберриз") when the bot asked where they bought."""
        if tracker.get_slot("requested_slot") != SOURCE:
            return {}
        if any(e.get("entity") == SOURCE for e in tracker.latest_message["entities"]):
            return {}  # a button: the entity mapping has it already
        text = tracker.latest_message.get("text") or ""
        return {SOURCE: text} if text and not text.startswith("/") else {}

    async def validate_order_source(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        order_id = tracker.get_slot(ORDER_ID)
        choices = await ambiguous_sources(get_services(), order_id) if order_id else []
        source = pick_source(str(value or ""), choices)
        if source is None:
            return {SOURCE: None}  # asked again, with the buttons
        logger.info(
            "orders.source_chosen", extra={"order_id": order_id, "source": source}
        )
        return {SOURCE: source}

    async def extract_phone_last4(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An answer to the digit question: a message with digits in it, right or
        wrong ("6199", "последние 6199", "12"). A message without digits is not an
        attempt: nothing is extracted, the form lets other intents answer it, and
        no wrong answer is counted."""
        return _answer_with_digits(tracker, PHONE)

    async def validate_phone_last4(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if not _ANY_DIGIT.search(str(value or "")):
            # Not an answer: the "verified" an earlier order left in the slot,
            # which Rasa validates again when the form starts for another order.
            # Asked afresh; nothing said, nothing counted against anyone.
            return {PHONE: None}
        services = get_services()
        order = await order_in_form(services, tracker)
        if order is None:
            dispatcher.utter_message(response="utter_phone_mismatch")
            return {PHONE: None, ATTEMPTS: _attempts(tracker) + 1}
        limiter = limiter_for(services.settings)
        # Locked: the digits are not even compared; the form ends and
        # action_handle_order_request explains.
        give_up = {PHONE: None, ATTEMPTS: services.settings.max_order_id_attempts}
        if await limiter.locked(order, tracker.sender_id):
            return give_up
        if last4_matches(order, str(value or "")):
            logger.info("orders.verified", extra={"order_id": order.order_id})
            return {
                PHONE: "verified",
                VERIFIED_SLOT: verified(tracker, order.order_id),
                ATTEMPTS: 0,
            }
        await limiter.failed(order, tracker.sender_id)
        if await limiter.locked(order, tracker.sender_id):
            return give_up
        dispatcher.utter_message(response="utter_phone_mismatch")
        return {PHONE: None, ATTEMPTS: _attempts(tracker) + 1}

    async def extract_one_time_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """An answer to the code question: as for the digits, only a message with
        digits in it, so «позовите оператора» still reaches its intent."""
        return _answer_with_digits(tracker, CODE)

    async def validate_one_time_code(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if not _ANY_DIGIT.search(str(value or "")):
            return {CODE: None}  # the "verified" an earlier order left: ask afresh
        return await validate_code(value, dispatcher, tracker)

    async def validate_delivery_address(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        address = " ".join(str(value or "").split())
        if not _MIN_ADDRESS.match(address):
            dispatcher.utter_message(response="utter_address_invalid")
            return {ADDRESS: None}
        return {ADDRESS: address}


class ActionAskOrderSource(Action):
    """Asks where an order number that several sources have was bought, with a
    button per source (their names are proper names, the same in every language).
    """

    def name(self) -> str:
        return "action_ask_order_source"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order_id = tracker.get_slot(ORDER_ID) or ""
        choices = await ambiguous_sources(get_services(), order_id)
        names = [SOURCE_NAMES.get(s, s) for s in choices]
        dispatcher.utter_message(
            response="utter_ask_order_source",
            order_id=order_id,
            sources=", ".join(names),
            buttons=[
                {"title": name, "payload": f'/inform{{"{SOURCE}":"{source}"}}'}
                for source, name in zip(choices, names, strict=True)
            ],
        )
        return []
