"""One operator reply, one `events` row: the api's own record of a reply sent
from the dashboard, Rasa's `EXTERNAL_operator_message` event and the bot
utterance repeating the text are recognised as the same message within a
minute, so transcripts and counts show it once."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.models import Conversation, Event
from easyflow_api.services.projection.rasa_events import event_hash, normalise_text

OPERATOR_ECHO_WINDOW_S = 60.0


def recent_operator_message(
    session: Session, conversation_id: int, text: str, timestamp: float
) -> Event | None:
    return session.scalar(
        select(Event)
        .where(
            Event.conversation_id == conversation_id,
            Event.actor == "operator",
            Event.text == text,
            Event.timestamp >= timestamp - OPERATOR_ECHO_WINDOW_S,
        )
        .limit(1)
    )


def is_echo(session: Session, conversation: Conversation, row: Event) -> bool:
    """A bot message repeating an operator reply the api already recorded
    (only the first repeat: a second identical bot message is the bot's own)."""
    candidate = session.scalar(
        select(Event.id)
        .where(
            Event.conversation_id == conversation.id,
            Event.actor == "operator",
            Event.text == row.text,
            Event.timestamp >= row.timestamp - OPERATOR_ECHO_WINDOW_S,
        )
        .limit(1)
    )
    if candidate is None:
        return False
    echoes = session.scalar(
        select(Event.id)
        .where(
            Event.conversation_id == conversation.id,
            Event.actor == "operator_echo",
            Event.text == row.text,
            Event.timestamp >= row.timestamp - OPERATOR_ECHO_WINDOW_S,
        )
        .limit(1)
    )
    return echoes is None


def external_message(
    session: Session,
    conversation: Conversation,
    row: Event,
    text: object,
    operator: object,
) -> None:
    """Rasa's `EXTERNAL_operator_message`: the operator's text when no record of
    it exists yet (sent by another tool, or ingested before the api's own
    record), otherwise a textless system event."""
    if (
        isinstance(text, str)
        and text
        and not recent_operator_message(session, conversation.id, text, row.timestamp)
    ):
        row.actor = "operator"
        row.text = text
        row.text_norm = normalise_text(text)
        row.action = str(operator)[:128] if operator else None
    else:
        row.text = None


def record_operator_message(
    session: Session, conversation: Conversation, operator: str, text: str
) -> Event:
    """Stores an operator reply sent through the api, once: if ingestion already
    stored it from Rasa's EXTERNAL_operator_message event, that row is returned.
    Rasa's bot utterance repeating the text is then marked as an echo."""
    now = time.time()
    existing = recent_operator_message(session, conversation.id, text, now)
    if existing is not None:
        return existing
    payload = {
        "event": "operator",
        "sender_id": conversation.sender_id,
        "timestamp": now,
        "operator": operator,
        "text": text,
        "nonce": uuid.uuid4().hex,
    }
    row = Event(
        hash=event_hash(payload),
        source="api",
        conversation_id=conversation.id,
        sender_id=conversation.sender_id,
        timestamp=now,
        kind="operator",
        actor="operator",
        text=text,
        text_norm=normalise_text(text),
        action=operator[:128],
    )
    conversation.last_event_at = max(conversation.last_event_at, now)
    session.add(row)
    session.flush()
    return row
