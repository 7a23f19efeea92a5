"""Web chat session ids issued and signed by the server.

A session id is ``webchat:<128 random bits>.<HMAC>``; it is both the conversation
id and the socket.io room that replies are pushed to. Only the key's holder can
mint one, so a widget (or a mobile app) cannot pick another shopper's session, nor
another channel's conversation (``telegram:123``), by presenting its id.

The signing key, in order (``key_from``): ``session_secret`` in credentials.yml or
``EASYFLOW_WEBCHAT_SECRET``; else derived from ``EASYFLOW_RASA_TOKEN``, which every
replica already shares; else generated once into
``<EASYFLOW_DATA_DIR>/webchat_secret`` (the embedded default). Changing the key
starts new sessions for every widget.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path

from connectors.settings import ChannelSettings

logger = logging.getLogger(__name__)

PREFIX = "webchat:"
SECRET_FILE = "webchat_secret"
_DERIVATION_LABEL = b"easyflow webchat session key v1"
_SESSION = re.compile(
    rf"{re.escape(PREFIX)}(?P<token>[0-9a-f]{{32}})\.(?P<mac>[0-9a-f]{{32}})"
)
MIN_SECRET_CHARS = 16


class SessionIds:
    """Issues and verifies web chat session ids."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_SECRET_CHARS:
            raise ValueError("the web chat session key needs at least 16 bytes")
        self._key = key

    def _mac(self, token: str) -> str:
        message = f"webchat-session:{token}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        token = secrets.token_hex(16)
        return f"{PREFIX}{token}.{self._mac(token)}"

    def verify(self, session_id: object) -> bool:
        if not isinstance(session_id, str):
            return False
        match = _SESSION.fullmatch(session_id)
        return bool(match) and hmac.compare_digest(
            match["mac"], self._mac(match["token"])
        )


def generated_key(data_dir: Path) -> bytes:
    """The key in ``data_dir``, created once (mode 600); racing workers agree."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # fails if another process made it first
            logger.info("webchat.session_key.generated", extra={"path": str(path)})
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()


def key_from(secret: str | None, settings: ChannelSettings) -> bytes:
    """The signing key (order in the module docstring)."""
    explicit = (secret or settings.webchat_secret).strip()
    if explicit:
        if len(explicit) < MIN_SECRET_CHARS:
            raise ValueError(
                f"EASYFLOW_WEBCHAT_SECRET needs at least {MIN_SECRET_CHARS} characters"
            )
        return explicit.encode()
    if settings.rasa_token:
        return hmac.new(
            settings.rasa_token.encode(), _DERIVATION_LABEL, hashlib.sha256
        ).digest()
    return generated_key(settings.data_dir)
