"""Revocation of access tokens.

JWTs are stateless, so ending one early needs state: logout stores the token's
id until it would have expired anyway (then the row is useless and pruned); a
password change moves the user's `tokens_valid_after`, ending every token
issued before it in one write. Both live in the database, so every replica
refuses the token at once."""

from __future__ import annotations

import time

from sqlalchemy import delete
from sqlalchemy.orm import Session

from easyflow_api.models import RevokedToken, User


def revoke(session: Session, jti: str, username: str, expires_at: float) -> None:
    now = time.time()
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    if session.get(RevokedToken, jti) is None:
        session.add(RevokedToken(jti=jti, username=username, expires_at=expires_at))


def is_revoked(session: Session, claims: dict[str, object], user: User) -> bool:
    issued = claims.get("iat")
    if not isinstance(issued, int | float):
        return True
    if user.tokens_valid_after is not None and issued < user.tokens_valid_after:
        return True
    return session.get(RevokedToken, str(claims.get("jti"))) is not None
