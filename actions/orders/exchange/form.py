"""exchange_form: which item of the order (buttons, asked only for several items)
and which size or colour, when the shopper's first message did not say; then
``action_exchange_offer`` checks stock and offers the exchange (``flow``)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.context import Turn
from actions.integrations.base import (
    AmbiguousOrder,
    Order,
    OrderItem,
    OrderSourceError,
)
from actions.orders.exchange.flow import offer
from actions.orders.exchange.slots import ASKS, ITEM, VARIANT
from actions.orders.exchange.wish import (
    Variant,
    exchange_message,
    find_product,
    item_from_answer,
    item_title,
    product_sizes,
    wanted_variant,
)
from actions.orders.lookup import find_order, order_access
from actions.orders.slots import ORDER_ID, SOURCE
from actions.privacy import Access
from actions.services import get_services

# Answers that are something else ("позовите оператора"): the form lets the
# other rules answer them instead of calling them a size.
_ANSWER_INTENTS = frozenset({"inform", "exchange_item", "product_availability"})


async def _order(tracker: Tracker) -> Order | None:
    order_id = tracker.get_slot(ORDER_ID)
    if not order_id:
        return None
    try:
        return await find_order(get_services(), order_id, tracker.get_slot(SOURCE))
    except (OrderSourceError, AmbiguousOrder):
        return None


def _item(order: Order | None, tracker: Tracker) -> OrderItem | None:
    sku = tracker.get_slot(ITEM)
    if order is None or not sku:
        return None
    return next((i for i in order.items if i.sku == sku), None)


def _intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


class ValidateExchangeForm(FormValidationAction):
    def name(self) -> str:
        return "validate_exchange_form"

    async def extract_exchange_item(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A button (the SKU) or typed words when the bot asked which item."""
        if tracker.get_slot("requested_slot") != ITEM:
            return {}
        message = tracker.latest_message
        skus = [e["value"] for e in message.get("entities", []) if e["entity"] == ITEM]
        if skus:
            return {ITEM: skus[0]}
        text = (message.get("text") or "").strip()
        if not text or text.startswith("/") or _intent(tracker) not in _ANSWER_INTENTS:
            return {}
        return {ITEM: text}

    async def validate_exchange_item(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        order = await _order(tracker)
        item = item_from_answer(order.items, str(value or "")) if order else None
        if item is None:
            dispatcher.utter_message(response="utter_exchange_item_unclear")
            return {ITEM: None}
        result: dict[str, Any] = {ITEM: item.sku}
        if not tracker.get_slot(VARIANT):
            # The first message may have said the size, before we knew the item.
            product = await find_product(get_services().orders, item)
            wish = wanted_variant(
                exchange_message(tracker), item, product_sizes(product)
            )
            if wish is not None and wish.applied_to(item) != Variant.of(item):
                result[VARIANT] = wish.encode()
        return result

    async def extract_exchange_variant(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The reply to "which size or colour?": "43", "чёрный", "на размер больше"."""
        if tracker.get_slot("requested_slot") != VARIANT:
            return {}
        if _intent(tracker) not in _ANSWER_INTENTS:
            return {}
        order = await _order(tracker)
        item = _item(order, tracker)
        if item is None:
            return {}
        product = await find_product(get_services().orders, item)
        wish = wanted_variant(
            tracker.latest_message, item, product_sizes(product), answer=True
        )
        return {VARIANT: wish.encode() if wish else "?"}

    async def validate_exchange_variant(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        wish = Variant.decode(value)
        item = _item(await _order(tracker), tracker)
        if wish is None or item is None:
            dispatcher.utter_message(response="utter_exchange_variant_unclear")
            return {VARIANT: None}
        if wish.applied_to(item) == Variant.of(item):
            dispatcher.utter_message(
                response="utter_exchange_same_variant",
                current=Variant.of(item).label(language(tracker)),
            )
            return {VARIANT: None}
        return {VARIANT: wish.encode()}


class ActionAskExchangeItem(Action):
    """Which item to exchange, a button per item of the order."""

    def name(self) -> str:
        return "action_ask_exchange_item"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        order = await _order(tracker)
        lang = language(tracker)
        items = order.items if order else ()
        dispatcher.utter_message(
            response="utter_ask_exchange_item",
            order_id=tracker.get_slot(ORDER_ID),
            buttons=[
                {
                    "title": f"{item_title(i, lang)} ({Variant.of(i).label(lang)})",
                    "payload": f'/inform{{"{ITEM}":"{i.sku}"}}',
                }
                for i in items
            ],
        )
        return []


class ActionAskExchangeVariant(Action):
    """Which size or colour, with what the shopper has and what is in stock."""

    def name(self) -> str:
        return "action_ask_exchange_variant"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = language(tracker)
        item = _item(await _order(tracker), tracker)
        if item is None:
            dispatcher.utter_message(response="utter_exchange_variant_unclear")
            return []
        product = await find_product(get_services().orders, item)
        in_stock = (
            sorted(
                {Variant(s.size, s.color) for s in product.available(None, None)}
                - {Variant.of(item)},
                key=lambda v: (v.color != item.color, v.encode()),
            )
            if product
            else []
        )
        dispatcher.utter_message(
            response="utter_ask_exchange_variant",
            item=item_title(item, lang),
            current=Variant.of(item).label(lang),
            options=", ".join(v.label(lang) for v in in_stock[:8]) or "—",
        )
        return []


class ActionExchangeOffer(Action):
    """exchange_form is complete: the offer, to a shopper still verified."""

    def name(self) -> str:
        return "action_exchange_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        services = get_services()
        turn = Turn(dispatcher, tracker, services, language(tracker))
        order = await _order(tracker)
        item = _item(order, tracker)
        wish = Variant.decode(tracker.get_slot(VARIANT))
        if (
            order is None
            or item is None
            or wish is None
            or await order_access(services, order, tracker) is not Access.GRANTED
        ):
            turn.say("utter_order_verification_failed")
            return [SlotSet(ASKS, None)]
        product = await find_product(services.orders, item)
        return await offer(order, item, wish, product, turn)
