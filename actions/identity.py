"""The shopper's verified phone, and "мои заказы" without a number.

A phone counts only when a channel vouches for it: the WhatsApp sender's own
number (``privacy.channel_phone``), or a Telegram contact shared through the
``request_contact`` button, which the Telegram connector marks ``own`` only when
the contact's ``user_id`` is the sender's (``connectors/telegram.py``); a contact
card of someone else, or a "contact" arriving through any other channel (REST
metadata, web chat), links nothing. The linked phone is kept in the
conversation (the ``linked_phone`` slot, set only here) and is also a factor of
order privacy: that buyer's orders need no digit question.

"Мои заказы" lists the phone's recent orders from every source that can search
by phone: the demo store, Bitrix24 (the CRM contacts with the phone, their deals
or store orders) and Shopify (the customers with the phone, their orders); the
router merges them newest first and skips a source that fails while another
answers. Wildberries and Ozon give sellers no buyer contacts, so the shopper is
asked for the number there. The listed orders count as verified for the
conversation, including a deal or Shopify order that carries no phone of its own.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.context import Turn
from actions.integrations.base import OperationUnsupported, OrderSourceError
from actions.privacy import LINKED_PHONE_SLOT, VERIFIED_SLOT, channel_phone
from actions.services import get_services

logger = logging.getLogger(__name__)
TELEGRAM = "telegram"


def _latest_user_metadata(tracker: Tracker) -> dict[str, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata = event.get("metadata")
            return metadata if isinstance(metadata, dict) else {}
    return {}


def shared_own_phone(tracker: Tracker) -> str | None:
    """The phone of the contact just shared, when Telegram says it is the
    sender's own; ``None`` otherwise."""
    sender = tracker.sender_id or ""
    if not sender.startswith(f"{TELEGRAM}:"):
        return None
    if tracker.get_latest_input_channel() != TELEGRAM:
        return None
    media = _latest_user_metadata(tracker).get("media")
    contact = media[0] if isinstance(media, list) and media else None
    if not isinstance(contact, dict) or contact.get("kind") != "contact":
        return None
    if contact.get("channel") != TELEGRAM or contact.get("own") is not True:
        return None
    digits = re.sub(r"\D", "", str(contact.get("phone_number") or ""))
    return digits if len(digits) >= 10 else None


async def list_orders(turn: Turn, phone: str) -> list[EventType]:
    """The phone's recent orders, each with its coarse state; they count as
    verified for this conversation (the phone matched theirs)."""
    try:
        orders = await turn.services.orders.orders_by_phone(phone)
    except OperationUnsupported:
        turn.say("utter_my_orders_no_contacts")
        return []
    except OrderSourceError:
        logger.exception("identity.orders_failed")
        turn.say("utter_order_source_unavailable")
        return []
    logger.info("identity.orders_listed", extra={"count": len(orders)})
    if not orders:
        turn.say("utter_my_orders_none")
        return []
    turn.say("utter_my_orders_header", count=len(orders))
    for order in orders:
        turn.say(f"utter_order_brief_{order.state.value}", order_id=order.order_id)
    turn.say("utter_my_orders_footer")
    verified = list(turn.tracker.get_slot(VERIFIED_SLOT) or [])
    verified += [o.order_id for o in orders if o.order_id not in verified]
    return [SlotSet(VERIFIED_SLOT, verified)]


class ActionMyOrders(Action):
    """ "Мои заказы" / "my orders"."""

    def name(self) -> str:
        return "action_my_orders"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn(dispatcher, tracker, get_services(), language(tracker))
        phone = channel_phone(tracker)
        if phone:
            return await list_orders(turn, phone)
        if tracker.get_latest_input_channel() == TELEGRAM:
            turn.say("utter_ask_share_contact")  # a request_contact keyboard
        else:
            turn.say("utter_my_orders_need_number")
        return []


class ActionLinkContact(Action):
    """A contact shared on Telegram: linked when it is the shopper's own, then
    their orders."""

    def name(self) -> str:
        return "action_link_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        turn = Turn(dispatcher, tracker, get_services(), language(tracker))
        phone = shared_own_phone(tracker)
        if phone is None:
            logger.warning("identity.contact_refused")
            turn.say("utter_contact_not_own")
            return []
        logger.info("identity.phone_linked")
        turn.say("utter_contact_linked")
        return [SlotSet(LINKED_PHONE_SLOT, phone), *await list_orders(turn, phone)]
