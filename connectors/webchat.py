"""The web chat widget's channel: Rasa's socket.io channel, fixed for
python-socketio 5.10 and later.

Rasa 3.6's ``SocketIOInput`` calls ``AsyncServer.enter_room`` without ``await``;
since python-socketio 5.10 that is a coroutine, so with ``session_persistence``
the socket never joins its session's room and no reply reaches the widget (the
connection still looks healthy: ``session_confirm`` goes to the socket itself).
Rasa also emits custom JSON as keyword arguments (``sio.emit(evt, **json)``),
which raises ``TypeError`` for any payload without a ``data`` key; here the dict
itself is the event's payload, which is what the widget reads (handoff indicator).

Enabled in ``credentials.yml`` as ``connectors.webchat.WebChatInput`` with the
same keys as Rasa's ``socketio`` block. The channel keeps the name ``socketio``,
so ``output_channel=latest`` (operator replies, payment notices) finds it.

Several Rasa replicas, or workers (``EASYFLOW_RASA_WORKERS``): a widget's socket
lives on one process, while a pushed message (an operator's reply, "paid") arrives
through the HTTP API at any of them.
With ``redis_url`` (default ``EASYFLOW_REDIS_URL``) the replicas share socket.io
rooms through Redis pub/sub (python-socketio's ``AsyncRedisManager``), so a push
from any replica reaches the socket wherever it is.

Sessions are issued by the server (``SessionIds``): a session id is
``webchat:<128 random bits>.<HMAC>``, and it is both the conversation id and the
socket.io room that replies are pushed to. The widget keeps its flow (it stores the
id from ``session_confirm`` and presents it again in ``session_request``); a
presented id the server did not sign (an old client-made id, a guess, another
channel's ``telegram:123``) gets a fresh one instead of joining that room, and a
message is written only to the session this socket was confirmed in, whatever
``session_id`` it names. The signing key, in order: ``session_secret`` in
credentials.yml or ``EASYFLOW_WEBCHAT_SECRET``; else derived from
``EASYFLOW_RASA_TOKEN`` (which every replica already shares); else generated once
into ``<EASYFLOW_DATA_DIR>/webchat_secret`` (the embedded default). Changing the
key starts new sessions for every widget.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from socketio import AsyncRedisManager

from connectors.base import ConfigError

logger = logging.getLogger(__name__)

# Redis pub/sub channel the replicas share socket.io rooms on.
PUBSUB_CHANNEL = "easyflow-webchat"
SESSION_PREFIX = "webchat:"
SECRET_ENV = "EASYFLOW_WEBCHAT_SECRET"
SECRET_FILE = "webchat_secret"
_DERIVATION_LABEL = b"easyflow webchat session key v1"
_SESSION = re.compile(
    rf"{re.escape(SESSION_PREFIX)}(?P<token>[0-9a-f]{{32}})\.(?P<mac>[0-9a-f]{{32}})"
)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SessionIds:
    """Issues and verifies web chat session ids; only the key's holder can mint one."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the web chat session key needs at least 16 bytes")
        self._key = key

    def _mac(self, token: str) -> str:
        message = f"webchat-session:{token}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        token = secrets.token_hex(16)
        return f"{SESSION_PREFIX}{token}.{self._mac(token)}"

    def verify(self, session_id: object) -> bool:
        if not isinstance(session_id, str):
            return False
        match = _SESSION.fullmatch(session_id)
        return bool(match) and hmac.compare_digest(
            match["mac"], self._mac(match["token"])
        )


def _generated_key(data_dir: Path) -> bytes:
    """The key in ``data_dir``, created once; workers racing to create it agree."""
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


def session_key(secret: str | None, env: Mapping[str, str]) -> bytes:
    """The signing key for session ids (order in the module docstring)."""
    explicit = (secret or env.get(SECRET_ENV) or "").strip()
    if explicit:
        if len(explicit) < 16:
            raise ConfigError(f"{SECRET_ENV} needs at least 16 characters")
        return explicit.encode()
    rasa_token = (env.get("EASYFLOW_RASA_TOKEN") or "").strip()
    if rasa_token:
        return hmac.new(rasa_token.encode(), _DERIVATION_LABEL, hashlib.sha256).digest()
    data_dir = Path(env.get("EASYFLOW_DATA_DIR") or PROJECT_ROOT / "var")
    if not data_dir.is_absolute():
        data_dir = PROJECT_ROOT / data_dir
    return _generated_key(data_dir)


def _sanic_workers() -> int:
    try:
        return int(os.environ.get("SANIC_WORKERS", "1"))
    except ValueError:  # Rasa falls back to one worker too
        return 1


class WebChatOutput(SocketIOOutput):
    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, json_message)


class WebChatInput(SocketIOInput):
    redis_url: str = ""
    sessions: SessionIds

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        credentials = dict(credentials or {})
        redis_url = credentials.pop("redis_url", None)
        secret = credentials.pop("session_secret", None)
        channel = super().from_credentials(credentials)
        assert isinstance(channel, WebChatInput)
        channel.redis_url = redis_url or os.environ.get("EASYFLOW_REDIS_URL", "")
        channel.sessions = SessionIds(session_key(secret, os.environ))
        return channel

    def get_output_channel(self) -> WebChatOutput | None:
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        if sio is None:  # pragma: no cover - super().blueprint always sets it
            raise RuntimeError("socket.io server was not created")
        if self.redis_url:
            # Before the first connection, so the manager is the one initialised.
            manager = AsyncRedisManager(self.redis_url, channel=PUBSUB_CHANNEL)
            manager.set_server(sio)
            sio.manager = manager
        elif _sanic_workers() > 1:
            logger.warning(
                "webchat.workers_without_redis",
                extra={
                    "workers": os.environ["SANIC_WORKERS"],
                    "effect": "a push handled by another worker misses the widget; "
                    "set EASYFLOW_REDIS_URL",
                },
            )

        # Registering an event again replaces Rasa's handler for it.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            presented = data.get("session_id") if isinstance(data, dict) else None
            if self.sessions.verify(presented):
                session_id = str(presented)
            else:
                session_id = self.sessions.issue()
                if presented:
                    logger.info("webchat.session.refused", extra={"sid": sid})
            if self.session_persistence:
                await self._move_to(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            sender_id = await self._sender(sid, data.get("session_id"))
            if sender_id is None:
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            await on_new_message(
                UserMessage(
                    data.get("message", ""),
                    WebChatOutput(sio, self.bot_message_evt),
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        return webhook

    async def _move_to(self, sid: str, session_id: str) -> None:
        """Puts the socket in ``session_id``'s room only, and remembers it."""
        assert self.sio is not None
        session = await self.sio.get_session(sid, namespace=self.namespace)
        previous = session.get("session_id")
        if previous and previous != session_id:
            await self.sio.leave_room(sid, previous, namespace=self.namespace)
        await self.sio.enter_room(sid, session_id, namespace=self.namespace)
        session["session_id"] = session_id
        await self.sio.save_session(sid, session, namespace=self.namespace)

    async def _sender(self, sid: str, claimed: object) -> str | None:
        """The conversation this socket may write to; ``None`` to drop the message.

        With sessions, the one confirmed to this socket; a message that names
        another (or comes before ``session_request``) is dropped. Without, the
        socket's own id, namespaced, and its room.
        """
        assert self.sio is not None
        if not self.session_persistence:
            sender_id = f"{SESSION_PREFIX}{sid}"
            await self.sio.enter_room(sid, sender_id, namespace=self.namespace)
            return sender_id
        session = await self.sio.get_session(sid, namespace=self.namespace)
        confirmed = session.get("session_id")
        if not confirmed or (claimed and claimed != confirmed):
            logger.warning(
                "webchat.message.refused",
                extra={
                    "sid": sid,
                    "reason": "no session" if not confirmed else "another session",
                },
            )
            return None
        return str(confirmed)
