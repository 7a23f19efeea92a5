"""The one entry point of the projection: `Projector.apply` stores a Rasa event
once and hands it, by kind, to the projectors of the tables it changes.

Every event is stored once, keyed by the SHA-256 of its canonical JSON (Rasa 3.6
events carry no id). The caller commits; the event row, its projections and the
source checkpoint go in one transaction, so a crash before the commit replays the
whole batch and a redelivery after it finds the hash and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.models import Conversation, Event
from easyflow_api.services.projection import (
    conversations,
    handoffs,
    inbox,
    operator_echoes,
    payments,
    slots,
)
from easyflow_api.services.projection.rasa_events import (
    FALLBACK_ACTIONS,
    FALLBACK_INTENT,
    IGNORED_ACTIONS,
    OPERATOR_UTTERANCE,
    event_hash,
    guess_language,
    normalise_text,
)

logger = logging.getLogger(__name__)

KindHandler = Callable[[Session, Conversation, Event, dict[str, Any]], None]


@dataclass(frozen=True)
class IngestResult:
    stored: bool
    kind: str


class Projector:
    """Applies Rasa events to the api database within the caller's session."""

    def __init__(self, low_confidence: float) -> None:
        self.low_confidence = low_confidence
        self._kinds: dict[str, KindHandler] = {
            "user": self._user,
            "bot": _bot,
            "action": _action,
            "slot": slots.project,
        }

    def apply(
        self, session: Session, event: dict[str, Any], source: str
    ) -> IngestResult:
        kind = str(event.get("event") or "unknown")[:64]
        sender_id = event.get("sender_id")
        timestamp = event.get("timestamp")
        if not isinstance(sender_id, str) or not isinstance(timestamp, int | float):
            logger.warning(
                "ingest.event.invalid", extra={"source": source, "kind": kind}
            )
            return IngestResult(stored=False, kind=kind)
        digest = event_hash(event)
        if session.scalar(select(Event.id).where(Event.hash == digest)) is not None:
            return IngestResult(stored=False, kind=kind)
        timestamp = float(timestamp)
        row = Event(
            hash=digest,
            source=source,
            sender_id=sender_id[:255],
            timestamp=timestamp,
            kind=kind,
        )
        conversation: Conversation | None
        if kind == "session_started":
            conversation = conversations.start(session, sender_id, timestamp)
        elif kind == "action" and event.get("name") == "action_session_start":
            conversation = None
        else:
            conversation = conversations.at(session, sender_id, timestamp)
        if conversation is not None:
            row.conversation_id = conversation.id
            conversation.last_event_at = max(conversation.last_event_at, timestamp)
            handler = self._kinds.get(kind)
            if handler is not None:
                handler(session, conversation, row, event)
        session.add(row)
        session.flush()
        return IngestResult(stored=True, kind=kind)

    def _user(
        self,
        session: Session,
        conversation: Conversation,
        row: Event,
        event: dict[str, Any],
    ) -> None:
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        name = intent.get("name") if isinstance(intent, dict) else None
        confidence = intent.get("confidence") if isinstance(intent, dict) else None
        text = event.get("text")
        row.text = text if isinstance(text, str) else None
        row.text_norm = normalise_text(row.text) if row.text else None
        row.intent = str(name)[:128] if name else None
        row.confidence = (
            float(confidence) if isinstance(confidence, int | float) else None
        )
        row.entities = parse.get("entities") if isinstance(parse, dict) else None
        channel = event.get("input_channel")
        row.channel = str(channel)[:32] if channel else None
        if row.intent and row.intent.startswith("EXTERNAL_"):
            row.actor = "system"
            _external(session, conversation, row)
            return
        row.actor = "user"
        row.language = conversation.language or (
            guess_language(row.text) if row.text else None
        )
        row.fallback = row.intent == FALLBACK_INTENT
        conversations.count_user_turn(conversation, row)
        if inbox.misunderstood(row, self.low_confidence):
            inbox.add(session, conversation, row, parse)


def _external(session: Session, conversation: Conversation, row: Event) -> None:
    """An `EXTERNAL_*` intent sent through Rasa's authenticated trigger_intent."""
    entities = {
        e.get("entity"): e.get("value")
        for e in (row.entities or [])
        if isinstance(e, dict)
    }
    if row.intent == "EXTERNAL_payment_received":
        payments.received(session, row, entities.get("order_id"))
    elif row.intent == "EXTERNAL_handoff_taken":
        handoffs.taken(session, conversation, entities.get("operator"))
    elif row.intent == "EXTERNAL_operator_message":
        operator_echoes.external_message(
            session,
            conversation,
            row,
            entities.get("operator_text"),
            entities.get("operator"),
        )


def _bot(
    session: Session, conversation: Conversation, row: Event, event: dict[str, Any]
) -> None:
    text = event.get("text")
    row.text = text if isinstance(text, str) else None
    metadata = event.get("metadata") or {}
    utter = metadata.get("utter_action") if isinstance(metadata, dict) else None
    row.action = str(utter)[:128] if utter else None
    if row.text and operator_echoes.is_echo(session, conversation, row):
        row.actor = "operator_echo"
        return
    if row.text and row.action == OPERATOR_UTTERANCE:
        row.actor = "operator"  # relayed operator text with no record of its own
        row.text_norm = normalise_text(row.text)
        return
    row.actor = "bot"
    conversations.count_bot_reply(conversation, row)


def _action(
    session: Session, conversation: Conversation, row: Event, event: dict[str, Any]
) -> None:
    name = str(event.get("name") or "")[:128]
    row.action = name or None
    row.actor = None if name in IGNORED_ACTIONS else "action"
    if name in FALLBACK_ACTIONS:
        conversations.count_fallback_action(session, conversation, row)
