"""NLU inbox: misunderstood shopper messages, labelling and Rasa YAML export."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

import yaml
from sqlalchemy import distinct, select
from sqlalchemy.orm import Session

from easyflow_api.core.times import iso_required
from easyflow_api.models import Event, InboxItem
from easyflow_api.services.projection import FALLBACK_INTENT

logger = logging.getLogger(__name__)


def public(item: InboxItem) -> dict[str, object]:
    return {
        "id": item.id,
        "text": item.text,
        "predicted_intent": item.predicted_intent,
        "confidence": item.confidence,
        "conversation_id": item.conversation_id,
        "language": item.language,
        "label": item.label,
        "status": item.status,
        "occurrences": item.occurrences,
        "created_at": iso_required(item.created_at),
    }


def list_items(
    session: Session, status: str | None, limit: int, offset: int
) -> list[InboxItem]:
    query = select(InboxItem)
    if status:
        query = query.where(InboxItem.status == status)
    return list(
        session.scalars(
            query.order_by(InboxItem.occurrences.desc(), InboxItem.id)
            .limit(limit)
            .offset(offset)
        ).all()
    )


def label(item: InboxItem, intent: str) -> None:
    item.label = intent
    item.status = "labelled"


def dismiss(item: InboxItem) -> None:
    item.status = "dismissed"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def export_yaml(session: Session) -> str:
    """Labelled items in Rasa 3.x NLU training-data format."""
    examples: dict[str, list[str]] = defaultdict(list)
    for item in session.scalars(
        select(InboxItem)
        .where(InboxItem.status == "labelled", InboxItem.label.is_not(None))
        .order_by(InboxItem.label, InboxItem.id)
    ).all():
        text = _one_line(item.text)
        if text and text not in examples[item.label or ""]:
            examples[item.label or ""].append(text)
    lines = ['version: "3.1"', "nlu:"]
    if not examples:
        lines[-1] = "nlu: []"
    for intent in sorted(examples):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {text}" for text in examples[intent])
    return "\n".join(lines) + "\n"


def known_intents(session: Session, domain_path: Path) -> list[str]:
    """Intents of the Rasa domain file plus those seen in ingested events."""
    names: set[str] = set()
    try:
        domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
        for entry in domain.get("intents") or []:
            if isinstance(entry, str):
                names.add(entry)
            elif isinstance(entry, dict):
                names.update(str(k) for k in entry)
    except (OSError, yaml.YAMLError) as exc:
        logger.info("inbox.domain.unreadable", extra={"error": str(exc)[:200]})
    names.update(
        n
        for n in session.scalars(
            select(distinct(Event.intent)).where(
                Event.actor == "user", Event.intent.is_not(None)
            )
        ).all()
        if n
    )
    return sorted(
        n for n in names if n != FALLBACK_INTENT and not n.startswith("EXTERNAL_")
    )
