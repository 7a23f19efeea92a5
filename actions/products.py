"""Product availability by name, size and colour."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language, latest_entity
from actions.context import Turn
from actions.integrations.base import OrderSourceError, Product
from actions.integrations.catalog import (
    COLOR_NAMES,
    normalize_color,
    normalize_size,
    size_order,
)
from actions.services import get_services

PRODUCT, SIZE, COLOR = "product", "size", "color"


class ValidateProductForm(FormValidationAction):
    def name(self) -> str:
        return "validate_product_form"

    async def extract_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The reply to "which product?" is the product, even if NLU missed it."""
        if tracker.get_slot("requested_slot") != PRODUCT:
            return {}
        if latest_entity(tracker, PRODUCT):
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        return {PRODUCT: text} if text else {}


class ActionProductAvailability(Action):
    def name(self) -> str:
        return "action_product_availability"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn(dispatcher, tracker, get_services(), language(tracker))
        query = tracker.get_slot(PRODUCT) or ""
        # A new product in this message starts afresh: old size and colour go.
        fresh = latest_entity(tracker, PRODUCT) is not None
        raw_size = latest_entity(tracker, SIZE) or (
            None if fresh else tracker.get_slot(SIZE)
        )
        raw_color = latest_entity(tracker, COLOR) or (
            None if fresh else tracker.get_slot(COLOR)
        )
        size, color = normalize_size(raw_size), normalize_color(raw_color)
        events: list[EventType] = [SlotSet(SIZE, raw_size), SlotSet(COLOR, raw_color)]
        try:
            products = await turn.services.orders.find_products(query)
        except OrderSourceError:
            turn.say("utter_order_source_unavailable")
            return events
        if not products:
            turn.say("utter_product_not_found", product=query)
            return [*events, SlotSet(PRODUCT, None)]
        product = products[0]
        title = product.title_en if turn.lang == "en" else product.title_ru
        variant = " ".join(
            part
            for part in (size, COLOR_NAMES[color][turn.lang] if color else None)
            if part
        )
        item = f"{title}, {variant}" if variant else title
        if product.available(size, color):
            turn.say(
                "utter_product_in_stock",
                item=item,
                price=turn.money(product.price, product.currency),
            )
            options = self._options(product, size, color, turn.lang)
            if options:
                turn.say("utter_product_options", options=options)
        elif size or color:
            # Closest alternatives first: other colours in this size, other sizes in
            # this colour, then anything in stock.
            options = (
                (size and color and self._options(product, size, None, turn.lang))
                or (size and color and self._options(product, None, color, turn.lang))
                or self._options(product, None, None, turn.lang)
            )
            turn.say("utter_product_out_of_stock", item=item, options=options or "—")
        else:
            turn.say("utter_product_sold_out", product=title)
        return events

    @staticmethod
    def _options(
        product: Product, size: str | None, color: str | None, lang: str
    ) -> str:
        """What is in stock, for the parts the shopper has not chosen yet."""
        lines = product.available(size, color)
        sizes = sorted({line.size for line in lines if line.size}, key=size_order)
        colors = sorted({line.color for line in lines if line.color})
        parts = []
        if sizes and not size:
            parts.append(", ".join(sizes))
        if colors and not color:
            parts.append(", ".join(COLOR_NAMES[c][lang] for c in colors))
        return "; ".join(parts)
