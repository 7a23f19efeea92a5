"""Projects events onto the `inbox_items` table: a shopper message the model
did not understand (a fallback or a low-confidence intent) becomes one inbox
item per normalised text, counted on every repeat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.models import Conversation, Event, InboxItem
from easyflow_api.services.projection.rasa_events import FALLBACK_INTENT


def misunderstood(row: Event, low_confidence: float) -> bool:
    return bool(row.text) and (
        bool(row.fallback)
        or (row.confidence is not None and row.confidence < low_confidence)
    )


def add(
    session: Session,
    conversation: Conversation,
    row: Event,
    parse: dict[str, Any],
) -> None:
    """A fallback's predicted intent is the best real one in Rasa's ranking."""
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
                confidence = float(value) if isinstance(value, int | float) else None
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
