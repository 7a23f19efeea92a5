"""Integrations page: every signed-in role reads the cards (secrets masked),
admins save, check, enable, disable and delete (each audited without values);
the action server reads the enabled configurations with its token (secrets
sealed), ``ETag`` / ``304`` while nothing changed."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response

from easyflow_api.core.secretbox import SecretOpenError
from easyflow_api.deps import AdminDep, CurrentPrincipal, SessionDep, StateDep
from easyflow_api.schemas import IntegrationPublic, IntegrationSave
from easyflow_api.services import integration_check, integrations
from easyflow_api.services.integration_catalog import PLATFORMS

router = APIRouter(tags=["integrations"])
KIND_PATTERN = "^(" + "|".join(PLATFORMS) + ")$"
Kind = Annotated[str, Path(pattern=KIND_PATTERN, description="the platform")]
NOT_SAVED = {404: {"description": "nothing saved for this platform"}}


@router.get("/api/integrations", response_model=list[IntegrationPublic])
def list_integrations(
    _: CurrentPrincipal, state: StateDep, session: SessionDep
) -> list[dict]:
    return integrations.all_views(session, state.keyring)


@router.get("/api/integrations/{kind}", response_model=IntegrationPublic)
def get_integration(
    _: CurrentPrincipal, state: StateDep, session: SessionDep, kind: Kind
) -> dict:
    return integrations.one_view(session, state.keyring, kind)


@router.put(
    "/api/integrations/{kind}",
    response_model=IntegrationPublic,
    responses={422: {"description": "a field is missing or wrong; detail names it"}},
)
def save_integration(
    principal: AdminDep,
    state: StateDep,
    session: SessionDep,
    kind: Kind,
    body: IntegrationSave,
) -> dict:
    """Saves the form; it becomes active once its check passes."""
    try:
        return integrations.save(
            session,
            state.keyring,
            kind,
            body.values,
            principal.username,
            https_only=state.settings.env == "production",
        )
    except integrations.InvalidForm as exc:
        session.rollback()
        raise HTTPException(
            422,
            detail=[
                {
                    "loc": ["body", "values", exc.field],
                    "msg": exc.message,
                    "type": "value_error",
                }
            ],
        ) from exc


@router.post(
    "/api/integrations/{kind}/check",
    response_model=IntegrationPublic,
    responses={
        **NOT_SAVED,
        409: {"description": "no configured key opens the saved secrets"},
        502: {"description": "the action server failed"},
    },
)
async def check_integration(
    principal: AdminDep, state: StateDep, session: SessionDep, kind: Kind
) -> dict:
    """The saved form checked by the action server with the platform itself;
    passed: it becomes the active configuration and is enabled."""
    try:
        draft = integrations.draft(session, state.keyring, kind)
    except integrations.NotConfigured as exc:
        raise HTTPException(404, detail="save this integration first") from exc
    except SecretOpenError as exc:
        raise HTTPException(
            409, detail="no configured key opens the saved secrets: save them again"
        ) from exc
    session.rollback()  # no read transaction held across the platform's answer
    settings = state.settings
    try:
        result = await integration_check.check(
            settings.action_server_url,
            settings.action_token,
            settings.api_http_timeout_s + 20,
            draft,
        )
    except integration_check.ActionServerError as exc:
        raise HTTPException(502, detail=str(exc)) from exc
    return integrations.record_check(
        session,
        state.keyring,
        draft,
        result.status,
        result.message,
        principal.username,
    )


def _switch(
    principal: AdminDep, state: StateDep, session: SessionDep, kind: str, on: bool
) -> dict:
    try:
        return integrations.set_enabled(
            session, state.keyring, kind, on, principal.username
        )
    except integrations.NotConfigured as exc:
        raise HTTPException(404, detail="save this integration first") from exc
    except integrations.NotChecked as exc:
        raise HTTPException(
            409, detail="no configuration of this platform passed its check yet"
        ) from exc


@router.post(
    "/api/integrations/{kind}/enable",
    response_model=IntegrationPublic,
    responses={**NOT_SAVED, 409: {"description": "never checked successfully"}},
)
def enable_integration(
    principal: AdminDep, state: StateDep, session: SessionDep, kind: Kind
) -> dict:
    return _switch(principal, state, session, kind, True)


@router.post(
    "/api/integrations/{kind}/disable",
    response_model=IntegrationPublic,
    responses=NOT_SAVED,
)
def disable_integration(
    principal: AdminDep, state: StateDep, session: SessionDep, kind: Kind
) -> dict:
    return _switch(principal, state, session, kind, False)


@router.delete("/api/integrations/{kind}", status_code=204, responses=NOT_SAVED)
def delete_integration(
    principal: AdminDep, session: SessionDep, kind: Kind
) -> Response:
    try:
        integrations.delete(session, kind, principal.username)
    except integrations.NotConfigured as exc:
        raise HTTPException(404, detail="nothing saved for this platform") from exc
    return Response(status_code=204)


def _action_server(state: StateDep, authorization: str | None) -> None:
    """The action server's bearer token, compared in constant time."""
    expected = state.settings.action_token
    if not expected:
        raise HTTPException(503, detail="EASYFLOW_ACTION_TOKEN is not set for the api")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.encode(), expected.encode()
    ):
        raise HTTPException(
            401, detail="not authenticated", headers={"WWW-Authenticate": "Bearer"}
        )


@router.get(
    "/api/internal/integrations",
    responses={304: {"description": "unchanged since the ETag sent"}},
    include_in_schema=False,
)
def integrations_feed(
    request: Request,
    state: StateDep,
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """For the action server only: the enabled, checked configurations, secrets
    sealed with the keyring it shares."""
    _action_server(state, authorization)
    body = {"integrations": integrations.feed(session)}
    payload = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    etag = f'"{hashlib.sha256(payload).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "no-store"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(payload, media_type="application/json", headers=headers)
