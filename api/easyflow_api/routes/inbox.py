"""NLU inbox and known intents."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import PlainTextResponse

from easyflow_api.deps import AnalystDep, SessionDep, StateDep
from easyflow_api.models import InboxItem
from easyflow_api.schemas import InboxItemPublic, LabelRequest
from easyflow_api.services import audit
from easyflow_api.services import inbox as service

router = APIRouter(prefix="/api", tags=["inbox"])
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _get(session: SessionDep, item_id: int) -> InboxItem:
    item = session.get(InboxItem, item_id)
    if item is None:
        raise HTTPException(404, detail="inbox item not found")
    return item


@router.get("/inbox", response_model=list[InboxItemPublic])
def list_inbox(
    principal: AnalystDep,
    session: SessionDep,
    status: Literal["open", "labelled", "dismissed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> list[dict[str, object]]:
    """Shoppers' own words, so every list read is audited."""
    body = [
        service.public(i) for i in service.list_items(session, status, limit, offset)
    ]
    audit.record_view(
        session,
        principal.username,
        "inbox.list",
        {"status": status, "ids": [i["id"] for i in body]},
    )
    session.commit()
    return body


@router.post("/inbox/{item_id}/label", response_model=InboxItemPublic)
def label(
    principal: AnalystDep, session: SessionDep, item_id: ItemId, body: LabelRequest
) -> dict[str, object]:
    item = _get(session, item_id)
    service.label(item, body.intent)
    audit.record(
        session,
        principal.username,
        "inbox.label",
        str(item.id),
        {"intent": body.intent},
    )
    session.commit()
    return service.public(item)


@router.post("/inbox/{item_id}/dismiss", response_model=InboxItemPublic)
def dismiss(
    principal: AnalystDep, session: SessionDep, item_id: ItemId
) -> dict[str, object]:
    item = _get(session, item_id)
    service.dismiss(item)
    audit.record(session, principal.username, "inbox.dismiss", str(item.id))
    session.commit()
    return service.public(item)


@router.get("/inbox/export", response_class=PlainTextResponse)
def export(principal: AnalystDep, session: SessionDep) -> PlainTextResponse:
    body = service.export_yaml(session)
    # Shopper messages leave the system here: who took them, and when.
    audit.record(
        session, principal.username, "inbox.export", detail={"bytes": len(body)}
    )
    session.commit()
    return PlainTextResponse(
        body,
        media_type="text/yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="nlu_inbox.yml"'},
    )


@router.get("/intents", response_model=list[str])
def intents(_: AnalystDep, state: StateDep, session: SessionDep) -> list[str]:
    return service.known_intents(session, state.settings.domain_path)
