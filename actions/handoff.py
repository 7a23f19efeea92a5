"""The operator side of a human handoff, driven by the api service.

The dashboard's operator console calls Rasa's ``trigger_intent`` with
``EXTERNAL_handoff_taken``, ``EXTERNAL_operator_message`` and
``EXTERNAL_handoff_returned`` (contract in api/README.md). These actions tell the
shopper, relay the operator's words and move the ``handoff`` slot; while it is
``active`` bot.dialogue.policies.HandoffPolicy keeps the bot silent.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_entity
from actions.support import HANDOFF_ACTIVE, HANDOFF_SLOT

logger = logging.getLogger(__name__)

# The web chat widget shows a "talking to a person" indicator from this message;
# messenger channels get the text only.
WEB_CHAT_CHANNEL = "socketio"


def _operator(tracker: Tracker) -> str:
    return str(latest_entity(tracker, "operator") or "").strip()[:60]


def _indicator(tracker: Tracker, payload: dict[str, Any]) -> dict[str, Any] | None:
    if tracker.get_latest_input_channel() != WEB_CHAT_CHANNEL:
        return None
    return payload


class ActionHandoffTaken(Action):
    def name(self) -> str:
        return "action_handoff_taken"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        operator = _operator(tracker)
        if operator:
            dispatcher.utter_message(
                response="utter_operator_joined", operator=operator
            )
        else:
            dispatcher.utter_message(response="utter_operator_joined_anonymous")
        indicator = _indicator(
            tracker, {"easyflow_handoff": HANDOFF_ACTIVE, "operator": operator}
        )
        if indicator:
            dispatcher.utter_message(json_message=indicator)
        logger.info("handoff.taken", extra={"sender_id": tracker.sender_id})
        return [SlotSet(HANDOFF_SLOT, HANDOFF_ACTIVE), SlotSet("pending", None)]


class ActionOperatorMessage(Action):
    def name(self) -> str:
        return "action_operator_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str(latest_entity(tracker, "operator_text") or "").strip()
        if not text:
            logger.warning("handoff.empty_operator_message")
            return []
        dispatcher.utter_message(response="utter_operator_message", operator_text=text)
        logger.info("handoff.operator_message", extra={"sender_id": tracker.sender_id})
        # An operator who writes without "taking" the conversation first still
        # gets the bot out of the way.
        if tracker.get_slot(HANDOFF_SLOT) != HANDOFF_ACTIVE:
            return [SlotSet(HANDOFF_SLOT, HANDOFF_ACTIVE)]
        return []


class ActionHandoffReturned(Action):
    def name(self) -> str:
        return "action_handoff_returned"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # The indicator first: the widget styles what follows as the bot's again.
        indicator = _indicator(tracker, {"easyflow_handoff": "ended"})
        if indicator:
            dispatcher.utter_message(json_message=indicator)
        dispatcher.utter_message(response="utter_handoff_ended")
        logger.info("handoff.returned", extra={"sender_id": tracker.sender_id})
        return [SlotSet(HANDOFF_SLOT, None)]
