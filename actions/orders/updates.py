"""Order updates in the dialog: the offer after a status, the yes, the update
itself when the shop moves the order on, and "stop".

The offer ("Сообщать об изменениях заказа?") follows the status of an order that
is still moving, once per order and conversation, on the channels where the bot
can speak first (messengers, web chat and the app; not REST, whose caller only
hears replies to its own requests, nor Alice). A yes is resolved by
``actions/pending.py`` (``follow:<source>|<order>``) and checked again before the
follow is stored. The update (``EXTERNAL_order_status_changed``, queued by
``actions/proactive/order_updates.py``) is re-read from the source: an update
overtaken by a newer state says nothing. A verified conversation gets the full
status, anyone else the coarse one (``actions/privacy.py``), then how to stop.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.context import Turn
from actions.integrations.base import (
    AmbiguousOrder,
    Order,
    OrderSourceError,
    OrderState,
)
from actions.orders.lookup import find_order, order_access
from actions.orders.slots import PENDING, SOURCE
from actions.privacy import Access, PrivacyPolicy, is_verified
from actions.services import get_services

logger = logging.getLogger(__name__)

# Channels where the bot may write first (trigger_intent to the latest channel).
PUSH_CHANNELS = frozenset({"telegram", "vk", "whatsapp", "viber", "socketio"})
FINAL_STATES = frozenset({OrderState.DELIVERED, OrderState.CANCELLED})
FOLLOW = "follow"
UPDATES = "updates"


def _offered_before(tracker: Tracker, order_id: str) -> bool:
    for event in tracker.events:
        if event.get("event") == "slot" and event.get("name") == PENDING:
            value = event.get("value") or ""
            if value.startswith(f"{FOLLOW}:") and value.endswith(f"|{order_id}"):
                return True
    return False


async def offer_updates(order: Order, turn: Turn) -> list[EventType]:
    """After a verified status: asks whether to report changes, when it makes
    sense to; the events that record the question."""
    tracker = turn.tracker
    if order.state in FINAL_STATES:
        return []
    if tracker.get_latest_input_channel() not in PUSH_CHANNELS:
        return []
    if _offered_before(tracker, order.order_id):
        return []
    updates = turn.services.order_updates
    if await updates.followers.follows(tracker.sender_id, order.order_id):
        return []
    turn.say("utter_offer_order_updates", order_id=order.order_id)
    source = tracker.get_slot(SOURCE) or ""
    return [SlotSet(PENDING, f"{FOLLOW}:{source}|{order.order_id}")]


async def follow_confirmed(subject: str, turn: Turn) -> list[EventType]:
    """The shopper said yes to the offer. The pending slot is the tracker's word:
    the order must exist and this conversation must still see it in full."""
    source, _, order_id = subject.partition("|")
    services = turn.services
    try:
        order = await find_order(services, order_id, source or None)
    except (OrderSourceError, AmbiguousOrder):
        order = None
    if (
        order is None
        or await order_access(services, order, turn.tracker) is not Access.GRANTED
    ):
        logger.warning("orders.follow_refused", extra={"order_id": order_id})
        turn.say("utter_how_can_help")
        return []
    await services.order_updates.followers.follow(
        turn.tracker.sender_id, order.order_id, source, state=order.state.value
    )
    logger.info("orders.followed", extra={"order_id": order.order_id})
    turn.say("utter_order_updates_on", order_id=order.order_id)
    return []


class ActionOrderUpdate(Action):
    """Answers ``EXTERNAL_order_status_changed`` (the rule in data/rules)."""

    def name(self) -> str:
        return "action_order_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        services = get_services()
        turn = Turn(dispatcher, tracker, services, language(tracker))
        entities = {
            e.get("entity"): e.get("value")
            for e in tracker.latest_message.get("entities") or []
        }
        order_id = str(entities.get("order_id") or "")
        told_state = str(entities.get("order_state") or "")
        try:
            order = await find_order(services, order_id) if order_id else None
        except (OrderSourceError, AmbiguousOrder):
            order = None
        if order is None or order.state.value != told_state:
            # Gone, unreadable now, or moved on again: the newer state has a
            # notice of its own, so this one says nothing.
            logger.info(
                "orders.update_stale",
                extra={"order_id": order_id, "order_state": told_state},
            )
            return []
        policy = PrivacyPolicy(services.settings.order_privacy)
        if is_verified(policy, order, tracker):
            turn.say(
                f"utter_order_status_{order.state.value}",
                order_id=order.order_id,
                eta=turn.date(order.expected_delivery),
                delivered=turn.date(order.delivered_at),
                total=turn.money(order.total, order.currency),
                carrier=order.carrier or "—",
                tracking=order.tracking_number or "—",
                address=order.address,
            )
        else:
            turn.say(f"utter_order_brief_{order.state.value}", order_id=order_id)
        turn.say("utter_order_updates_stop_hint")
        return [SlotSet(PENDING, f"{UPDATES}:{order.order_id}")]


async def stop_updates(turn: Turn) -> list[EventType]:
    stopped = await turn.services.order_updates.followers.unfollow_all(
        turn.tracker.sender_id
    )
    logger.info("orders.updates_stopped", extra={"follows": stopped})
    turn.say("utter_order_updates_stopped")
    return []


class ActionStopOrderUpdates(Action):
    """ "Стоп" / "no more updates", or the button under an update."""

    def name(self) -> str:
        return "action_stop_order_updates"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn(dispatcher, tracker, get_services(), language(tracker))
        return [SlotSet(PENDING, None), *await stop_updates(turn)]
