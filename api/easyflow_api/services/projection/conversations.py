"""Projects events onto the `conversations` table: which conversation an event
belongs to, and the per-conversation figures (turns, fallbacks, channel,
language, first reply time, CSAT) the analytics read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.models import Conversation, Event
from easyflow_api.services.projection.rasa_events import as_rating, utc_day


def start(session: Session, sender_id: str, timestamp: float) -> Conversation:
    conversation = Conversation(
        sender_id=sender_id[:255],
        started_at=timestamp,
        day=utc_day(timestamp),
        last_event_at=timestamp,
        turns=0,
        fallbacks=0,
        handoff=False,
        reviewed=False,
    )
    session.add(conversation)
    session.flush()
    return conversation


def at(session: Session, sender_id: str, timestamp: float) -> Conversation:
    """The session the event belongs to: the latest one started before it.

    Events before any `session_started` (sessions disabled, or history
    older than the api) open an implicit conversation at the event.
    """
    conversation = session.scalar(
        select(Conversation)
        .where(
            Conversation.sender_id == sender_id[:255],
            Conversation.started_at <= timestamp,
        )
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    if conversation is None:
        conversation = start(session, sender_id, timestamp)
    return conversation


def count_user_turn(conversation: Conversation, row: Event) -> None:
    """A shopper's message: one more turn, a fallback, the first channel,
    language and message time."""
    conversation.turns += 1
    if row.fallback:
        conversation.fallbacks += 1
    if conversation.channel is None and row.channel:
        conversation.channel = row.channel
    if conversation.language is None and row.language:
        conversation.language = row.language
    if conversation.first_user_at is None:
        conversation.first_user_at = row.timestamp


def count_bot_reply(conversation: Conversation, row: Event) -> None:
    """The first bot message after the shopper's first one sets the reply time."""
    if (
        conversation.first_reply_ms is None
        and conversation.first_user_at is not None
        and row.timestamp >= conversation.first_user_at
    ):
        conversation.first_reply_ms = round(
            (row.timestamp - conversation.first_user_at) * 1000
        )


def count_fallback_action(
    session: Session, conversation: Conversation, row: Event
) -> None:
    """A fallback action marks the shopper turn it answered as a fallback, once."""
    turn = session.scalar(
        select(Event)
        .where(
            Event.conversation_id == conversation.id,
            Event.actor == "user",
            Event.timestamp <= row.timestamp,
        )
        .order_by(Event.timestamp.desc(), Event.id.desc())
        .limit(1)
    )
    if turn is not None and not turn.fallback:
        turn.fallback = True
        conversation.fallbacks += 1


def set_language(conversation: Conversation, value: object) -> None:
    if value in ("ru", "en"):
        conversation.language = value  # type: ignore[assignment]


def set_csat(conversation: Conversation, value: object) -> None:
    rating = as_rating(value)
    if rating is not None:
        conversation.csat = rating
