"""Proactive messages that could not be delivered: listed for analysts and
operators, tried again by operators (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from easyflow_api.deps import OperatorDep, ReaderDep, SessionDep, StateDep
from easyflow_api.schemas import FailedNotice, NoticeRetry
from easyflow_api.services import audit
from easyflow_api.services.notices import (
    ActionServerError,
    NoticeNotFound,
    NoticesClient,
)

router = APIRouter(prefix="/api/notices", tags=["notices"])
NoticeId = Annotated[int, Path(ge=1, le=2**62)]


def _client(state: StateDep) -> NoticesClient:
    settings = state.settings
    return NoticesClient(
        settings.action_server_url, settings.action_token, settings.api_http_timeout_s
    )


@router.get(
    "/failed",
    response_model=list[FailedNotice],
    responses={502: {"description": "the action server failed"}},
)
async def failed(
    principal: ReaderDep, state: StateDep, session: SessionDep
) -> list[dict[str, object]]:
    try:
        body = await _client(state).failed()
    except ActionServerError as exc:
        raise HTTPException(502, detail=str(exc)) from exc
    # Shopper conversation ids: each distinct view is audited, as other lists are.
    audit.record_view(
        session, principal.username, "notice.list", {"ids": [n["id"] for n in body]}
    )
    session.commit()
    return body


@router.post(
    "/{notice_id}/retry",
    response_model=NoticeRetry,
    responses={
        404: {"description": "no failed notice with that id"},
        502: {"description": "the action server failed"},
    },
)
async def retry(
    principal: OperatorDep, state: StateDep, session: SessionDep, notice_id: NoticeId
) -> dict[str, object]:
    try:
        sent = await _client(state).retry(notice_id)
    except NoticeNotFound as exc:
        raise HTTPException(404, detail="no failed notice with that id") from exc
    except ActionServerError as exc:
        raise HTTPException(502, detail=str(exc)) from exc
    audit.record(
        session, principal.username, "notice.retry", str(notice_id), {"sent": sent}
    )
    session.commit()
    return {"id": notice_id, "sent": sent}
