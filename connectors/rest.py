"""The REST channel for production: a message that was not processed gets 503.

Rasa's own ``RestInput`` catches every error while handling a message and answers
``200 []``, and anything already collected is sent even when the tracker could not
be saved. Behind a load balancer that hides outages: the caller cannot tell "the bot
had nothing to say" from "the message was lost". This channel keeps the path
``/webhooks/rest/webhook`` and the request format, and answers:

- ``200`` with the bot messages only after the turn, tracker save included,
  finished;
- ``503`` with ``Retry-After`` when the lock store (Redis) or the tracker store
  (PostgreSQL) is unavailable, or the turn failed otherwise. Nothing of that turn
  was stored, so sending the same message again is safe.

Streaming (``?stream=true``) is not offered here.

The channel decides the conversation id: a ``sender`` becomes ``rest:<sender>``
(unless it already starts with ``rest:``, so a caller that reuses the
``recipient_id`` of a reply stays in its conversation). A REST caller proves
nothing about who it is, so it must not continue a Telegram shopper's conversation
by posting as ``telegram:123``, nor pass for a WhatsApp phone (``whatsapp:…``,
which ``actions/privacy.py`` trusts as verified). The input channel is always
``rest`` for the same reason: ``output_channel=latest`` and analytics read it.
A missing ``sender`` gets a fresh ``rest:<uuid>``; a ``sender`` that is not a
string of at most ``MAX_SENDER_CHARS`` characters from ``SENDER_CHARS`` is refused
with 400. Those are the characters a URL path carries unencoded: Rasa's HTTP API
(Sanic) does not percent-decode a conversation id, so an id with a space, ``%``,
``?`` or a Cyrillic letter could never be reached by ``trigger_intent`` (an
operator's reply, a payment notice).

The shopper limits (``connectors/guard.py``) apply: a message longer than
``EASYFLOW_MAX_MESSAGE_CHARS`` gets 413, a sender or client IP over its messages
per minute 429 with ``Retry-After``; neither reaches Rasa. A message answered with
503 does not count against the limits: its retry is the same message. A body over
1 MB gets 413, a body that is not a JSON object or a ``message`` that is not text
gets 400, before any limit is counted.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.channel import MAX_BODY_BYTES
from connectors.guard import WINDOW_S, ShopperGuard, Verdict

logger = logging.getLogger(__name__)

RETRY_AFTER_S = "2"
NAMESPACE = "rest:"
MAX_SENDER_CHARS = 128
SENDER_CHARS = "A-Z a-z 0-9 and _ . ~ - : @ ! $ & ' ( ) * + , ; = /"
_SENDER = re.compile(r"[A-Za-z0-9_.~:@!$&'()*+,;=/-]+")


def conversation_id(sender: object) -> str | None:
    """The conversation a REST ``sender`` writes to; ``None`` when it is invalid."""
    if sender is None:
        return f"{NAMESPACE}{uuid.uuid4().hex}"
    if isinstance(sender, int) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip():
        return None
    sender = sender.strip()
    if len(sender) > MAX_SENDER_CHARS or not _SENDER.fullmatch(sender):
        return None
    return sender if sender.startswith(NAMESPACE) else f"{NAMESPACE}{sender}"


def _refuse_body(request: Request) -> HTTPResponse | None:
    """413 for a body over ``MAX_BODY_BYTES``, 400 for one that is not a JSON
    object; ``None`` when the body may be read."""
    if len(request.body or b"") > MAX_BODY_BYTES:
        return response.json({"error": "body_too_large"}, status=413)
    try:
        body = request.json
    except Exception:  # Sanic raises its own InvalidUsage for bad JSON
        body = None
    if not isinstance(body, dict):
        return response.json(
            {"error": "invalid_body", "detail": "the body must be a JSON object"},
            status=400,
        )
    return None


class StrictRestInput(RestInput):
    guard: ShopperGuard | None = None

    @classmethod
    def name(cls) -> str:
        return "rest"

    def shopper_guard(self) -> ShopperGuard:
        if self.guard is None:
            self.guard = ShopperGuard.from_env()
        return self.guard

    async def _extract_sender(self, req: Request) -> str | None:
        return conversation_id((req.json or {}).get("sender"))

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = Blueprint("easyflow_strict_rest", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refused = _refuse_body(request)
            if refused is not None:
                return refused
            sender_id = await self._extract_sender(request)
            if sender_id is None:
                logger.info("rest.sender_refused")
                return response.json(
                    {
                        "error": "invalid_sender",
                        "detail": "sender must be a non-empty string of at most "
                        f"{MAX_SENDER_CHARS} characters from {SENDER_CHARS}",
                    },
                    status=400,
                )
            text = self._extract_message(request)
            if not isinstance(text, str):
                return response.json(
                    {"error": "invalid_message", "detail": "message must be text"},
                    status=400,
                )
            guard = self.shopper_guard()
            ip = guard.client_ip(request.ip, request.headers.get("X-Forwarded-For"))
            verdict = await guard.check(sender_id, text or "", ip)
            if verdict is Verdict.TOO_LONG:
                return response.json(
                    {
                        "error": "message_too_long",
                        "max_chars": guard.settings.max_message_chars,
                    },
                    status=413,
                )
            if verdict is not Verdict.ALLOW:
                return response.json(
                    {"error": "rate_limited", "retry": True},
                    status=429,
                    headers={"Retry-After": str(WINDOW_S)},
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender_id,
                        input_channel=self._extract_input_channel(request),
                        metadata=self.get_metadata(request),
                    )
                )
            except Exception as error:
                logger.error(
                    "rest.message_not_processed",
                    extra={"sender_id": sender_id, "error": repr(error)},
                )
                await guard.release(sender_id, ip)  # the retry must not count twice
                return response.json(
                    {"error": "unavailable", "retry": True},
                    status=503,
                    headers={"Retry-After": RETRY_AFTER_S},
                )
            return response.json(collector.messages)

        return webhook
