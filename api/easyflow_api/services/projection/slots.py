"""Projects `slot` events: the event row keeps the slot's name and value, and
the slots the analytics follow reach their table (`language` and `csat` the
conversation, `payment_link` the payments, `handoff` the handoffs)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from easyflow_api.models import Conversation, Event
from easyflow_api.services.projection import conversations, handoffs, payments


def project(
    session: Session, conversation: Conversation, row: Event, event: dict[str, Any]
) -> None:
    name = str(event.get("name") or "")[:128]
    value = event.get("value")
    row.slot_name = name
    row.slot_value = value
    if name == "language":
        conversations.set_language(conversation, value)
    elif name == "csat":
        conversations.set_csat(conversation, value)
    elif name == "payment_link" and value:
        payments.link_sent(session, conversation, row.timestamp, value)
    elif name == "handoff":
        handoffs.slot_set(session, conversation, row.timestamp, value)
