"""Projects events onto the `handoffs` table: the `handoff` slot opens, activates
and closes a handoff, and `EXTERNAL_handoff_taken` names its operator."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.models import Conversation, Handoff


def open_handoff(session: Session, conversation: Conversation) -> Handoff | None:
    return session.scalar(
        select(Handoff)
        .where(
            Handoff.conversation_id == conversation.id,
            Handoff.status.in_(("waiting", "active")),
        )
        .order_by(Handoff.id.desc())
        .limit(1)
    )


def taken(session: Session, conversation: Conversation, operator: object) -> None:
    handoff = open_handoff(session, conversation)
    if handoff is not None and operator:
        handoff.operator = str(operator)[:128]


def slot_set(
    session: Session, conversation: Conversation, timestamp: float, value: object
) -> None:
    """`requested` queues a handoff, `active` marks it taken, None closes it."""
    handoff = open_handoff(session, conversation)
    if value == "requested":
        if handoff is None:
            session.add(
                Handoff(
                    conversation_id=conversation.id,
                    sender_id=conversation.sender_id,
                    status="waiting",
                    requested_at=timestamp,
                )
            )
        conversation.handoff = True
    elif value == "active":
        if handoff is None:
            handoff = Handoff(
                conversation_id=conversation.id,
                sender_id=conversation.sender_id,
                status="active",
                requested_at=timestamp,
            )
            session.add(handoff)
        handoff.status = "active"
        if handoff.taken_at is None:
            handoff.taken_at = timestamp
        conversation.handoff = True
    elif value is None and handoff is not None:
        handoff.status = "closed"
        handoff.closed_at = timestamp
