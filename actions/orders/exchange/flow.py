"""An exchange for another size or colour: the offer once the order, the item and
the variant are known (stock, the shop's conditions, "shall I?"), and the exchange
itself once the shopper says yes (``actions/pending.py``).

An exchange is a return of the item plus an order for the new variant, so it has
the return's eligibility (delivered, within the window, no return open). Where
the source cannot exchange (marketplaces do not let sellers), the return is
started if it can be and the shopper orders the new size; otherwise an operator
is offered with what was asked.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from rasa_sdk.events import EventType, SlotSet

from actions.context import Turn
from actions.integrations.base import (
    AmbiguousOrder,
    OperationUnsupported,
    Order,
    OrderItem,
    OrderNotChangeable,
    OrderSourceError,
    Product,
    VariantUnavailable,
)
from actions.integrations.catalog import size_order
from actions.orders.exchange.slots import ASKS, ITEM, VARIANT
from actions.orders.exchange.wish import (
    Variant,
    exchange_message,
    find_product,
    item_title,
    pick_item,
    product_sizes,
    wanted_variant,
)
from actions.orders.lookup import order_access
from actions.orders.slots import MARKETPLACE_APPS, PENDING, SOURCE_NAMES
from actions.privacy import Access
from actions.returns import return_deadline, return_refused

logger = logging.getLogger(__name__)

_MAX_OPTIONS = 6


async def handle_exchange(order: Order, turn: Turn) -> list[EventType]:
    """The order is identified and the shopper verified: check, then offer or ask."""
    try:
        returns = await turn.services.orders.get_returns(order.order_id)
    except OperationUnsupported:
        returns = []  # a marketplace keeps its returns (and checks them) itself
    if return_refused(order, returns, turn):
        return []
    message = exchange_message(turn.tracker)
    item = pick_item(order.items, message)
    if item is not None:
        product = await find_product(turn.services.orders, item)
        variant = wanted_variant(message, item, product_sizes(product))
        if variant is not None and variant.applied_to(item) != Variant.of(item):
            return [
                SlotSet(ITEM, item.sku),
                SlotSet(VARIANT, variant.encode()),
                *await offer(order, item, variant, product, turn),
            ]
    logger.info(
        "exchange.details_asked",
        extra={"order_id": order.order_id, "item": item.sku if item else None},
    )
    return [
        SlotSet(ITEM, item.sku if item else None),
        SlotSet(VARIANT, None),
        SlotSet(ASKS, True),
    ]


async def offer(
    order: Order,
    item: OrderItem,
    variant: Variant,
    product: Product | None,
    turn: Turn,
) -> list[EventType]:
    """In stock (or no catalogue to tell): the conditions and "shall I?";
    out of stock: what there is instead, or a plain return. Where the source
    cannot exchange, the shopper hears so before agreeing to anything: a
    marketplace order is exchanged in its app, another shop's order becomes a
    return and a new order."""
    wanted = variant.applied_to(item)
    title = item_title(item, turn.lang)
    exchanges = await turn.services.orders.can_exchange(order.order_id)
    if not exchanges and order.channel in MARKETPLACE_APPS:
        logger.info(
            "exchange.in_app",
            extra={"order_id": order.order_id, "source": order.channel},
        )
        return _in_app_or_by_operator(order, item, wanted, order.channel, turn)
    if product is not None and not product.available(wanted.size, wanted.color):
        options = alternatives(product, item, wanted)
        logger.info(
            "exchange.out_of_stock",
            extra={
                "order_id": order.order_id,
                "sku": item.sku,
                "wanted": wanted.encode(),
            },
        )
        turn.say(
            "utter_exchange_out_of_stock",
            item=title,
            wanted=wanted.label(turn.lang),
            options=", ".join(o.label(turn.lang) for o in options) or "—",
            buttons=[
                {"title": o.label(turn.lang), "payload": _payload(item, o)}
                for o in options
            ],
        )
        return [SlotSet(ASKS, None)]
    window = turn.services.shop_profile.current.return_window_days
    deadline = return_deadline(order, window) or datetime.now() + timedelta(days=window)
    logger.info(
        "exchange.offered",
        extra={"order_id": order.order_id, "sku": item.sku, "wanted": wanted.encode()},
    )
    turn.say(
        "utter_exchange_confirm" if exchanges else "utter_exchange_offer_return",
        order_id=order.order_id,
        item=title,
        current=Variant.of(item).label(turn.lang),
        wanted=wanted.label(turn.lang),
        deadline=turn.date(deadline),
    )
    subject = f"{order.order_id}|{item.sku}|{wanted.encode()}"
    return [SlotSet(PENDING, f"exchange:{subject}"), SlotSet(ASKS, None)]


def alternatives(product: Product, item: OrderItem, wanted: Variant) -> list[Variant]:
    """In stock, closest first: other sizes in the colour wanted, other colours
    in the size wanted, then anything; never what the shopper already has."""
    lines = product.available(None, wanted.color) + product.available(
        wanted.size, None
    ) or product.available(None, None)
    seen: list[Variant] = []
    for line in lines:
        variant = Variant(line.size, line.color)
        if variant not in seen and variant != Variant.of(item):
            seen.append(variant)
    seen.sort(key=lambda v: (v.color != wanted.color, size_order(v.size or "")))
    return seen[:_MAX_OPTIONS]


def _payload(item: OrderItem, variant: Variant) -> str:
    """A button that asks for this exchange again, with the item and variant."""
    entities = {"exchange_item": item.sku, "size": variant.size, "color": variant.color}
    filled = {k: v for k, v in entities.items() if v}
    return "/exchange_item" + json.dumps(filled, ensure_ascii=False)


async def exchange_confirmed(subject: str, turn: Turn) -> list[EventType]:
    """The shopper said yes to the offer: checked again, then exchanged."""
    order_id, _, rest = subject.partition("|")
    sku, _, encoded = rest.partition("|")
    variant = Variant.decode(encoded)
    orders = turn.services.orders
    try:
        order = await orders.get_order(order_id)
    except (OrderSourceError, AmbiguousOrder):
        order = None
    item = next((i for i in order.items if i.sku == sku), None) if order else None
    if (
        order is None
        or item is None
        or variant is None
        or await order_access(turn.services, order, turn.tracker) is not Access.GRANTED
    ):
        logger.warning("privacy.exchange_refused", extra={"order_id": order_id})
        turn.say("utter_order_verification_failed")
        return []
    try:
        request = await orders.start_exchange(
            order.order_id, sku, variant.size, variant.color
        )
    except VariantUnavailable:
        product = await find_product(orders, item)
        return await offer(order, item, variant, product, turn)
    except OrderNotChangeable:
        turn.say("utter_return_not_delivered", order_id=order.order_id)
        return []
    except OperationUnsupported as error:
        return await _exchange_elsewhere(order, item, variant, error.source, turn)
    except OrderSourceError:
        logger.exception("exchange.failed", extra={"order_id": order.order_id})
        turn.say("utter_order_source_unavailable")
        return []
    logger.info(
        "exchange.started",
        extra={
            "order_id": order.order_id,
            "return_id": request.return_id,
            "replacement_order_id": request.replacement_order_id,
            "sku": sku,
        },
    )
    window = turn.services.shop_profile.current.return_window_days
    turn.say(
        "utter_exchange_started",
        order_id=order.order_id,
        return_id=request.return_id,
        replacement_id=request.replacement_order_id,
        item=item_title(item, turn.lang),
        wanted=variant.label(turn.lang),
        deadline=turn.date(
            return_deadline(order, window) or datetime.now() + timedelta(days=window)
        ),
    )
    return []


async def _exchange_elsewhere(
    order: Order, item: OrderItem, variant: Variant, source: str, turn: Turn
) -> list[EventType]:
    """The source cannot exchange: its return, and the new size ordered anew; or,
    where it cannot return either, an operator offered with what was asked."""
    title, wanted = item_title(item, turn.lang), variant.label(turn.lang)
    try:
        request = await turn.services.orders.start_return(order.order_id)
    except OperationUnsupported:
        request = None
    logger.info(
        "exchange.unsupported",
        extra={
            "order_id": order.order_id,
            "source": source,
            "return_id": request.return_id if request else None,
        },
    )
    if request is not None:
        turn.say(
            "utter_exchange_as_return",
            order_id=order.order_id,
            return_id=request.return_id,
            item=title,
            wanted=wanted,
        )
        return []
    return _in_app_or_by_operator(order, item, variant, source, turn)


def _in_app_or_by_operator(
    order: Order, item: OrderItem, variant: Variant, source: str, turn: Turn
) -> list[EventType]:
    """Neither exchange nor return here: the marketplace's app, or an operator
    offered with what was asked."""
    title, wanted = item_title(item, turn.lang), variant.label(turn.lang)
    if source in MARKETPLACE_APPS:
        turn.say(
            "utter_exchange_in_marketplace",
            order_id=order.order_id,
            marketplace=SOURCE_NAMES[source],
            item=title,
            wanted=wanted,
        )
    else:
        turn.say(
            "utter_exchange_by_operator",
            order_id=order.order_id,
            item=title,
            wanted=wanted,
        )
    # "Yes" hands over with a summary an operator can act on (actions/pending.py).
    summary = f"exchange {order.order_id} {item.sku} -> {variant.encode()}"
    return [SlotSet(PENDING, f"handoff:{summary}")]
