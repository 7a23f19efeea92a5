"""Webhook authenticity checks, all in constant time, in one place.

Every connector authenticates through these helpers so that no secret or signature
is ever compared with ``==`` (which leaks, through timing, how much of a guess was
right).
"""

from __future__ import annotations

import hashlib
import hmac


def secrets_equal(expected: str | bytes | None, received: str | bytes | None) -> bool:
    """Constant-time equality; ``False`` when either side is missing or empty."""
    if not expected or not received:
        return False
    if isinstance(expected, str):
        expected = expected.encode()
    if isinstance(received, str):
        received = received.encode()
    return hmac.compare_digest(expected, received)


def hmac_sha256_hex(key: str | bytes, body: bytes) -> str:
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_hmac_sha256(
    key: str | bytes | None, body: bytes, signature: str | None, prefix: str = ""
) -> bool:
    """Checks ``signature`` == ``prefix + hex(HMAC-SHA256(key, body))``.

    WhatsApp sends ``sha256=<hex>`` (``prefix="sha256="``); Viber sends bare hex.
    Hex case is normalised before comparing.
    """
    if not key or not signature:
        return False
    if prefix:
        if not signature.startswith(prefix):
            return False
        signature = signature[len(prefix) :]
    return secrets_equal(hmac_sha256_hex(key, body), signature.strip().lower())
