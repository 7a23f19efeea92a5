"""What an order handler needs for one turn, gathered once by the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import format_date, format_money
from actions.services import Services


@dataclass(frozen=True)
class Turn:
    dispatcher: CollectingDispatcher
    tracker: Tracker
    services: Services
    lang: str

    def say(self, response: str, **params: Any) -> None:
        self.dispatcher.utter_message(response=response, **params)

    def date(self, value: Any) -> str:
        return format_date(value, self.lang)

    def money(self, amount: int, currency: str) -> str:
        return format_money(amount, currency, self.lang)
