"""What the shopper wants in exchange: which item of the order, and which size or
colour, read from entities, the words ("на 43 размер", "на размер больше") and
the sizes the product comes in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from actions.integrations.base import OrderItem, OrderSource, OrderSourceError, Product
from actions.integrations.catalog import (
    COLOR_NAMES,
    normalize_color,
    normalize_size,
    same_word,
    size_order,
    stems,
)
from actions.orders.exchange.slots import INTENT, ITEM

_EXPLICIT_SIZE = re.compile(
    r"(?:размер\w*|size)\s*(\w{1,3}(?:[.,]5)?)\b"
    r"|\b(\d{2}(?:[.,]5)?|[a-zа-я]{1,3})\s*(?:-?го\s*|-?й\s*)?(?:размер|size)",
    re.IGNORECASE,
)
_BIGGER = re.compile(
    r"\b(?:побольше|больше|крупнее|bigger|larger|size up|малы|мала|мал|маловат\w*"
    r"|маломер\w*|жмут|жмет|жмёт|тесн\w*|too small|too tight|tight)\b",
    re.IGNORECASE,
)
_SMALLER = re.compile(
    r"\b(?:поменьше|меньше|smaller|size down|велики|велика|велик|великоват\w*"
    r"|большеват\w*|too big|too large|too loose)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[\w'’]+(?:[.,]5)?")


@dataclass(frozen=True)
class Variant:
    size: str | None
    color: str | None

    def encode(self) -> str:
        return f"{self.size or ''}/{self.color or ''}"

    @classmethod
    def decode(cls, value: Any) -> Variant | None:
        if not value or "/" not in str(value):
            return None
        size, _, color = str(value).partition("/")
        return cls(size or None, color or None)

    @classmethod
    def of(cls, item: OrderItem) -> Variant:
        return cls(item.size, item.color)

    def applied_to(self, item: OrderItem) -> Variant:
        """The variant the shopper gets: what they named, the rest as they have it."""
        return Variant(self.size or item.size, self.color or item.color)

    def label(self, lang: str) -> str:
        color = COLOR_NAMES.get(self.color or "", {}).get(lang, self.color)
        return ", ".join(part for part in (self.size, color) if part) or "—"


def exchange_message(tracker: Tracker) -> dict[str, Any]:
    """The shopper's message that asked for the exchange (its text and entities):
    later messages may only be the order number or the phone's digits."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parsed = event.get("parse_data") or {}
        if (parsed.get("intent") or {}).get("name") == INTENT:
            return {"text": event.get("text") or "", **parsed}
    return dict(tracker.latest_message or {})


def entity_values(message: dict[str, Any], name: str) -> list[str]:
    return [
        str(e.get("value"))
        for e in message.get("entities") or []
        if e.get("entity") == name and e.get("value")
    ]


def item_title(item: OrderItem, lang: str) -> str:
    return item.title_en if lang == "en" else item.title_ru


def pick_item(items: Iterable[OrderItem], message: dict[str, Any]) -> OrderItem | None:
    """The item a message names: a button's SKU, the only item, or the one whose
    title shares the most words with the product or the message."""
    items = tuple(items)
    skus = entity_values(message, ITEM)
    chosen = [i for i in items if i.sku in skus]
    if chosen:
        return chosen[0]
    if len(items) == 1:
        return items[0]
    words = " ".join(entity_values(message, "product")) or message.get("text") or ""
    return match_item(items, words)


def match_item(items: Iterable[OrderItem], words: str) -> OrderItem | None:
    wanted = set(stems(words))
    scored = []
    for item in items:
        title = set(stems(f"{item.title_ru} {item.title_en}"))
        score = sum(1 for w in wanted if any(same_word(w, t) for t in title))
        scored.append((score, item))
    scored.sort(key=lambda pair: -pair[0])
    if not scored or scored[0][0] == 0:
        return None
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None
    return scored[0][1]


def item_from_answer(items: Iterable[OrderItem], answer: str) -> OrderItem | None:
    """An answer to "which item?": the SKU (button), its number, or its name."""
    items = tuple(items)
    answer = answer.strip()
    by_sku = [i for i in items if i.sku.lower() == answer.lower()]
    if by_sku:
        return by_sku[0]
    if answer.isdigit() and 1 <= int(answer) <= len(items):
        return items[int(answer) - 1]
    return match_item(items, answer)


def wanted_variant(
    message: dict[str, Any],
    item: OrderItem,
    sizes: list[str],
    answer: bool = False,
) -> Variant | None:
    """The size and colour asked for; ``None`` when the message names neither.

    ``answer``: the message replies to "which size or colour?", so a bare "43" or
    "чёрный" counts; in the first message only entities and "размер 43" do.
    """
    text = message.get("text") or ""
    size = _first(normalize_size(v) for v in entity_values(message, "size"))
    if size is None:
        size = _first(normalize_size(a or b) for a, b in _EXPLICIT_SIZE.findall(text))
    color = _first(normalize_color(v) for v in entity_values(message, "color"))
    if answer and not text.startswith("/"):
        tokens = _TOKEN.findall(text)
        size = size or _first(normalize_size(t) for t in tokens)
        color = color or _first(normalize_color(t) for t in tokens)
    if size is None:
        size = _relative_size(text, item, sizes)
    if size is None and color is None:
        return None
    return Variant(size, color)


def _relative_size(text: str, item: OrderItem, sizes: list[str]) -> str | None:
    """ "На размер больше": the next size up (or down) of those the product has."""
    bigger, smaller = bool(_BIGGER.search(text)), bool(_SMALLER.search(text))
    if bigger == smaller or item.size not in sizes:
        return None
    index = sizes.index(item.size) + (1 if bigger else -1)
    return sizes[index] if 0 <= index < len(sizes) else None


def _first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


async def find_product(orders: OrderSource, item: OrderItem) -> Product | None:
    """The item's product in the source's catalogue, for its stock; ``None`` where
    the source has no catalogue (stock is then the shop's to check)."""
    for query in (item.title_ru, item.title_en):
        try:
            products = await orders.find_products(query)
        except OrderSourceError:
            return None
        found = next((p for p in products if p.sku == item.sku), None)
        if found is not None:
            return found
    return None


def product_sizes(product: Product | None) -> list[str]:
    if product is None:
        return []
    return sorted({s.size for s in product.stock if s.size}, key=size_order)
