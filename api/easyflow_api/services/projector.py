"""Projects one Rasa event onto the analytics tables, idempotently.

Every event is stored once, keyed by the SHA-256 of its canonical JSON (Rasa 3.6
events carry no id). The caller commits; the event row, its projections and the
source checkpoint go in one transaction, so a crash before the commit replays the
whole batch and a redelivery after it finds the hash and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.models import (
    Conversation,
    Event,
    Handoff,
    InboxItem,
    Payment,
)

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_llm_fallback"})
IGNORED_ACTIONS = frozenset({"action_listen", "action_session_start"})
OPERATOR_ECHO_WINDOW_S = 60.0
OPERATOR_UTTERANCE = "utter_operator_message"
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


def event_hash(event: dict[str, Any]) -> str:
    canonical = json.dumps(
        event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def normalise_text(text: str) -> str:
    """Casefolded, NFKC, single-spaced, without punctuation at the ends."""
    value = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    value = _SPACES.sub(" ", value).strip()
    return _EDGE_PUNCT.sub("", value)[:512]


def guess_language(text: str) -> str:
    return "ru" if _CYRILLIC.search(text) else "en"


def utc_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class IngestResult:
    stored: bool
    kind: str


class Projector:
    """Applies Rasa events to the api database within the caller's session."""

    def __init__(self, low_confidence: float) -> None:
        self.low_confidence = low_confidence

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
        if kind == "session_started":
            conversation = self._start_conversation(session, sender_id, timestamp)
        elif kind == "action" and event.get("name") == "action_session_start":
            conversation = None
        else:
            conversation = self._conversation_at(session, sender_id, timestamp)
        if conversation is not None:
            row.conversation_id = conversation.id
            conversation.last_event_at = max(conversation.last_event_at, timestamp)
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None and conversation is not None:
            handler(session, conversation, row, event)
        session.add(row)
        session.flush()
        return IngestResult(stored=True, kind=kind)

    # conversations -------------------------------------------------------

    def _start_conversation(
        self, session: Session, sender_id: str, timestamp: float
    ) -> Conversation:
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

    def _conversation_at(
        self, session: Session, sender_id: str, timestamp: float
    ) -> Conversation:
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
            conversation = self._start_conversation(session, sender_id, timestamp)
        return conversation

    # event kinds -----------------------------------------------------------

    def _on_user(
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
            self._on_external(session, conversation, row)
            return
        row.actor = "user"
        row.language = conversation.language or (
            guess_language(row.text) if row.text else None
        )
        row.fallback = row.intent == FALLBACK_INTENT
        conversation.turns += 1
        if row.fallback:
            conversation.fallbacks += 1
        if conversation.channel is None and row.channel:
            conversation.channel = row.channel
        if conversation.language is None and row.language:
            conversation.language = row.language
        if conversation.first_user_at is None:
            conversation.first_user_at = row.timestamp
        if row.text and (
            row.fallback
            or (row.confidence is not None and row.confidence < self.low_confidence)
        ):
            self._add_to_inbox(session, conversation, row, parse)

    def _on_external(
        self, session: Session, conversation: Conversation, row: Event
    ) -> None:
        entities = {
            e.get("entity"): e.get("value")
            for e in (row.entities or [])
            if isinstance(e, dict)
        }
        if row.intent == "EXTERNAL_payment_received":
            order_id = entities.get("order_id")
            if order_id:
                payment = session.scalar(
                    select(Payment)
                    .where(
                        Payment.sender_id == row.sender_id,
                        Payment.order_id == str(order_id),
                        Payment.paid_at.is_(None),
                    )
                    .order_by(Payment.link_sent_at.desc())
                    .limit(1)
                )
                if payment is not None:
                    payment.paid_at = row.timestamp
        elif row.intent == "EXTERNAL_handoff_taken":
            handoff = self._open_handoff(session, conversation)
            if handoff is not None and entities.get("operator"):
                handoff.operator = str(entities["operator"])[:128]
        elif row.intent == "EXTERNAL_operator_message":
            text = entities.get("operator_text")
            if (
                isinstance(text, str)
                and text
                and not _recent_operator_message(
                    session, conversation.id, text, row.timestamp
                )
            ):
                # sent by another tool (or ingested before the api's own record)
                row.actor = "operator"
                row.text = text
                row.text_norm = normalise_text(text)
                operator = entities.get("operator")
                row.action = str(operator)[:128] if operator else None
            else:
                row.text = None

    def _on_bot(
        self,
        session: Session,
        conversation: Conversation,
        row: Event,
        event: dict[str, Any],
    ) -> None:
        text = event.get("text")
        row.text = text if isinstance(text, str) else None
        metadata = event.get("metadata") or {}
        utter = metadata.get("utter_action") if isinstance(metadata, dict) else None
        row.action = str(utter)[:128] if utter else None
        if row.text and self._is_operator_echo(session, conversation, row):
            row.actor = "operator_echo"
            return
        if row.text and row.action == OPERATOR_UTTERANCE:
            row.actor = "operator"  # relayed operator text with no record of its own
            row.text_norm = normalise_text(row.text)
            return
        row.actor = "bot"
        if (
            conversation.first_reply_ms is None
            and conversation.first_user_at is not None
            and row.timestamp >= conversation.first_user_at
        ):
            conversation.first_reply_ms = round(
                (row.timestamp - conversation.first_user_at) * 1000
            )

    def _on_action(
        self,
        session: Session,
        conversation: Conversation,
        row: Event,
        event: dict[str, Any],
    ) -> None:
        name = str(event.get("name") or "")[:128]
        row.action = name or None
        row.actor = None if name in IGNORED_ACTIONS else "action"
        if name in FALLBACK_ACTIONS:
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

    def _on_slot(
        self,
        session: Session,
        conversation: Conversation,
        row: Event,
        event: dict[str, Any],
    ) -> None:
        name = str(event.get("name") or "")[:128]
        value = event.get("value")
        row.slot_name = name
        row.slot_value = value
        if name == "language" and value in ("ru", "en"):
            conversation.language = value
        elif name == "csat":
            rating = _as_rating(value)
            if rating is not None:
                conversation.csat = rating
        elif name == "payment_link" and value:
            order_id = str(value)[:128]
            exists = session.scalar(
                select(Payment.id).where(
                    Payment.conversation_id == conversation.id,
                    Payment.order_id == order_id,
                )
            )
            if exists is None:
                session.add(
                    Payment(
                        conversation_id=conversation.id,
                        sender_id=conversation.sender_id,
                        order_id=order_id,
                        link_sent_at=row.timestamp,
                    )
                )
        elif name == "handoff":
            self._on_handoff_slot(session, conversation, row.timestamp, value)

    # handoffs ------------------------------------------------------------

    def _open_handoff(
        self, session: Session, conversation: Conversation
    ) -> Handoff | None:
        return session.scalar(
            select(Handoff)
            .where(
                Handoff.conversation_id == conversation.id,
                Handoff.status.in_(("waiting", "active")),
            )
            .order_by(Handoff.id.desc())
            .limit(1)
        )

    def _on_handoff_slot(
        self,
        session: Session,
        conversation: Conversation,
        timestamp: float,
        value: object,
    ) -> None:
        handoff = self._open_handoff(session, conversation)
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

    # helpers -------------------------------------------------------------

    def _is_operator_echo(
        self, session: Session, conversation: Conversation, row: Event
    ) -> bool:
        """A bot message repeating an operator reply the api already recorded."""
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

    def _add_to_inbox(
        self,
        session: Session,
        conversation: Conversation,
        row: Event,
        parse: dict[str, Any],
    ) -> None:
        norm = row.text_norm or ""
        if not norm:
            return
        item = session.scalar(select(InboxItem).where(InboxItem.text_norm == norm))
        if item is not None:
            item.occurrences += 1
            return
        predicted, confidence = row.intent, row.confidence
        if row.intent == FALLBACK_INTENT:
            for ranked in parse.get("intent_ranking") or []:
                if isinstance(ranked, dict) and ranked.get("name") not in (
                    None,
                    FALLBACK_INTENT,
                ):
                    predicted = str(ranked["name"])[:128]
                    value = ranked.get("confidence")
                    confidence = (
                        float(value) if isinstance(value, int | float) else None
                    )
                    break
        session.add(
            InboxItem(
                text=row.text or "",
                text_norm=norm,
                predicted_intent=predicted,
                confidence=confidence,
                conversation_id=conversation.id,
                language=row.language,
                status="open",
                occurrences=1,
                created_at=row.timestamp,
            )
        )


def _as_rating(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        rating = int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return rating if 1 <= rating <= 5 else None


def _recent_operator_message(
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


def record_operator_message(
    session: Session, conversation: Conversation, operator: str, text: str
) -> Event:
    """Stores an operator reply sent through the api, once: if ingestion already
    stored it from Rasa's EXTERNAL_operator_message event, that row is returned.
    Rasa's bot utterance repeating the text is then marked as an echo."""
    now = time.time()
    existing = _recent_operator_message(session, conversation.id, text, now)
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
