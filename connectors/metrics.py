"""Rasa-side metrics, served at ``GET /metrics`` of every Rasa replica.

Enabled by the input channel ``connectors.metrics.MetricsChannel:`` in the credentials
file (the production profile adds it, see ``deploy/production/credentials.py``).
Rasa registers input channels while it builds its Sanic app, so the channel is the
one hook Rasa loads from configuration before the server starts:

- its blueprint serves ``/metrics`` at the root (``url_prefix`` is ``/``);
- a ``before_server_start`` listener adds app-wide middleware that times every
  ``POST /webhooks/<channel>/webhook`` from request to response;
- the processor's ``_log_action_on_tracker`` is wrapped to count fallback actions
  and custom actions that ended in the ``utter_action_failed`` apology
  (``bot.dialogue.action_guard``);
- the same listener makes the process log JSON lines (``common/logging.py``),
  after Rasa and Sanic have set up their own logging.

Metric names are a contract with ``deploy/monitoring`` (alert rules). The metrics
live in prometheus-client (``common/metrics.py``); with ``PROMETHEUS_MULTIPROC_DIR``
set, the page sums every Sanic worker of this server (Rasa's ``SANIC_WORKERS``),
one folder per server.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.dialogue.action_guard import APOLOGY_RESPONSE
from common.logging import configure_logging
from common.metrics import CONTENT_TYPE, Registry

REGISTRY = Registry()
MESSAGES = REGISTRY.counter(
    "easyflow_messages_total",
    "Shopper messages received on a channel webhook.",
    ["channel"],
)
MESSAGE_LATENCY = REGISTRY.histogram(
    "easyflow_message_latency_seconds",
    "Channel webhook request to response, seconds.",
    ["channel"],
)
FALLBACKS = REGISTRY.counter(
    "easyflow_fallbacks_total",
    "Messages answered by a fallback action (no flow covered them).",
)
ACTION_ERRORS = REGISTRY.counter(
    "easyflow_action_errors_total",
    "Custom actions that failed or timed out and were answered with an apology.",
    ["action"],
)

FALLBACK_ACTIONS = frozenset({"action_llm_fallback", "action_default_fallback"})
WEBHOOK_PATH = re.compile(r"^/webhooks/([^/]+)/webhook/?$")


def record_action(action_name: str, events: list[Any] | None) -> None:
    """Counts a fallback or a failed custom action from the events it produced."""
    if action_name in FALLBACK_ACTIONS:
        FALLBACKS.inc()
    for event in events or []:
        if (
            isinstance(event, BotUttered)
            and (event.metadata or {}).get("utter_action") == APOLOGY_RESPONSE
            and action_name != APOLOGY_RESPONSE
        ):
            ACTION_ERRORS.inc(action=action_name)
            return


def _install_processor_hook() -> None:
    original = MessageProcessor._log_action_on_tracker
    if getattr(original, "_easyflow_metrics", False):
        return

    def _log_action_on_tracker(
        self: MessageProcessor,
        tracker: Any,
        action: Any,
        events: list[Any] | None,
        prediction: Any,
    ) -> None:
        record_action(action.name(), events)
        original(self, tracker, action, events, prediction)

    _log_action_on_tracker._easyflow_metrics = True  # type: ignore[attr-defined]
    MessageProcessor._log_action_on_tracker = _log_action_on_tracker  # type: ignore[method-assign]


def install_middleware(app: Sanic, channels: set[str]) -> None:
    """Times channel webhooks; ``channels`` bounds the label's values."""

    async def started(request: Request) -> None:
        request.ctx.easyflow_started = time.perf_counter()

    async def finished(request: Request, reply: HTTPResponse) -> None:
        match = WEBHOOK_PATH.match(request.path)
        if request.method != "POST" or not match or match.group(1) not in channels:
            return
        channel = match.group(1)
        MESSAGES.inc(channel=channel)
        begun = getattr(request.ctx, "easyflow_started", None)
        if begun is not None:
            MESSAGE_LATENCY.observe(time.perf_counter() - begun, channel=channel)

    app.register_middleware(started, "request")
    app.register_middleware(finished, "response")


class MetricsChannel(InputChannel):
    """Not a chat channel: it only serves ``/metrics`` and installs the hooks."""

    @classmethod
    def name(cls) -> str:
        return "metrics"

    def url_prefix(self) -> str:
        return "/"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        blueprint = Blueprint("easyflow_metrics", __name__)
        _install_processor_hook()

        @blueprint.route("/metrics", methods=["GET"])
        async def metrics(request: Request) -> HTTPResponse:
            return response.text(REGISTRY.render(), content_type=CONTENT_TYPE)

        @blueprint.listener("before_server_start")
        async def install(app: Sanic, _loop: Any) -> None:
            # At the level Rasa set from --debug / LOG_LEVEL.
            configure_logging("rasa", logging.getLogger().level or logging.INFO)
            if getattr(app.ctx, "easyflow_metrics", False):
                return  # ASGI servers may start the app more than once
            app.ctx.easyflow_metrics = True
            channels = {
                channel.name()
                for channel in getattr(app.ctx, "input_channels", [])
                if channel.name() != self.name()
            }
            install_middleware(app, channels)

        return blueprint
