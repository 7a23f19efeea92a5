"""Complaints and requests for a human."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language, latest_entity
from actions.context import Turn
from actions.services import get_services
from common.order_ids import normalize

logger = logging.getLogger(__name__)

# The operator queue in api/ follows this slot: requested -> active -> None.
HANDOFF_SLOT = "handoff"
HANDOFF_REQUESTED = "requested"
HANDOFF_ACTIVE = "active"


async def start_handoff(turn: Turn, reason: str) -> list[EventType]:
    ticket = await turn.services.support.request_handoff(
        turn.tracker.sender_id,
        reason,
        turn.tracker.latest_message.get("text"),
        turn.lang,
    )
    logger.info(
        "support.handoff_requested",
        extra={"sender_id": turn.tracker.sender_id, "ticket": ticket.ticket_id},
    )
    profile = await turn.services.shop_profile.refresh()
    if profile.operators_working is False and profile.operators_next_at:
        # The Shop page's hours: nobody is on now, say when someone will be.
        back = profile.operators_next_at
        turn.say(
            "utter_handoff_after_hours",
            ticket=ticket.ticket_id,
            day=turn.date(back),
            time=f"{back:%H:%M}",
            timezone=back.tzname() or "",
        )
    else:
        turn.say("utter_handoff", ticket=ticket.ticket_id)
    return [SlotSet("pending", None), SlotSet(HANDOFF_SLOT, HANDOFF_REQUESTED)]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn(dispatcher, tracker, get_services(), language(tracker))
        return await start_handoff(turn, reason="asked")


class ActionRecordComplaint(Action):
    def name(self) -> str:
        return "action_record_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn(dispatcher, tracker, get_services(), language(tracker))
        order_id = normalize(latest_entity(tracker, "order_id"))
        ticket = await turn.services.support.record_complaint(
            tracker.sender_id,
            tracker.latest_message.get("text") or "",
            turn.lang,
            order_id.value if order_id else tracker.get_slot("order_id"),
        )
        logger.info("support.complaint_recorded", extra={"ticket": ticket.ticket_id})
        turn.say("utter_complaint_recorded", ticket=ticket.ticket_id)
        turn.say("utter_offer_human")
        return []
