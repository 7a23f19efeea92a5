"""Password hashing (argon2id), JWT access tokens and API-key hashing."""

from __future__ import annotations

import hashlib
import secrets
import time

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("admin", "analyst", "operator")
API_KEY_PREFIX = "efk_"
# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): strong
# against GPU cracking yet about 20 ms per login on a small server.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Spent on unknown usernames so a login takes as long whether the user exists or not.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def create_access_token(username: str, role: str, secret: str, ttl_minutes: int) -> str:
    """A token with an id (`jti`) so logout can revoke it, and a sub-second
    `iat` so a password change revokes every token issued before it (and none
    issued in the same second after it)."""
    now = time.time()
    claims = {
        "sub": username,
        "role": role,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": int(now) + ttl_minutes * 60,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_access_token(token: str, secret: str) -> dict[str, object] | None:
    """The token's claims, or None when it is forged, malformed or expired."""
    try:
        return jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub", "iat", "jti"]},
        )
    except jwt.PyJWTError:
        return None


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """API keys carry 256 random bits, so a plain SHA-256 is a sound digest."""
    return hashlib.sha256(key.encode()).hexdigest()
