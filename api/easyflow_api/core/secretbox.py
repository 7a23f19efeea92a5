"""Secrets encrypted at rest: AES-256-GCM with a keyring.

A ciphertext is ``ef1:<key id>:<base64url(nonce || ciphertext+tag)>``: a random
96-bit nonce per encryption, the key's id beside it (so rotation knows which key
sealed a row) and associated data naming what the secret belongs to (an
integration's kind), so a ciphertext copied onto another row does not decrypt.

The current key seals; older keys (``EASYFLOW_SECRETS_OLD_KEYS``) only open, until
``python -m easyflow_api rotate-secrets`` has sealed every row with the current
one. The action server reads the same variables and opens the same format
(``common/secretbox.py``); keep the two in step.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "ef1"
NONCE_BYTES = 12
KEY_BYTES = 32


class SecretKeyError(ValueError):
    """A key is missing or malformed; the message names the variable."""


class SecretOpenError(ValueError):
    """A ciphertext that no key of the keyring opens (tampered, moved, lost key)."""


def key_id(key: bytes) -> str:
    """A short public fingerprint of a key (never the key itself)."""
    return hashlib.sha256(b"easyflow-secrets-key-id|" + key).hexdigest()[:12]


def parse_key(text: str, variable: str) -> bytes:
    """A base64url (or hex) encoded 32-byte key."""
    value = text.strip()
    try:
        if len(value) == 2 * KEY_BYTES:
            raw = bytes.fromhex(value)
        else:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, binascii.Error):
        raise SecretKeyError(f"{variable}: not base64url or hex") from None
    if len(raw) != KEY_BYTES:
        raise SecretKeyError(
            f"{variable}: a key is {KEY_BYTES} random bytes, base64url encoded "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return raw


def new_key_text() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode().rstrip("=")


def local_key_file(path: Path) -> str:
    """The embedded default's key: ``path``'s, created (mode 600) on first use,
    the way deploy/local/tokens.sh makes the local tokens."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        path.chmod(0o600)
        for _ in range(40):  # another process may be writing it right now
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.05)
        return value
    with os.fdopen(fd, "w") as handle:
        value = new_key_text()
        handle.write(value + "\n")
    return value


@dataclass(frozen=True)
class Keyring:
    current: bytes = field(repr=False)
    older: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def _keys(self) -> dict[str, bytes]:
        keys = {key_id(key): key for key in self.older}
        keys[self.current_id] = self.current
        return keys

    def seal(self, plaintext: bytes, associated: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.current).encrypt(nonce, plaintext, associated.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}:{self.current_id}:{body}"

    def open(self, token: str, associated: str) -> bytes:
        try:
            prefix, kid, body = token.split(":", 2)
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, binascii.Error):
            raise SecretOpenError("not a sealed secret") from None
        key = self._keys().get(kid)
        if prefix != PREFIX or key is None or len(raw) <= NONCE_BYTES:
            raise SecretOpenError(f"no key {kid!r} in the keyring")
        try:
            return AESGCM(key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated.encode()
            )
        except InvalidTag:
            raise SecretOpenError("the secret does not open with its key") from None

    @staticmethod
    def sealed_with(token: str) -> str:
        """The key id a ciphertext names (for rotation and the feed)."""
        parts = token.split(":", 2)
        return parts[1] if len(parts) == 3 else ""
