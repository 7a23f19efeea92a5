"""Login, logout, own password change and the current principal."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Response, status

from easyflow_api.core.ratelimit import LimiterUnavailable
from easyflow_api.core.security import create_access_token, verify_password
from easyflow_api.deps import ClientIpDep, CurrentPrincipal, SessionDep, StateDep
from easyflow_api.schemas import LoginRequest, Me, PasswordChange, TokenPublic
from easyflow_api.services import audit, tokens, users

router = APIRouter(prefix="/api/auth", tags=["auth"])
logger = logging.getLogger(__name__)


def _limiter_down(exc: LimiterUnavailable) -> HTTPException:
    # Fail closed: without the shared count, unlimited guessing would be open.
    logger.error("auth.limiter.unavailable", extra={"error": str(exc)})
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE, detail="login temporarily unavailable"
    )


@router.post(
    "/login",
    response_model=TokenPublic,
    responses={429: {"description": "too many failures"}, 503: {}},
)
def login(
    body: LoginRequest, ip: ClientIpDep, state: StateDep, session: SessionDep
) -> TokenPublic:
    try:
        wait = state.limiter.retry_after(body.username, ip)
    except LimiterUnavailable as exc:
        raise _limiter_down(exc) from exc
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
    try:
        if user is None:
            state.limiter.record_failure(body.username, ip)
        else:
            state.limiter.reset(body.username, ip)
    except LimiterUnavailable as exc:
        raise _limiter_down(exc) from exc
    if user is None:
        audit.record(
            session, body.username[:64], "auth.login_failed", detail={"ip": ip}
        )
        session.commit()
        logger.info("auth.login.failed", extra={"username": body.username, "ip": ip})
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="invalid credentials")
    audit.record(session, user.username, "auth.login", detail={"ip": ip})
    session.commit()
    token = create_access_token(
        user.username, user.role, state.secret, state.settings.api_token_ttl_minutes
    )
    return TokenPublic(access_token=token, username=user.username, role=user.role)  # type: ignore[arg-type]


@router.post("/logout", status_code=204)
def logout(
    principal: CurrentPrincipal, ip: ClientIpDep, session: SessionDep
) -> Response:
    """Revokes the token this request carries (API keys are revoked by admins)."""
    if principal.token_id is None or principal.token_expires_at is None:
        raise HTTPException(400, detail="only a login token can be logged out")
    tokens.revoke(
        session, principal.token_id, principal.username, principal.token_expires_at
    )
    audit.record(session, principal.username, "auth.logout", detail={"ip": ip})
    session.commit()
    return Response(status_code=204)


@router.post(
    "/password",
    response_model=TokenPublic,
    responses={
        403: {"description": "current password wrong"},
        429: {"description": "too many failures"},
        503: {},
    },
)
def change_password(
    body: PasswordChange,
    principal: CurrentPrincipal,
    ip: ClientIpDep,
    state: StateDep,
    session: SessionDep,
) -> TokenPublic:
    """Changes the caller's own password; every earlier token (this one too)
    stops working, and a fresh token is returned."""
    user = users.get_user(session, principal.username)
    if user is None or principal.via != "token":
        raise HTTPException(400, detail="only a logged-in user has a password")
    try:
        wait = state.limiter.retry_after(user.username, ip)
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail="too many failed attempts, try again later",
                headers={"Retry-After": str(wait)},
            )
        correct = verify_password(user.password_hash, body.current_password)
        if not correct:
            # A stolen token must not become an unthrottled password oracle.
            state.limiter.record_failure(user.username, ip)
    except LimiterUnavailable as exc:
        raise _limiter_down(exc) from exc
    if not correct:
        audit.record(
            session, user.username, "auth.password_change_failed", detail={"ip": ip}
        )
        session.commit()
        raise HTTPException(403, detail="current password is wrong")
    try:
        users.check_password(
            body.new_password, user.username, state.settings.env == "production"
        )
    except users.WeakPassword as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    users.change_password(user, body.new_password)
    audit.record(session, user.username, "auth.password_change", detail={"ip": ip})
    session.commit()
    token = create_access_token(
        user.username, user.role, state.secret, state.settings.api_token_ttl_minutes
    )
    return TokenPublic(access_token=token, username=user.username, role=user.role)  # type: ignore[arg-type]


@router.get("/me", response_model=Me)
def me(principal: CurrentPrincipal) -> Me:
    return Me(username=principal.username, role=principal.role)  # type: ignore[arg-type]
