"""Users, API keys and the audit log (admins only)."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.exceptions import RequestValidationError

from easyflow_api.core.times import iso, iso_required
from easyflow_api.deps import AdminDep, SessionDep, StateDep
from easyflow_api.models import ApiKey, User
from easyflow_api.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    AuditFacets,
    AuditPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from easyflow_api.services import audit, users

router = APIRouter(prefix="/api", tags=["admin"])
UsernamePath = Annotated[str, Path(min_length=1, max_length=64)]


def _user(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "role": user.role,
        "display_name": user.display_name,
        "is_active": user.is_active,
        "created_at": iso_required(user.created_at),
    }


def _get_user(session: SessionDep, username: str) -> User:
    user = users.get_user(session, username)
    if user is None:
        raise HTTPException(404, detail="user not found")
    return user


@router.get("/users", response_model=list[UserPublic])
def list_users(_: AdminDep, session: SessionDep) -> list[dict[str, object]]:
    return [_user(u) for u in users.list_users(session)]


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(
    principal: AdminDep, state: StateDep, session: SessionDep, body: UserCreate
) -> dict[str, object]:
    try:
        user = users.create_user(
            session,
            body.username,
            body.password,
            body.role,
            body.display_name,
            production=state.settings.env == "production",
        )
    except users.WeakPassword as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    except users.UserConflict as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    audit.record(
        session, principal.username, "user.create", user.username, {"role": user.role}
    )
    session.commit()
    return _user(user)


@router.patch("/users/{username}", response_model=UserPublic)
def update_user(
    principal: AdminDep,
    state: StateDep,
    session: SessionDep,
    username: UsernamePath,
    body: UserUpdate,
) -> dict[str, object]:
    user = _get_user(session, username)
    if body.is_active is False and user.username == principal.username:
        # Disabling oneself ends one's own session at once; another admin must.
        raise HTTPException(409, detail="you cannot disable yourself")
    try:
        users.update_user(
            session,
            user,
            body.password,
            body.role,
            body.display_name,
            body.is_active,
            production=state.settings.env == "production",
        )
    except users.WeakPassword as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    except users.UserConflict as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    changed = sorted(k for k, v in body.model_dump().items() if v is not None)
    audit.record(
        session, principal.username, "user.update", user.username, {"fields": changed}
    )
    session.commit()
    return _user(user)


@router.delete("/users/{username}", status_code=204)
def delete_user(
    principal: AdminDep, session: SessionDep, username: UsernamePath
) -> Response:
    user = _get_user(session, username)
    if user.username == principal.username:
        raise HTTPException(409, detail="you cannot delete yourself")
    try:
        users.delete_user(session, user)
    except users.UserConflict as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    audit.record(session, principal.username, "user.delete", username)
    session.commit()
    return Response(status_code=204)


def _key(key: ApiKey) -> dict[str, object]:
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "prefix": key.prefix,
        "created_by": key.created_by,
        "created_at": iso_required(key.created_at),
        "revoked": key.revoked_at is not None,
        "last_used_at": iso(key.last_used_at),
    }


@router.get("/api-keys", response_model=list[ApiKeyPublic])
def list_api_keys(_: AdminDep, session: SessionDep) -> list[dict[str, object]]:
    return [_key(k) for k in users.list_api_keys(session)]


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_api_key(
    principal: AdminDep, session: SessionDep, body: ApiKeyCreate
) -> dict[str, object]:
    row, key = users.create_api_key(session, body.name, body.role, principal.username)
    audit.record(
        session,
        principal.username,
        "api_key.create",
        str(row.id),
        {"name": row.name, "role": row.role},
    )
    session.commit()
    return {"id": row.id, "key": key, "name": row.name, "role": row.role}


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(
    principal: AdminDep,
    session: SessionDep,
    key_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise HTTPException(404, detail="API key not found")
    if key.revoked_at is not None:
        raise HTTPException(409, detail="API key already revoked")
    key.revoked_at = time.time()
    audit.record(
        session, principal.username, "api_key.revoke", str(key.id), {"name": key.name}
    )
    session.commit()
    return Response(status_code=204)


@router.get("/audit", response_model=list[AuditPublic])
def list_audit(
    _: AdminDep,
    session: SessionDep,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[
        str | None, Query(max_length=64, description="who: a username or key:name")
    ] = None,
    target: Annotated[str | None, Query(max_length=255)] = None,
    start: Annotated[
        date | None, Query(description="first day, YYYY-MM-DD (UTC)")
    ] = None,
    end: Annotated[date | None, Query(description="last day, inclusive")] = None,
) -> list[dict[str, object]]:
    if start and end and start > end:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "end"),
                    "msg": "end is before start",
                    "input": end.isoformat(),
                }
            ]
        )
    rows, total = audit.page(
        session,
        limit,
        offset,
        audit.Filters(
            action=action or None,
            actor=actor or None,
            target=target or None,
            start=start,
            end=end,
        ),
    )
    response.headers["X-Total-Count"] = str(total)
    return [
        {
            "id": r.id,
            "at": iso(r.at),
            "actor": r.actor,
            "action": r.action,
            "target": r.target,
            "detail": r.detail if isinstance(r.detail, dict) else None,
        }
        for r in rows
    ]


@router.get("/audit/facets", response_model=AuditFacets)
def audit_facets(_: AdminDep, session: SessionDep) -> dict[str, list[str]]:
    """Every actor and action the log holds, for the dashboard's filter lists."""
    return audit.facets(session)
