"""Small helpers every action module shares: language, dates and money."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from rasa_sdk import Tracker

from actions.services import get_services
from common.language import ENGLISH, conversation_language


def language(tracker: Tracker) -> str:
    """The shopper's language, decided exactly as the Rasa side decides it."""
    texts = (
        event.get("text")
        for event in reversed(tracker.events)
        if event.get("event") == "user"
    )
    return conversation_language(texts, get_services().settings.default_language)


def format_date(value: date | datetime | None, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.date()
    return (
        value.strftime("%b %d, %Y") if lang == ENGLISH else value.strftime("%d.%m.%Y")
    )


def format_money(amount: int, currency: str, lang: str) -> str:
    if lang == ENGLISH:
        return f"{amount:,} {currency}"
    symbol = "₽" if currency == "RUB" else currency
    return f"{amount:,} {symbol}".replace(",", "\u00a0")


def latest_entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)
