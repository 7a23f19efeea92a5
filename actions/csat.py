"""Customer satisfaction: a 1-5 rating asked once per conversation at its end.

The ``csat`` slot carries the score into Rasa's events, where api/ counts it.
"""

from __future__ import annotations

import logging
import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_entity

logger = logging.getLogger(__name__)

CSAT_SLOT = "csat"
# A rating is one digit 1-5 standing alone ("5", "ставлю 4", "4/5", "5 звёзд").
_SCORE = re.compile(r"(?<![\d.,])([1-5])(?!\d|[.,]\d)")
# Asking only makes sense after the shopper was actually helped with something.
MIN_SHOPPER_MESSAGES = 2


def parse_score(text: str | None) -> int | None:
    """The rating in a shopper's message, or None when there is none or several."""
    if not text:
        return None
    scores = set(_SCORE.findall(text))
    if len(scores) != 1:
        return None
    return int(scores.pop())


def _shopper_messages(tracker: Tracker) -> int:
    return sum(
        1
        for event in tracker.events
        if event.get("event") == "user"
        and not (event.get("metadata") or {}).get("is_external")
    )


class ActionAskCsat(Action):
    def name(self) -> str:
        return "action_ask_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(CSAT_SLOT) is not None:
            return []
        if _shopper_messages(tracker) < MIN_SHOPPER_MESSAGES:
            return []
        dispatcher.utter_message(response="utter_ask_csat")
        return []


class ActionRecordCsat(Action):
    def name(self) -> str:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        entity = latest_entity(tracker, CSAT_SLOT)
        score = parse_score(str(entity)) if entity is not None else None
        if score is None:
            score = parse_score(tracker.latest_message.get("text"))
        if score is None:
            dispatcher.utter_message(response="utter_csat_invalid")
            return []
        logger.info("csat.recorded", extra={"sender_id": tracker.sender_id})
        dispatcher.utter_message(
            response="utter_csat_thanks_low" if score <= 3 else "utter_csat_thanks"
        )
        return [SlotSet(CSAT_SLOT, score)]
