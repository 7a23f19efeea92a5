"""Conversation review: listing, transcripts, tags and the reviewed flag."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from easyflow_api.core.times import iso_required
from easyflow_api.models import Conversation, ConversationTag, Event
from easyflow_api.services.analytics import Filters, conversation_conditions
from easyflow_api.services.projection import normalise_text

TRANSCRIPT_ACTORS = ("user", "bot", "operator", "action")


@dataclass(frozen=True)
class ListQuery:
    filters: Filters
    tag: str | None = None
    reviewed: bool | None = None
    q: str | None = None
    limit: int = 50
    offset: int = 0


def _tags(session: Session, ids: list[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    if ids:
        for conversation_id, tag in session.execute(
            select(ConversationTag.conversation_id, ConversationTag.tag)
            .where(ConversationTag.conversation_id.in_(ids))
            .order_by(ConversationTag.tag)
        ).all():
            tags[conversation_id].append(tag)
    return tags


def public(conversation: Conversation, tags: list[str]) -> dict[str, object]:
    return {
        "id": conversation.id,
        "sender_id": conversation.sender_id,
        "channel": conversation.channel,
        "language": conversation.language,
        "started_at": iso_required(conversation.started_at),
        "last_event_at": iso_required(conversation.last_event_at),
        "turns": conversation.turns,
        "fallbacks": conversation.fallbacks,
        "handoff": conversation.handoff,
        "csat": conversation.csat,
        "reviewed": conversation.reviewed,
        "tags": tags,
    }


def list_conversations(session: Session, query: ListQuery) -> dict[str, object]:
    conditions = conversation_conditions(query.filters)
    if query.tag:
        conditions.append(
            exists().where(
                and_(
                    ConversationTag.conversation_id == Conversation.id,
                    ConversationTag.tag == query.tag,
                )
            )
        )
    if query.reviewed is not None:
        conditions.append(Conversation.reviewed.is_(query.reviewed))
    if query.q:
        needle = normalise_text(query.q)
        pattern = f"%{_escape_like(needle)}%"
        conditions.append(
            or_(
                Conversation.sender_id.like(f"%{_escape_like(query.q)}%", escape="\\"),
                exists().where(
                    and_(
                        Event.conversation_id == Conversation.id,
                        Event.text_norm.like(pattern, escape="\\"),
                    )
                ),
            )
        )
    total = session.scalar(
        select(func.count()).select_from(Conversation).where(*conditions)
    )
    rows = session.scalars(
        select(Conversation)
        .where(*conditions)
        .order_by(Conversation.started_at.desc(), Conversation.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    ).all()
    tags = _tags(session, [c.id for c in rows])
    return {"items": [public(c, tags[c.id]) for c in rows], "total": int(total or 0)}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def transcript(session: Session, conversation_id: int) -> list[dict[str, object]]:
    events = session.scalars(
        select(Event)
        .where(
            Event.conversation_id == conversation_id,
            Event.actor.in_(TRANSCRIPT_ACTORS),
        )
        .order_by(Event.timestamp, Event.id)
    ).all()
    return [
        {
            "timestamp": iso_required(e.timestamp),
            "actor": e.actor,
            "text": e.text,
            "intent": e.intent,
            "confidence": e.confidence,
            "action": e.action,
        }
        for e in events
    ]


def detail(session: Session, conversation: Conversation) -> dict[str, object]:
    body = public(conversation, _tags(session, [conversation.id])[conversation.id])
    body["events"] = transcript(session, conversation.id)
    return body


def add_tag(session: Session, conversation: Conversation, tag: str) -> bool:
    """True if the tag was added, False if the conversation had it already."""
    if session.scalar(
        select(ConversationTag.id).where(
            ConversationTag.conversation_id == conversation.id,
            ConversationTag.tag == tag,
        )
    ):
        return False
    try:
        with session.begin_nested():
            session.add(ConversationTag(conversation_id=conversation.id, tag=tag))
    except IntegrityError:
        return False
    return True


def remove_tag(session: Session, conversation: Conversation, tag: str) -> bool:
    row = session.scalar(
        select(ConversationTag).where(
            ConversationTag.conversation_id == conversation.id,
            ConversationTag.tag == tag,
        )
    )
    if row is None:
        return False
    session.delete(row)
    return True
