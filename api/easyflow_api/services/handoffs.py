"""Operator queue: handoffs projected from the `handoff` slot, and the operator
actions (take, reply, release) sent to the shopper through Rasa's HTTP API."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.core.state import RasaApi
from easyflow_api.core.times import iso, iso_required
from easyflow_api.models import Conversation, Event, Handoff
from easyflow_api.services.projection import record_operator_message

MESSAGE_ACTORS = ("user", "bot", "operator")


class HandoffStateError(ValueError):
    """The handoff is not in a state that allows the operation."""


def may_act(handoff: Handoff, username: str, role: str) -> bool:
    """Reply and release belong to the operator who took the handoff through
    the api, or an admin. A handoff nobody took here (waiting, or taken
    outside the api) has no holder, so only an admin may release it; the
    operator name in Rasa's events is shopper-reachable text, never proof."""
    if role == "admin":
        return True
    return handoff.operator_username is not None and handoff.operator_username == (
        username
    )


def _last_message(session: Session, conversation_id: int) -> str | None:
    return session.scalar(
        select(Event.text)
        .where(
            Event.conversation_id == conversation_id,
            Event.actor.in_(MESSAGE_ACTORS),
            Event.text.is_not(None),
        )
        .order_by(Event.timestamp.desc(), Event.id.desc())
        .limit(1)
    )


def public(session: Session, handoff: Handoff) -> dict[str, object]:
    conversation = session.get(Conversation, handoff.conversation_id)
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "sender_id": handoff.sender_id,
        "channel": conversation.channel if conversation else None,
        "language": conversation.language if conversation else None,
        "status": handoff.status,
        "operator": handoff.operator,
        "requested_at": iso_required(handoff.requested_at),
        "taken_at": iso(handoff.taken_at),
        "closed_at": iso(handoff.closed_at),
        "last_message": _last_message(session, handoff.conversation_id),
    }


def list_handoffs(session: Session, status: str | None, limit: int) -> list[Handoff]:
    query = select(Handoff)
    if status:
        query = query.where(Handoff.status == status)
    return list(
        session.scalars(
            query.order_by(Handoff.requested_at.desc(), Handoff.id.desc()).limit(limit)
        ).all()
    )


def messages(session: Session, handoff: Handoff) -> list[dict[str, object]]:
    """The conversation's messages (shopper, bot, operator) in order."""
    rows = session.scalars(
        select(Event)
        .where(
            Event.conversation_id == handoff.conversation_id,
            Event.actor.in_(MESSAGE_ACTORS),
            Event.text.is_not(None),
        )
        .order_by(Event.timestamp, Event.id)
    ).all()
    return [
        {"timestamp": iso_required(e.timestamp), "actor": e.actor, "text": e.text}
        for e in rows
    ]


async def take(
    session: Session,
    rasa: RasaApi,
    handoff: Handoff,
    operator: str,
    username: str,
) -> None:
    if handoff.status != "waiting":
        raise HandoffStateError(f"handoff is {handoff.status}, not waiting")
    await rasa.trigger_intent(
        handoff.sender_id, "EXTERNAL_handoff_taken", {"operator": operator}
    )
    handoff.status = "active"
    handoff.operator = operator
    handoff.operator_username = username
    handoff.taken_at = time.time()


async def reply(
    session: Session, rasa: RasaApi, handoff: Handoff, operator: str, text: str
) -> Event:
    if handoff.status != "active":
        raise HandoffStateError(f"handoff is {handoff.status}, not active")
    await rasa.trigger_intent(
        handoff.sender_id,
        "EXTERNAL_operator_message",
        {"operator": operator, "operator_text": text},
    )
    conversation = session.get(Conversation, handoff.conversation_id)
    assert conversation is not None  # handoffs cascade with their conversation
    return record_operator_message(session, conversation, operator, text)


async def release(session: Session, rasa: RasaApi, handoff: Handoff) -> None:
    if handoff.status == "closed":
        raise HandoffStateError("handoff is already closed")
    await rasa.trigger_intent(handoff.sender_id, "EXTERNAL_handoff_returned", {})
    handoff.status = "closed"
    handoff.closed_at = time.time()
