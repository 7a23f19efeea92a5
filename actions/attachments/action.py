"""A photo or file from the shopper: linked to the return or order at hand.

The connector has already kept the file (``actions/attachments/store.py``) and
put its ``attachment_id`` into the message's ``media`` metadata. This action
links it to the return this conversation opened or found (the ``return_id``
slot, set by ``actions/returns.py``), else to an order this conversation has
verified, and tells the shopper where it went; the operator sees it on the
conversation in the dashboard. A file that was not kept (too large, another type,
the store unreachable) gets the old answer: words, please, and an operator.
Ids are only ever linked within their own conversation (``AttachmentStore.link``),
so metadata naming another conversation's file links nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import language
from actions.context import Turn
from actions.privacy import VERIFIED_SLOT
from actions.returns import RETURN_SLOT
from actions.services import get_services

logger = logging.getLogger(__name__)
KEPT_KINDS = ("photo", "document")
_MAX_IDS = 10


def attachment_ids(metadata: dict[str, Any]) -> list[str]:
    """The ids of the files the connector kept for this message."""
    media = metadata.get("media")
    if not isinstance(media, list):
        return []
    ids = [
        item["attachment_id"]
        for item in media
        if isinstance(item, dict)
        and isinstance(item.get("attachment_id"), str)
        and item.get("kind") in KEPT_KINDS
    ]
    return ids[:_MAX_IDS]


def _latest_user_metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = tracker.latest_message.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


class ActionReceiveAttachment(Action):
    def name(self) -> str:
        return "action_receive_attachment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        services = get_services()
        turn = Turn(dispatcher, tracker, services, language(tracker))
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        kind = "document" if intent.endswith("document") else "photo"
        ids = attachment_ids(_latest_user_metadata(tracker))
        order_id = tracker.get_slot("order_id")
        return_id = tracker.get_slot(RETURN_SLOT)
        verified = tracker.get_slot(VERIFIED_SLOT) or []
        if not ids:
            turn.say(f"utter_shopper_sent_{kind}")
            turn.say("utter_offer_human")
            return []
        if not (return_id and order_id) and order_id not in verified:
            order_id = return_id = None
        linked = await services.attachments.link(
            tracker.sender_id, ids, order_id, return_id
        )
        logger.info(
            "attachments.linked",
            extra={
                "count": len(linked),
                "order_id": order_id if linked else None,
                "return_id": return_id if linked else None,
            },
        )
        if not linked:  # ids of no file of this conversation
            turn.say(f"utter_shopper_sent_{kind}")
            turn.say("utter_offer_human")
        elif return_id:
            turn.say(
                "utter_attachment_on_return", return_id=return_id, order_id=order_id
            )
        elif order_id:
            turn.say("utter_attachment_on_order", order_id=order_id)
        else:
            turn.say("utter_attachment_kept")
            turn.say("utter_offer_human")
        return []
