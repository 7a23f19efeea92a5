"""Operator console: the handoff queue and take / reply / release."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status

from easyflow_api.core.times import iso_required
from easyflow_api.deps import OperatorDep, Principal, SessionDep, StateDep
from easyflow_api.models import Handoff
from easyflow_api.schemas import (
    HandoffDetail,
    HandoffMessage,
    HandoffPublic,
    OperatorMessage,
)
from easyflow_api.services import audit
from easyflow_api.services import handoffs as service
from easyflow_api.services.rasa_client import RasaError

router = APIRouter(prefix="/api/handoffs", tags=["handoffs"])
HandoffId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _get(session: SessionDep, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise HTTPException(404, detail="handoff not found")
    return handoff


def _require_holder(handoff: Handoff, principal: Principal) -> None:
    if not service.may_act(handoff, principal.username, principal.role):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="only the operator who took this handoff, or an admin, may do this",
        )


def _detail(session: SessionDep, handoff: Handoff) -> dict[str, object]:
    body = service.public(session, handoff)
    body["messages"] = service.messages(session, handoff)
    return body


@router.get("", response_model=list[HandoffPublic])
def list_handoffs(
    principal: OperatorDep,
    session: SessionDep,
    status: Literal["waiting", "active", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, object]]:
    """Shoppers' ids and last messages, so every list read is audited."""
    body = [
        service.public(session, h)
        for h in service.list_handoffs(session, status, limit)
    ]
    audit.record_view(
        session,
        principal.username,
        "handoff.list",
        {"status": status, "ids": [h["id"] for h in body]},
    )
    session.commit()
    return body


@router.get("/{handoff_id}", response_model=HandoffDetail)
def get_handoff(
    principal: OperatorDep, session: SessionDep, handoff_id: HandoffId
) -> dict[str, object]:
    handoff = _get(session, handoff_id)
    body = _detail(session, handoff)
    audit.record(
        session,
        principal.username,
        "handoff.read",
        str(handoff.id),
        {"conversation_id": handoff.conversation_id},
    )
    session.commit()
    return body


@router.post(
    "/{handoff_id}/take",
    response_model=HandoffDetail,
    responses={
        409: {"description": "not waiting"},
        502: {"description": "Rasa failed"},
    },
)
async def take(
    principal: OperatorDep, state: StateDep, session: SessionDep, handoff_id: HandoffId
) -> dict[str, object]:
    handoff = _get(session, handoff_id)
    try:
        await service.take(
            session, state.rasa, handoff, principal.display_name, principal.username
        )
    except service.HandoffStateError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    except RasaError as exc:
        raise HTTPException(502, detail=str(exc)) from exc
    audit.record(session, principal.username, "handoff.take", str(handoff.id))
    session.commit()
    return _detail(session, handoff)


@router.post(
    "/{handoff_id}/messages",
    response_model=HandoffMessage,
    status_code=201,
    responses={
        403: {"description": "not the holder"},
        409: {"description": "not active"},
        502: {"description": "Rasa failed"},
    },
)
async def send_message(
    principal: OperatorDep,
    state: StateDep,
    session: SessionDep,
    handoff_id: HandoffId,
    body: OperatorMessage,
) -> dict[str, object]:
    handoff = _get(session, handoff_id)
    if handoff.status == "active":  # otherwise the service answers 409
        _require_holder(handoff, principal)
    try:
        event = await service.reply(
            session, state.rasa, handoff, principal.display_name, body.text
        )
    except service.HandoffStateError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    except RasaError as exc:
        raise HTTPException(502, detail=str(exc)) from exc
    audit.record(
        session,
        principal.username,
        "handoff.message",
        str(handoff.id),
        {"chars": len(body.text)},
    )
    session.commit()
    return {
        "timestamp": iso_required(event.timestamp),
        "actor": "operator",
        "text": body.text,
    }


@router.post(
    "/{handoff_id}/release",
    response_model=HandoffDetail,
    responses={
        403: {"description": "not the holder"},
        409: {"description": "already closed"},
        502: {"description": "Rasa failed"},
    },
)
async def release(
    principal: OperatorDep, state: StateDep, session: SessionDep, handoff_id: HandoffId
) -> dict[str, object]:
    handoff = _get(session, handoff_id)
    if handoff.status != "closed":  # otherwise the service answers 409
        _require_holder(handoff, principal)
    try:
        await service.release(session, state.rasa, handoff)
    except service.HandoffStateError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    except RasaError as exc:
        raise HTTPException(502, detail=str(exc)) from exc
    audit.record(session, principal.username, "handoff.release", str(handoff.id))
    session.commit()
    return _detail(session, handoff)
