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

Sessions are issued by the server (connectors/webchat_sessions.py). The widget
keeps its flow: it stores the id from ``session_confirm`` and presents it again in
``session_request``. A presented id the server did not sign (an old widget-made
id, a guess, another channel's ``telegram:123``) gets a fresh one instead of
joining that room, and a message is written only to the session this socket was
confirmed in, whatever ``session_id`` it names.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager

from connectors.base import ConfigError
from connectors.channel import NOTICES
from connectors.guard import ShopperGuard, Verdict
from connectors.media import strip_reserved
from connectors.notices import notice
from connectors.push import ExpoPush, PushTokens, valid_registration
from connectors.settings import ChannelSettings
from connectors.webchat_sessions import PREFIX, SessionIds, key_from

logger = logging.getLogger(__name__)

# Redis pub/sub channel the replicas share socket.io rooms on.
PUBSUB_CHANNEL = "easyflow-webchat"


class WebChatOutput(SocketIOOutput):
    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, json_message)


class ProactiveWebChatOutput(WebChatOutput):
    """What Rasa sends on its own (``output_channel=latest``: an operator's
    reply, "paid"): to the session's room and, when the shopper's app registered
    a device, as a push notification too (connectors/push.py)."""

    def __init__(self, sio: Any, bot_message_evt: str, push: ExpoPush | None) -> None:
        super().__init__(sio, bot_message_evt)
        self.push = push

    async def _notify(self, recipient_id: str, text: str) -> None:
        if self.push is None:
            return
        try:
            await self.push.notify(recipient_id, "", text)
        except Exception:  # the socket got it; a push is a courtesy
            logger.exception("push.error")

    async def send_text_message(
        self, recipient_id: str, text: str, **kwargs: Any
    ) -> None:
        await super().send_text_message(recipient_id, text, **kwargs)
        await self._notify(recipient_id, text)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)
        await self._notify(recipient_id, text)


class WebChatInput(SocketIOInput):
    redis_url: str = ""
    settings: ChannelSettings | None = None
    guard: ShopperGuard | None = None
    sessions: SessionIds
    push: ExpoPush | None = None

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
        channel.settings = ChannelSettings.from_env()
        channel.redis_url = redis_url or channel.settings.redis_url
        channel.guard = ShopperGuard(channel.settings)
        try:
            channel.sessions = SessionIds(key_from(secret, channel.settings))
        except ValueError as error:
            raise ConfigError(str(error)) from None
        channel.push = ExpoPush(
            PushTokens(channel.settings.data_dir / "push_tokens.sqlite"),
            channel.settings.expo_push_url,
            channel.settings.expo_access_token,
        )
        return channel

    def get_output_channel(self) -> WebChatOutput | None:
        """The channel Rasa pushes through (``output_channel=latest``)."""
        if self.sio is None:
            return None
        return ProactiveWebChatOutput(self.sio, self.bot_message_evt, self.push)

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

        @webhook.route("/push", methods=["POST"])
        async def register_push(request: Request) -> HTTPResponse:
            """The app's Expo push token for its session (connectors/push.py)."""
            if len(request.body or b"") > 4096:
                return response.json({"error": "body_too_large"}, status=413)
            try:
                body = request.json
            except Exception:  # Sanic's InvalidUsage for a body that is not JSON
                body = None
            registration = valid_registration(body)
            if registration is None:
                return response.json({"error": "invalid_registration"}, status=400)
            session_id, token, platform = registration
            if not self.sessions.verify(session_id):
                return response.json({"error": "unknown_session"}, status=403)
            if self.push is not None:
                self.push.tokens.register(session_id, token, platform)
            logger.info("push.registered", extra={"platform": platform})
            return response.empty(status=204)

        # Registering an event again replaces Rasa's handler for it.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            presented = data.get("session_id") if isinstance(data, dict) else None
            if self.sessions.verify(presented):
                session_id = str(presented)
            else:
                session_id = self.sessions.issue()
                if presented:
                    logger.info("webchat.session_refused", extra={"sid": sid})
            if self.session_persistence:
                await self._move_to(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            sender_id = await self._sender(sid, data.get("session_id"))
            if sender_id is None:
                return
            text = data.get("message", "")
            text = text if isinstance(text, str) else ""
            output = WebChatOutput(sio, self.bot_message_evt)
            if not await self.admit(sio, sid, sender_id, text, output):
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            metadata = strip_reserved(metadata)  # "media" comes only from messengers
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
        """The conversation this socket may write to; ``None`` drops the message.

        With sessions, the one confirmed to this socket: a message that names
        another, or comes before ``session_request``, is dropped. Without, the
        socket's own id, namespaced, and its room.
        """
        assert self.sio is not None
        if not self.session_persistence:
            sender_id = f"{PREFIX}{sid}"
            await self.sio.enter_room(sid, sender_id, namespace=self.namespace)
            return sender_id
        session = await self.sio.get_session(sid, namespace=self.namespace)
        confirmed = session.get("session_id")
        if not confirmed or (claimed and claimed != confirmed):
            logger.warning(
                "webchat.message_refused",
                extra={
                    "sid": sid,
                    "reason": "no session" if not confirmed else "another session",
                },
            )
            return None
        return str(confirmed)

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
