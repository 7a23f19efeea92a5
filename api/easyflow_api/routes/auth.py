"""Login and the current principal."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Request, status

from easyflow_api.core.security import create_access_token
from easyflow_api.deps import CurrentPrincipal, SessionDep, StateDep
from easyflow_api.schemas import LoginRequest, Me, TokenPublic
from easyflow_api.services import audit, users

router = APIRouter(prefix="/api/auth", tags=["auth"])
logger = logging.getLogger(__name__)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/login", response_model=TokenPublic)
def login(
    body: LoginRequest, request: Request, state: StateDep, session: SessionDep
) -> TokenPublic:
    ip = client_ip(request)
    wait = state.limiter.retry_after(body.username, ip)
    if wait is not None:
        logger.warning(
            "auth.login.rate_limited", extra={"username": body.username, "ip": ip}
        )
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many failed logins, try again later",
            headers={"Retry-After": str(wait)},
        )
    user = users.authenticate(session, body.username, body.password)
    if user is None:
        state.limiter.record_failure(body.username, ip)
        audit.record(
            session, body.username[:64], "auth.login_failed", detail={"ip": ip}
        )
        session.commit()
        logger.info("auth.login.failed", extra={"username": body.username, "ip": ip})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid credentials")
    state.limiter.reset(body.username, ip)
    audit.record(session, user.username, "auth.login", detail={"ip": ip})
    session.commit()
    token = create_access_token(
        user.username, user.role, state.secret, state.settings.api_token_ttl_minutes
    )
    return TokenPublic(access_token=token, username=user.username, role=user.role)  # type: ignore[arg-type]


@router.get("/me", response_model=Me)
def me(principal: CurrentPrincipal) -> Me:
    return Me(username=principal.username, role=principal.role)  # type: ignore[arg-type]
