"""The order form and what happens once it has an order number.

One form (``order_form``) collects the order number for every order request: status,
cancel, change delivery, return, refund, pay. The ``order_request`` slot, set from
the intent, says which; a shopper who changes their mind mid-form only changes that
slot. ``action_handle_order_request`` then answers from the order source.

Privacy (``actions/privacy.py``) decides how much: a verified shopper gets the
details and the change; anyone else gets the coarse state, and a change becomes a
request to a human operator where the source offers no factor to verify.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.context import Turn
from actions.integrations.base import (
    AmbiguousOrder,
    OperationUnsupported,
    Order,
    OrderNotChangeable,
    OrderSourceError,
    OrderState,
)
from actions.integrations.router import RoutingOrderSource
from actions.payment import handle_pay
from actions.payments.base import PaymentError
from actions.payments.demo import DemoPaymentProvider
from actions.payments.refunds import RefundRefused, Refunds
from actions.privacy import (
    VERIFIED_SLOT,
    Access,
    PrivacyPolicy,
    access,
    last4_matches,
    limiter_for,
    verified,
)
from actions.returns import handle_refund, handle_return
from actions.services import Services, get_services
from actions.support import start_handoff
from common.order_ids import find_in_text, normalize

logger = logging.getLogger(__name__)

ORDER_ID = "order_id"
ATTEMPTS = "order_id_attempts"
ADDRESS = "delivery_address"
PHONE = "phone_last4"
REQUEST = "order_request"
# Where an order number that several sources have was bought (asked with buttons).
SOURCE = "order_source"
PENDING = "pending"
# Marketplace names as shoppers know them (proper names, the same in every language).
SOURCE_NAMES = {
    "wildberries": "Wildberries",
    "ozon": "Ozon",
    "bitrix24": "Bitrix24",
    "shopify": "Shopify",
    "demo": "Easy Flow",
}
MARKETPLACE_APPS = frozenset({"wildberries", "ozon"})
# Typed answers to "where did you buy it?" (the buttons send the source's name).
_SOURCE_WORDS = {
    "wildberries": re.compile(
        r"wildberr|\bw\.?b\b|вайлдбер|валдбер|вилдбер|\bвб\b", re.I
    ),
    "ozon": re.compile(r"ozon|озон", re.I),
    "shop": re.compile(r"сайт|магазин|site|shop|store|bitrix|битрикс|shopify", re.I),
}
_SHOPS = frozenset({"bitrix24", "shopify", "demo"})
_MIN_ADDRESS = re.compile(r"(?=.*\d)(?=.*[^\W\d_]{3,}).{8,}", re.DOTALL)
_DIGITS = re.compile(r"\S*\d\S*")
_ANY_DIGIT = re.compile(r"\d")


def _attempts(tracker: Tracker) -> int:
    return int(tracker.get_slot(ATTEMPTS) or 0)


async def find_order(
    services: Services, order_id: str, source: str | None = None
) -> Order | None:
    """The order; from ``source`` when the shopper said where they bought it."""
    orders = services.orders
    if source and isinstance(orders, RoutingOrderSource):
        return await orders.get_order_from(order_id, source)
    return await orders.get_order(order_id)


async def ambiguous_sources(services: Services, order_id: str) -> list[str]:
    """The sources that all have this order number; empty when it is not ambiguous."""
    try:
        await services.orders.get_order(order_id)
    except AmbiguousOrder as error:
        return list(error.sources)
    except OrderSourceError:
        return []
    return []


def pick_source(answer: str, choices: list[str]) -> str | None:
    """The source the shopper named (button payload or words), among ``choices``."""
    answer = answer.strip()
    if answer in choices:
        return answer
    for kind, words in _SOURCE_WORDS.items():
        if words.search(answer):
            named = [
                c for c in choices if c == kind or (kind == "shop" and c in _SHOPS)
            ]
            return named[0] if len(named) == 1 else None
    return None


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
        slots = [s for s in domain_slots if s not in (PHONE, ADDRESS, SOURCE)]
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
            return {ORDER_ID: order_id.value, ATTEMPTS: 0, PHONE: None, SOURCE: None}
        if order is None:
            dispatcher.utter_message(
                response="utter_order_not_found", order_id=order_id.value
            )
            return {ORDER_ID: None, ATTEMPTS: _attempts(tracker) + 1}
        # A new order is verified afresh: forget the digits given for another one.
        return {ORDER_ID: order.order_id, ATTEMPTS: 0, PHONE: None, SOURCE: None}

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
        if tracker.get_slot("requested_slot") != PHONE:
            return {}
        text = tracker.latest_message.get("text") or ""
        if text.startswith("/") or not _ANY_DIGIT.search(text):
            return {}
        return {PHONE: text}

    async def validate_phone_last4(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        services = get_services()
        order_id = tracker.get_slot(ORDER_ID)
        try:
            order = (
                await find_order(services, order_id, tracker.get_slot(SOURCE))
                if order_id
                else None
            )
        except (OrderSourceError, AmbiguousOrder):
            order = None
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


class ActionHandleOrderRequest(Action):
    def name(self) -> str:
        return "action_handle_order_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
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


async def order_access(services: Services, order: Order, tracker: Tracker) -> Access:
    """How much of ``order`` this conversation may see and do (actions/privacy.py)."""
    policy = PrivacyPolicy(services.settings.order_privacy)
    return await access(policy, order, tracker, limiter_for(services.settings))


async def handle_unverified(
    order: Order, request: str, allowed: Access, turn: Turn
) -> list[EventType]:
    """The order number alone: the coarse state, never details or a change.

    A source with no factor cannot verify anyone, so a change (or a detail) is
    handed to an operator, who checks the buyer in the shop's own system.
    """
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


async def handle_status(order: Order, turn: Turn) -> list[EventType]:
    turn.say(
        f"utter_order_status_{order.state.value}",
        order_id=order.order_id,
        eta=turn.date(order.expected_delivery),
        delivered=turn.date(order.delivered_at),
        total=turn.money(order.total, order.currency),
        carrier=order.carrier or "—",
        tracking=order.tracking_number or "—",
        address=order.address,
    )
    return []


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
        await refund_payment(order, turn)
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
    else:
        turn.say("utter_order_cancelled", order_id=order.order_id)
    logger.info("orders.cancelled", extra={"order_id": order.order_id})
    return []


async def refund_payment(order: Order, turn: Turn) -> None:
    """A cancelled order paid through a real provider in this dialog gets its
    money back through that provider, once (``actions.payments.refunds``). The
    demo provider's refunds are the demo store's; marketplaces refund themselves.
    """
    services = turn.services
    if isinstance(services.payments, DemoPaymentProvider):
        return
    paid = await services.ledger.paid_for_order(services.payments.name, order.order_id)
    if paid is None:
        return
    try:
        await Refunds(services.ledger, services.payments).refund(
            paid.payment_id, paid.amount, f"cancel:{order.order_id}"
        )
    except (PaymentError, RefundRefused):
        # Logged by Refunds with the reason; the merchant refunds by hand.
        logger.error("orders.refund_failed", extra={"order_id": order.order_id})


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


_HANDLERS = {
    "status": handle_status,
    "cancel": handle_cancel,
    "change_delivery": handle_change_delivery,
    "return": handle_return,
    "refund": handle_refund,
    "pay": handle_pay,
}
