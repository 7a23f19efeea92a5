"""Finding the order a conversation is about, and how much of it the shopper may see.

An order number several sources have is ambiguous until the shopper says where they
bought it (a button payload or words, ``pick_source``).
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from actions.integrations.base import AmbiguousOrder, Order, OrderSourceError
from actions.integrations.router import RoutingOrderSource
from actions.orders.slots import ORDER_ID, SOURCE
from actions.privacy import Access, PrivacyPolicy, access, limiter_for
from actions.services import Services

# Typed answers to "where did you buy it?" (the buttons send the source's name).
_SOURCE_WORDS = {
    "wildberries": re.compile(
        r"wildberr|\bw\.?b\b|вайлдбер|валдбер|вилдбер|\bвб\b", re.I
    ),
    "ozon": re.compile(r"ozon|озон", re.I),
    "shop": re.compile(r"сайт|магазин|site|shop|store|bitrix|битрикс|shopify", re.I),
}
_SHOPS = frozenset({"bitrix24", "shopify", "demo"})


async def find_order(
    services: Services, order_id: str, source: str | None = None
) -> Order | None:
    """The order; from ``source`` when the shopper said where they bought it."""
    orders = services.orders
    if source and isinstance(orders, RoutingOrderSource):
        return await orders.get_order_from(order_id, source)
    return await orders.get_order(order_id)


async def order_in_form(services: Services, tracker: Tracker) -> Order | None:
    """The order the form is about (its number and source slots); ``None`` when
    there is none or the source cannot answer now."""
    order_id = tracker.get_slot(ORDER_ID)
    if not order_id:
        return None
    try:
        return await find_order(services, order_id, tracker.get_slot(SOURCE))
    except (OrderSourceError, AmbiguousOrder):
        return None


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


async def order_access(services: Services, order: Order, tracker: Tracker) -> Access:
    """How much of ``order`` this conversation may see and do (actions/privacy.py)."""
    policy = PrivacyPolicy(services.settings.order_privacy)
    limiter = limiter_for(services.settings)
    return await access(policy, order, tracker, limiter, services.codes)
