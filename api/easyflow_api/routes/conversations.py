"""Conversation review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from easyflow_api.deps import AnalystDep, ReaderDep, SessionDep
from easyflow_api.models import Conversation
from easyflow_api.routes.analytics import FiltersDep
from easyflow_api.schemas import (
    ConversationDetail,
    ConversationPage,
    ConversationPublic,
    ReviewRequest,
    TagRequest,
)
from easyflow_api.services import audit
from easyflow_api.services import conversations as service

router = APIRouter(prefix="/api/conversations", tags=["conversations"])
ConversationId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _get(session: SessionDep, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HTTPException(404, detail="conversation not found")
    return conversation


@router.get("", response_model=ConversationPage)
def list_conversations(
    _: ReaderDep,
    session: SessionDep,
    f: FiltersDep,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    reviewed: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, object]:
    query = service.ListQuery(f, tag or None, reviewed, q or None, limit, offset)
    return service.list_conversations(session, query)


@router.get("/{conversation_id}", response_model=ConversationDetail)
def get_conversation(
    principal: ReaderDep, session: SessionDep, conversation_id: ConversationId
) -> dict[str, object]:
    """A transcript: personal data, so every read is in the audit log."""
    conversation = _get(session, conversation_id)
    body = service.detail(session, conversation)
    audit.record(
        session,
        principal.username,
        "conversation.read",
        str(conversation.id),
        {"sender_id": conversation.sender_id},
    )
    session.commit()
    return body


@router.post("/{conversation_id}/tags", response_model=ConversationPublic)
def add_tag(
    principal: AnalystDep,
    session: SessionDep,
    conversation_id: ConversationId,
    body: TagRequest,
) -> dict[str, object]:
    conversation = _get(session, conversation_id)
    tag = body.tag.strip()
    if service.add_tag(session, conversation, tag):
        audit.record(
            session,
            principal.username,
            "conversation.tag",
            str(conversation.id),
            {"tag": tag},
        )
    session.commit()
    return service.detail(session, conversation)


@router.delete("/{conversation_id}/tags/{tag}", response_model=ConversationPublic)
def remove_tag(
    principal: AnalystDep,
    session: SessionDep,
    conversation_id: ConversationId,
    tag: Annotated[str, Path(max_length=64)],
) -> dict[str, object]:
    conversation = _get(session, conversation_id)
    if not service.remove_tag(session, conversation, tag):
        raise HTTPException(404, detail="tag not found")
    audit.record(
        session,
        principal.username,
        "conversation.untag",
        str(conversation.id),
        {"tag": tag},
    )
    session.commit()
    return service.detail(session, conversation)


@router.post("/{conversation_id}/review", response_model=ConversationPublic)
def review(
    principal: AnalystDep,
    session: SessionDep,
    conversation_id: ConversationId,
    body: ReviewRequest,
) -> dict[str, object]:
    conversation = _get(session, conversation_id)
    conversation.reviewed = body.reviewed
    audit.record(
        session,
        principal.username,
        "conversation.review",
        str(conversation.id),
        {"reviewed": body.reviewed},
    )
    session.commit()
    return service.detail(session, conversation)
