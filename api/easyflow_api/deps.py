"""FastAPI dependencies: state, database session, the authenticated principal."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from easyflow_api.core.net import client_ip
from easyflow_api.core.security import decode_access_token, hash_api_key
from easyflow_api.core.state import AppState
from easyflow_api.models import ApiKey, User
from easyflow_api.services import tokens

bearer_scheme = HTTPBearer(auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_state(request: Request) -> AppState:
    return request.app.state.easyflow


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    with state.db.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    username: str
    role: str
    display_name: str
    via: str  # "token" | "api_key"
    token_id: str | None = None  # the JWT's jti, for logout
    token_expires_at: float | None = None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


# A key's use is stored at most once a minute: a dashboard needs "in use
# lately", not one write per request of a scraper polling every few seconds.
KEY_USE_RESOLUTION_S = 60.0


def _mark_used(session: Session, key: ApiKey) -> None:
    now = time.time()
    if key.last_used_at is None or now - key.last_used_at >= KEY_USE_RESOLUTION_S:
        key.last_used_at = now
        session.commit()


def get_principal(
    state: StateDep,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    if api_key:
        key = session.scalar(
            select(ApiKey).where(
                ApiKey.key_hash == hash_api_key(api_key), ApiKey.revoked_at.is_(None)
            )
        )
        if key is None:
            raise _unauthorized("invalid API key")
        _mark_used(session, key)
        return Principal(f"key:{key.name}", key.role, key.name, "api_key")
    if bearer is None:
        raise _unauthorized("not authenticated")
    claims = decode_access_token(bearer.credentials, state.secret)
    if claims is None:
        raise _unauthorized("invalid or expired token")
    user = session.scalar(select(User).where(User.username == str(claims["sub"])))
    if user is None or not user.is_active:
        raise _unauthorized("user no longer active")
    if tokens.is_revoked(session, claims, user):
        raise _unauthorized("token revoked")
    return Principal(
        user.username,
        user.role,
        user.display_name or user.username,
        "token",
        token_id=str(claims["jti"]),
        token_expires_at=float(claims["exp"]),  # type: ignore[arg-type]
    )


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """Admins may do everything; other roles only what is listed."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role != "admin" and principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="forbidden for role")
        return principal

    return check


AdminDep = Annotated[Principal, Depends(require_roles())]
AnalystDep = Annotated[Principal, Depends(require_roles("analyst"))]
OperatorDep = Annotated[Principal, Depends(require_roles("operator"))]
ReaderDep = Annotated[Principal, Depends(require_roles("analyst", "operator"))]


def get_client_ip(request: Request, state: StateDep) -> str:
    return client_ip(request, state.settings.trusted_proxies)


ClientIpDep = Annotated[str, Depends(get_client_ip)]
