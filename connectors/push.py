"""Push notifications for the shopper app (mobile/): Expo push tokens tied to web
chat sessions, and proactive messages sent through the Expo push service.

The app registers ``POST /webhooks/socketio/push`` with ``{"session_id",
"token", "platform"}``. The session id must be one the server issued and signed
(connectors/webchat_sessions.py): it is the proof that the caller holds that
session, so nobody can register a device for another shopper's conversation.

Only proactive messages are pushed: those Rasa sends through
``output_channel=latest`` (an operator's reply, "payment received", an order
update), not the replies to the shopper's own messages. The app shows nothing
while it is in the foreground (it has the socket); in the background the push
is what reaches the shopper.

Expo push service (docs.expo.dev/push-notifications/sending-notifications):
``POST {EASYFLOW_EXPO_PUSH_URL}/--/api/v2/push/send`` with a JSON array of
messages ``{"to", "title", "body", "data"}`` (``Authorization: Bearer`` when the
project enforces access tokens, ``EASYFLOW_EXPO_ACCESS_TOKEN``); the answer is
``{"data": [ticket, ...]}`` in the same order, a ticket being
``{"status": "ok", "id"}`` or ``{"status": "error", "message", "details":
{"error": "DeviceNotRegistered" | ...}}``. A ``DeviceNotRegistered`` token is
removed. Receipts (``/push/getReceipts``) are not read.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

from common.http import PlatformClient, PlatformError, RetryPolicy

logger = logging.getLogger(__name__)

TOKEN = re.compile(r"Expo(?:nent)?PushToken\[[A-Za-z0-9_\-]{8,200}\]")
PLATFORMS = frozenset({"ios", "android"})
SEND_PATH = "/--/api/v2/push/send"
NOT_REGISTERED = "DeviceNotRegistered"


class PushTokens:
    """Which Expo token each web chat session registered (SQLite file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._created = False

    def _db(self) -> sqlite3.Connection:
        """A connection; the file and table are made on first use only."""
        if not self._created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        if not self._created:
            db.execute(
                "CREATE TABLE IF NOT EXISTS push_tokens (session_id TEXT PRIMARY KEY,"
                " token TEXT NOT NULL, platform TEXT NOT NULL)"
            )
            self._created = True
        return db

    def register(self, session_id: str, token: str, platform: str) -> None:
        with self._lock:
            db = self._db()
            try:
                db.execute(
                    "INSERT INTO push_tokens VALUES (?, ?, ?) ON CONFLICT(session_id)"
                    " DO UPDATE SET token = excluded.token,"
                    " platform = excluded.platform",
                    (session_id, token, platform),
                )
            finally:
                db.close()

    def token_of(self, session_id: str) -> str | None:
        with self._lock:
            db = self._db()
            try:
                row = db.execute(
                    "SELECT token FROM push_tokens WHERE session_id = ?",
                    (session_id,),
                ).fetchone()
            finally:
                db.close()
        return row[0] if row else None

    def forget_token(self, token: str) -> None:
        with self._lock:
            db = self._db()
            try:
                db.execute("DELETE FROM push_tokens WHERE token = ?", (token,))
            finally:
                db.close()


def valid_registration(body: Any) -> tuple[str, str, str] | None:
    """``(session_id, token, platform)`` from a registration body, else None."""
    if not isinstance(body, dict):
        return None
    session_id, token, platform = (
        body.get("session_id"),
        body.get("token"),
        body.get("platform"),
    )
    if not all(isinstance(v, str) for v in (session_id, token, platform)):
        return None
    if not TOKEN.fullmatch(token) or platform not in PLATFORMS:
        return None
    return session_id, token, platform


class ExpoPush:
    """Sends one notification per proactive message to the session's device."""

    def __init__(
        self, tokens: PushTokens, base_url: str, access_token: str = ""
    ) -> None:
        self.tokens = tokens
        self.base_url = base_url
        self.access_token = access_token

    async def notify(self, session_id: str, title: str, body: str) -> bool:
        """``True`` when Expo accepted it; nothing is sent without a token."""
        token = self.tokens.token_of(session_id)
        if token is None or not body.strip():
            return False
        headers = (
            {"Authorization": f"Bearer {self.access_token}"}
            if self.access_token
            else {}
        )
        client = PlatformClient(
            "expo", self.base_url, timeout_s=10, retry=RetryPolicy(max_attempts=3)
        )
        message = {
            "to": token,
            "title": title,
            "body": body[:500],
            "data": {"session_id": session_id},
        }
        try:
            answer = await client.post(SEND_PATH, json=[message], headers=headers)
        except PlatformError as error:
            logger.warning("push.failed", extra={"error": str(error)})
            return False
        finally:
            await client.close()
        tickets = answer.get("data") if isinstance(answer, dict) else None
        ticket = tickets[0] if isinstance(tickets, list) and tickets else {}
        if not isinstance(ticket, dict) or ticket.get("status") != "ok":
            details = ticket.get("details") if isinstance(ticket, dict) else None
            error = details.get("error") if isinstance(details, dict) else None
            if error == NOT_REGISTERED:
                self.tokens.forget_token(token)
                logger.info("push.device_not_registered")
            else:
                logger.warning("push.refused", extra={"error": str(error)})
            return False
        return True
