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
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from socketio import AsyncRedisManager

from connectors.channel import NOTICES
from connectors.guard import ShopperGuard, Verdict
from connectors.notices import notice
from connectors.settings import ChannelSettings

logger = logging.getLogger(__name__)

# Redis pub/sub channel the replicas share socket.io rooms on.
PUBSUB_CHANNEL = "easyflow-webchat"
# What the widget generates (128 random bits in hex; older browsers fewer). Any
# other id, "telegram:123" included, could name another channel's conversation.
SESSION_ID = re.compile(r"^[0-9a-f]{16,64}$")


def valid_session_id(value: object) -> bool:
    return isinstance(value, str) and SESSION_ID.match(value) is not None


class WebChatOutput(SocketIOOutput):
    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, json_message)


class WebChatInput(SocketIOInput):
    redis_url: str = ""
    settings: ChannelSettings | None = None
    guard: ShopperGuard | None = None

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        credentials = dict(credentials or {})
        redis_url = credentials.pop("redis_url", None)
        channel = super().from_credentials(credentials)
        assert isinstance(channel, WebChatInput)
        channel.settings = ChannelSettings.from_env()
        channel.redis_url = redis_url or channel.settings.redis_url
        channel.guard = ShopperGuard(channel.settings)
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
        elif (self.settings or ChannelSettings.from_env()).workers > 1:
            logger.warning(
                "webchat.workers_without_redis",
                extra={
                    "workers": (self.settings or ChannelSettings.from_env()).workers,
                    "effect": "a push handled by another worker misses the widget; "
                    "set EASYFLOW_REDIS_URL",
                },
            )

        # Registering an event again replaces Rasa's handler for it.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            if not valid_session_id(data.get("session_id")):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, data["session_id"])
            await sio.emit("session_confirm", data["session_id"], room=sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: dict[str, Any]) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                if not valid_session_id(data.get("session_id")):
                    logger.info("webchat.session_refused", extra={"sid": sid})
                    return
                sender_id = data["session_id"]
            else:
                sender_id = sid
            text = data.get("message", "")
            text = text if isinstance(text, str) else ""
            output = WebChatOutput(sio, self.bot_message_evt)
            if not await self.admit(sio, sid, sender_id, text, output):
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            await on_new_message(
                UserMessage(
                    text,
                    output,
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )

        return webhook

    async def admit(
        self,
        sio: Any,
        sid: str,
        sender_id: str,
        text: str,
        output: WebChatOutput,
    ) -> bool:
        """The shopper limits (connectors/guard.py); over them, one notice."""
        guard = self.guard or ShopperGuard.from_env()
        self.guard = guard
        try:
            request = sio.get_environ(sid, namespace=self.namespace)["sanic.request"]
            ip = guard.client_ip(request.ip, request.headers.get("X-Forwarded-For"))
        except (KeyError, TypeError, AttributeError):
            request, ip = None, None
        verdict = await guard.check(sender_id, text, ip)
        if verdict is Verdict.ALLOW:
            return True
        name = NOTICES.get(verdict)
        agent = getattr(getattr(request, "app", None), "ctx", None)
        agent = getattr(agent, "agent", None)
        words = notice(agent, name, text, self.name()) if name else None
        if words:
            await output.send_text_message(sender_id, words)
        return False
