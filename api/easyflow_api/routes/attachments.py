"""Photos and files shoppers sent: listed per conversation and shown to readers
(analysts, operators, admins). Personal data: every read is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response

from easyflow_api.deps import ReaderDep, SessionDep, StateDep
from easyflow_api.models import Conversation
from easyflow_api.schemas import ShopperAttachment
from easyflow_api.services import audit
from easyflow_api.services.attachments import (
    ActionServerError,
    AttachmentNotFound,
    AttachmentsClient,
)

router = APIRouter(tags=["attachments"])
ConversationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
AttachmentId = Annotated[str, Path(pattern=r"^F-[0-9a-f]{16}$")]
_BAD_GATEWAY = {502: {"description": "the action server failed"}}


def _client(state: StateDep) -> AttachmentsClient:
    settings = state.settings
    return AttachmentsClient(
        settings.action_server_url, settings.action_token, settings.api_http_timeout_s
    )


@router.get(
    "/api/conversations/{conversation_id}/attachments",
    response_model=list[ShopperAttachment],
    responses={404: {"description": "conversation not found"}, **_BAD_GATEWAY},
)
async def of_conversation(
    principal: ReaderDep,
    state: StateDep,
    session: SessionDep,
    conversation_id: ConversationId,
) -> list[dict[str, object]]:
    """Everything the conversation's shopper sent, oldest first."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HTTPException(404, detail="conversation not found")
    try:
        found = await _client(state).of(conversation.sender_id)
    except ActionServerError as exc:
        raise HTTPException(502, detail=str(exc)) from exc
    audit.record_view(
        session,
        principal.username,
        "attachment.list",
        {"conversation": conversation_id, "ids": [a["id"] for a in found]},
    )
    session.commit()
    return found


@router.get(
    "/api/attachments/{attachment_id}",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}, "application/pdf": {}}},
        404: {"description": "no such attachment"},
        **_BAD_GATEWAY,
    },
)
async def content(
    principal: ReaderDep,
    state: StateDep,
    session: SessionDep,
    attachment_id: AttachmentId,
) -> Response:
    """The file itself, to be shown in the page and never run as one."""
    try:
        mime_type, body = await _client(state).content(attachment_id)
    except AttachmentNotFound as exc:
        raise HTTPException(404, detail="no such attachment") from exc
    except ActionServerError as exc:
        raise HTTPException(502, detail=str(exc)) from exc
    audit.record_view(
        session, principal.username, "attachment.read", {"id": attachment_id}
    )
    session.commit()
    return Response(
        body,
        media_type=mime_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": f'inline; filename="{attachment_id}"',
            "Cache-Control": "private, no-store",
        },
    )
