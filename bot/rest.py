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
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_S = "2"


class StrictRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = Blueprint("easyflow_strict_rest", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
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
                return response.json(
                    {"error": "unavailable", "retry": True},
                    status=503,
                    headers={"Retry-After": RETRY_AFTER_S},
                )
            return response.json(collector.messages)

        return webhook
