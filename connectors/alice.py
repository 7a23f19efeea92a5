"""Yandex Alice (Yandex Dialogs) skill webhook: the reply travels in the response.

Yandex Dialogs POSTs each utterance and waits at most 4.5 s, network included, for
the reply in the HTTP response. The protocol signs nothing, so ``session.skill_id``
is compared in constant time with the skill's ID. Yandex's ``ping`` checks are
answered without Rasa; each ``session_id`` + ``message_id`` is processed once and a
retry gets the same response again. The turn's bot messages become one Alice
response. When Rasa is slower than ``deadline_s`` the shopper hears
``utter_alice_still_working`` (domain.yml) while the turn finishes in the
background; its answer comes with the shopper's next request.

credentials.yml::

    connectors.alice.AliceInput:
      skill_id: ${ALICE_SKILL_ID}
      deadline_s: 2.5      # optional, below Yandex's 4.5 s

or, with the skill id saved on the dashboard's Integrations page (Alice has no
API to check it with: Yandex checks the skill when it calls the webhook, whose
address is set in the Dialogs console) and picked up while running
(connectors/live.py; the process needs EASYFLOW_API_URL, EASYFLOW_ACTION_TOKEN
and the api's secrets key)::

    connectors.alice.AliceInput:
      from_dashboard: true
      deadline_s: 2.5      # optional
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common.security import secrets_equal
from connectors.alice_deadline import DeadlineScheduler, ready
from connectors.alice_replies import CHANNEL, AliceOutput, Reply, render
from connectors.base import ConfigError, Delivery, require
from connectors.channel import NOTICES, WebhookChannel
from connectors.dedupe import DedupeStore
from connectors.guard import ShopperGuard, Verdict
from connectors.live import DashboardCredentials
from connectors.notices import domain_text, notice

logger = logging.getLogger(__name__)

YANDEX_TIMEOUT_S = 4.5
DEFAULT_DEADLINE_S = 2.5
PING = "ping"
GREET = "/greet"
PING_RESPONSE = "utter_greet"


def utterance(request: dict[str, Any]) -> str:
    """What the shopper said, or the payload of the button they pressed."""
    if request.get("type") == "ButtonPressed":
        payload = request.get("payload")
        if isinstance(payload, str):  # the docs type it as a string holding JSON
            try:
                payload = json.loads(payload)
            except ValueError:
                return payload.strip()
        if isinstance(payload, dict) and isinstance(payload.get("payload"), str):
            return payload["payload"].strip()
    text = request.get("original_utterance") or request.get("command")
    if not text and request.get("type") == "ButtonPressed":
        text = " ".join(map(str, (request.get("nlu") or {}).get("tokens") or []))
    return str(text or "").strip()


def _deadline(credentials: dict[str, Any]) -> float:
    try:
        return float(credentials.get("deadline_s") or DEFAULT_DEADLINE_S)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"credentials.yml: {CHANNEL}.deadline_s must be a number of seconds"
        ) from error


class AliceInput(WebhookChannel):
    CHANNEL = CHANNEL
    auth_in_body = True  # the skill id is a field of the request

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> AliceInput:
        if credentials and credentials.get("from_dashboard"):
            return cls.from_dashboard(credentials)
        require(credentials, CHANNEL, "skill_id")
        assert credentials is not None
        return cls(
            str(credentials["skill_id"]).strip(), deadline_s=_deadline(credentials)
        )

    @classmethod
    def from_dashboard(
        cls, credentials: dict[str, Any], env: Mapping[str, str] | None = None
    ) -> AliceInput:
        """The skill id from the dashboard's Integrations page, picked up while
        running (connectors/live.py); until the first read, and while the
        integration is disabled, every request is refused, pings too."""
        channel = cls("", deadline_s=_deadline(credentials))
        channel.live = DashboardCredentials.from_env(CHANNEL, channel.use, env)
        return channel

    def use(self, values: dict[str, str] | None) -> None:
        """The skill id from the dashboard (``None``: disabled)."""
        self.skill_id = (values or {}).get("ALICE_SKILL_ID", "").strip()

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        if self.live is not None:
            self.live.attach(webhook)
        return webhook

    def __init__(
        self,
        skill_id: str,
        deadline_s: float = DEFAULT_DEADLINE_S,
        dedupe: DedupeStore | None = None,
        max_sessions: int = 10_000,
        guard: ShopperGuard | None = None,
    ) -> None:
        if not 0 < deadline_s < YANDEX_TIMEOUT_S:
            raise ConfigError(
                f"credentials.yml: {CHANNEL}.deadline_s must be between 0 and "
                f"{YANDEX_TIMEOUT_S} s (Yandex's timeout, network included)"
            )
        super().__init__(dedupe=dedupe, guard=guard)
        self.skill_id = skill_id
        self.deadline_s = deadline_s
        self.live: DashboardCredentials | None = None
        self.turns = DeadlineScheduler(deadline_s, self.dedupe, max_sessions)

    def make_output(self) -> AliceOutput:
        return AliceOutput()

    def invalid(self, update: Any) -> str | None:
        if not (
            isinstance(update, dict)
            and isinstance(update.get("session"), dict)
            and isinstance(update.get("request"), dict)
        ):
            return "not an Alice request"
        return None

    def authenticate(self, request: Request, update: Any) -> bool:
        skill_id = update["session"].get("skill_id")
        return isinstance(skill_id, str) and secrets_equal(self.skill_id, skill_id)

    def intercept(self, request: Request, update: dict[str, Any]) -> Any:
        session = update["session"]
        message_id = session.get("message_id")
        if (
            not isinstance(session.get("session_id"), str)
            or not session["session_id"]
            or not isinstance(message_id, int)
            or isinstance(message_id, bool)
        ):
            return self.error("no session_id/message_id", 400)
        return None

    def deliveries(self, update: dict[str, Any]) -> list[Delivery]:
        return [self.parse(update)]

    async def handle(
        self,
        request: Request,
        update: dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        started: float,
    ) -> HTTPResponse:
        """The reply travels in the response: ping, the limits, or the turn."""
        agent: Agent | None = getattr(request.app.ctx, "agent", None)
        if str(update["request"].get("original_utterance")).strip() == PING:
            reply = self.ping_reply(agent)
        else:
            delivery = self.parse(update)
            ip = self.guard.client_ip(
                request.ip, request.headers.get("X-Forwarded-For")
            )
            verdict = await self.guard.check(delivery.sender_id, delivery.text, ip)
            if verdict is Verdict.ALLOW:
                reply = await self.turns.answer(
                    delivery, agent, on_new_message, started
                )
            else:  # a voice reply cannot be silence: every refusal is said
                name = NOTICES.get(verdict, NOTICES[Verdict.THROTTLED])
                text = notice(agent, name, delivery.text, CHANNEL)
                reply = render([{"text": text}]) if text else None
        if reply is None:
            return self.error("try again", 503)
        return response.json(reply)

    def parse(self, update: dict[str, Any]) -> Delivery:
        session, request = update["session"], update["request"]
        session_id, message_id = session["session_id"], session["message_id"]
        user = session.get("user") or {}
        application = session.get("application") or {}
        meta = update.get("meta") or {}
        metadata = {
            "session_id": session_id,
            "message_id": message_id,
            "new_session": bool(session.get("new")),
            "request_type": request.get("type"),
            "user_id": user.get("user_id"),  # only for a signed-in Yandex user
            "application_id": application.get("application_id"),
            "locale": meta.get("locale"),
            "timezone": meta.get("timezone"),
            "has_screen": "screen" in (meta.get("interfaces") or {}),
        }
        return Delivery(
            key=f"{CHANNEL}:{session_id}:{message_id}",
            sender_id=f"{CHANNEL}:{session_id}",
            # A new session, or nothing said: the greeting tells what the bot does.
            text=utterance(request) or GREET,
            metadata={k: v for k, v in metadata.items() if v is not None},
        )

    def ping_reply(self, agent: Agent | None) -> Reply | None:
        """Yandex's health check, answered from the domain without running Rasa."""
        text = (
            domain_text(agent.domain, PING_RESPONSE, channel=CHANNEL)
            if agent is not None and ready(agent)
            else None
        )
        return render([{"text": text}]) if text else None
