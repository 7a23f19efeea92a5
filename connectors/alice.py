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
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    UserMessage,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common.security import secrets_equal
from connectors.base import ConfigError, Delivery, button_payload, deliver, require
from connectors.dedupe import DEFAULT_TTL_S, DedupeStore, dedupe_from_env
from connectors.text import split_text

logger = logging.getLogger(__name__)

CHANNEL = "alice"
VERSION = "1.0"
MAX_TEXT = 1024
MAX_TTS = 1024
MAX_TITLE = 64
MAX_URL_BYTES = 1024
MAX_PAYLOAD_BYTES = 4096
YANDEX_TIMEOUT_S = 4.5
DEFAULT_DEADLINE_S = 2.5
PING = "ping"
GREET = "/greet"
PING_RESPONSE = "utter_greet"
STILL_WORKING = "utter_alice_still_working"
END_SESSION_RESPONSES = frozenset({"utter_goodbye"})
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WORDS = re.compile(r"\w+")

Reply = dict[str, Any]


class AliceOutput(CollectingOutputChannel):
    """Collects one turn's bot messages, one entry per bot response.

    ``name()`` is "alice", so ``channel: alice`` response variations apply.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        custom = message.get("custom")
        custom = custom if isinstance(custom, dict) else {}
        utter_action = message.get("utter_action")
        entry = {
            "recipient_id": recipient_id,
            "text": message.get("text") or custom.get("text"),
            "tts": custom.get("tts"),
            "buttons": message.get("buttons") or message.get("quick_replies"),
            "card": custom.get("card"),
            # Kept for completeness: Alice shows only images uploaded to Yandex
            # (a ``custom: {card: ...}`` with an image_id), never an image URL.
            "image": message.get("image"),
            "utter_action": utter_action,
            "end_session": utter_action in END_SESSION_RESPONSES
            or custom.get("end_session") is True,
        }
        await self._persist_message({k: v for k, v in entry.items() if v is not None})


def render(messages: Iterable[dict[str, Any]]) -> Reply:
    """One Alice response for a turn's messages, within Alice's length limits."""
    texts: list[str] = []
    speech: list[str] = []
    buttons: list[dict[str, Any] | None] = []
    body: dict[str, Any] = {}
    end_session = False
    for message in messages:
        text = str(message.get("text") or "").strip()
        if text:
            texts.append(text)
        spoken = str(message.get("tts") or "").strip() or speakable(text)
        if spoken:
            speech.append(spoken)
        buttons.extend(alice_button(b) for b in message.get("buttons") or [])
        if isinstance(message.get("card"), dict):
            body["card"] = message["card"]
        end_session = end_session or bool(message.get("end_session"))
    body.update(
        text=clip("\n\n".join(texts), MAX_TEXT),
        tts=clip(" ".join(speech), MAX_TTS),
        end_session=end_session,
    )
    if buttons := [b for b in buttons if b]:
        body["buttons"] = buttons
    return {"response": body, "version": VERSION}


def clip(text: str, limit: int) -> str:
    """The text, or its first ``limit`` characters cut between sentences."""
    return (split_text(text, limit) or [""])[0]


def speakable(text: str) -> str:
    """What Alice says for a text: links are read out badly, so they are dropped."""
    return " ".join(_URL.sub(" ", text).split())


def alice_button(button: dict[str, Any]) -> dict[str, Any] | None:
    """A suggest chip; pressing it sends ``{"payload": "/affirm"}`` back to us."""
    title = clip(str(button.get("title") or button_payload(button)), MAX_TITLE)
    if not title:
        return None
    chip: dict[str, Any] = {"title": title, "hide": True}
    url = str(button.get("url") or "")
    if url and len(url.encode()) <= MAX_URL_BYTES:
        chip["url"] = url
    payload = button.get("payload")
    if isinstance(payload, str) and payload:
        payload = {"payload": payload}
    # Without a payload (too big) a press sends the title, which NLU understands.
    if (
        isinstance(payload, dict)
        and payload
        and _json_size(payload) <= MAX_PAYLOAD_BYTES
    ):
        chip["payload"] = payload
    return chip


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


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


def ready(agent: Agent | None) -> bool:
    return agent is not None and agent.domain is not None and agent.is_ready()


def same_words(first: str, second: str) -> bool:
    return _WORDS.findall(first.casefold()) == _WORDS.findall(second.casefold())


def domain_text(domain: Domain, name: str) -> str | None:
    """A response's default text straight from the domain, without the NLG."""
    variations = [
        v
        for v in domain.responses.get(name, [])
        if v.get("text") and not v.get("condition")
    ]
    variations.sort(key=lambda v: v.get("channel") != CHANNEL)
    for variation in variations:
        if variation.get("channel") in (None, CHANNEL):
            return str(variation["text"])
    return None


@dataclass(eq=False)
class _Turn:
    """One delivery being (or having been) processed by Rasa."""

    delivery: Delivery
    output: AliceOutput
    task: asyncio.Task[bool]
    delivered: bool = False

    @property
    def failed(self) -> bool:
        return self.task.done() and (
            self.task.cancelled() or self.task.exception() is not None
        )


@dataclass
class _Session:
    expires: float = 0.0
    last: tuple[int, Reply] | None = None  # (message_id, the response we gave)
    late: list[_Turn] = field(default_factory=list)  # answered "still working"


class AliceInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> AliceInput:
        require(credentials, CHANNEL, "skill_id")
        assert credentials is not None
        try:
            deadline_s = float(credentials.get("deadline_s") or DEFAULT_DEADLINE_S)
        except (TypeError, ValueError) as error:
            raise ConfigError(
                f"credentials.yml: {CHANNEL}.deadline_s must be a number of seconds"
            ) from error
        return cls(str(credentials["skill_id"]).strip(), deadline_s=deadline_s)

    def __init__(
        self,
        skill_id: str,
        deadline_s: float = DEFAULT_DEADLINE_S,
        dedupe: DedupeStore | None = None,
        max_sessions: int = 10_000,
    ) -> None:
        if not 0 < deadline_s < YANDEX_TIMEOUT_S:
            raise ConfigError(
                f"credentials.yml: {CHANNEL}.deadline_s must be between 0 and "
                f"{YANDEX_TIMEOUT_S} s (Yandex's timeout, network included)"
            )
        self.skill_id = skill_id
        self.deadline_s = deadline_s
        # Time kept back from Rasa to word the "still working" reply.
        self.nlg_budget_s = min(0.3, deadline_s / 4)
        self.dedupe = dedupe or dedupe_from_env()
        self.reply_ttl_s = float(getattr(self.dedupe, "ttl_s", DEFAULT_TTL_S))
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._inflight: dict[str, _Turn] = {}
        self._tasks: set[asyncio.Task[bool]] = set()

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

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = Blueprint(f"{CHANNEL}_webhook_{id(self)}", __name__)

        @webhook.get("/")
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.post("/webhook")
        async def receive(request: Request) -> HTTPResponse:
            started = time.monotonic()
            try:
                update = json.loads(request.body or b"")
            except ValueError:
                return response.json({"error": "malformed JSON"}, status=400)
            if not (
                isinstance(update, dict)
                and isinstance(update.get("session"), dict)
                and isinstance(update.get("request"), dict)
            ):
                return response.json({"error": "not an Alice request"}, status=400)
            skill_id = update["session"].get("skill_id")
            if not isinstance(skill_id, str) or not secrets_equal(
                self.skill_id, skill_id
            ):
                logger.warning("alice.webhook.rejected", extra={"ip": request.ip})
                return response.json({"error": "forbidden"}, status=403)
            session = update["session"]
            message_id = session.get("message_id")
            if (
                not isinstance(session.get("session_id"), str)
                or not session["session_id"]
                or not isinstance(message_id, int)
                or isinstance(message_id, bool)
            ):
                return response.json({"error": "no session_id/message_id"}, status=400)
            agent: Agent | None = getattr(request.app.ctx, "agent", None)
            if str(update["request"].get("original_utterance")).strip() == PING:
                reply = self.ping_reply(agent)
            else:
                delivery = self.parse(update)
                reply = await self.answer(delivery, agent, on_new_message, started)
            if reply is None:
                return response.json({"error": "try again"}, status=503)
            return response.json(reply)

        return webhook

    def ping_reply(self, agent: Agent | None) -> Reply | None:
        """Yandex's health check, answered from the domain without running Rasa."""
        text = domain_text(agent.domain, PING_RESPONSE) if ready(agent) else None
        return render([{"text": text}]) if text else None

    async def answer(
        self,
        delivery: Delivery,
        agent: Agent | None,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        started: float,
    ) -> Reply | None:
        """The response for a delivery; ``None`` when Rasa failed (503)."""
        state = self._session(delivery.metadata["session_id"])
        message_id = delivery.metadata["message_id"]
        if state.last and state.last[0] == message_id:
            logger.info("alice.webhook.duplicate", extra={"key": delivery.key})
            return state.last[1]
        if (running := self._inflight.get(delivery.key)) is not None:
            logger.info("alice.webhook.duplicate", extra={"key": delivery.key})
            return await self._reply([running], agent, delivery, started)
        state.late = [t for t in state.late if not t.delivered and not t.failed]
        if state.late and same_words(state.late[-1].delivery.text, delivery.text):
            # Asked again, as "still working" suggested: the late answer is the
            # reply, the repeated question is not processed a second time.
            if not await self.dedupe.claim(delivery.key):
                return await self._still_working(agent, delivery)
            turns = list(state.late)
        else:
            turn = self._start(delivery, on_new_message)
            turns = [*state.late, turn]
        reply = await self._reply(turns, agent, delivery, started)
        if not turns[-1].task.done() and turns[-1] not in state.late:
            state.late.append(turns[-1])
        if reply is not None:
            state.last = (message_id, reply)
        return reply

    def _start(
        self,
        delivery: Delivery,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> _Turn:
        output = AliceOutput()
        task = asyncio.create_task(
            deliver(CHANNEL, delivery, self.dedupe, output, on_new_message)
        )
        turn = _Turn(delivery, output, task)
        self._inflight[delivery.key] = turn
        self._tasks.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(partial(self._finished, turn, time.monotonic()))
        return turn

    def _finished(self, turn: _Turn, started: float, task: asyncio.Task[bool]) -> None:
        self._tasks.discard(task)
        if self._inflight.get(turn.delivery.key) is turn:
            del self._inflight[turn.delivery.key]
        if not task.cancelled():
            task.exception()  # retrieved; deliver() has logged it
        seconds = time.monotonic() - started
        if seconds > self.deadline_s:
            logger.info(
                "alice.turn.late",
                extra={"key": turn.delivery.key, "seconds": round(seconds, 2)},
            )

    async def _reply(
        self,
        turns: list[_Turn],
        agent: Agent | None,
        delivery: Delivery,
        started: float,
    ) -> Reply | None:
        """Waits for the last turn until the deadline; renders what is finished."""
        last = turns[-1]
        budget = self.deadline_s - self.nlg_budget_s - (time.monotonic() - started)
        await asyncio.wait({last.task}, timeout=max(budget, 0.0))
        if not last.task.done():
            logger.info("alice.webhook.still_working", extra={"key": last.delivery.key})
            return await self._still_working(agent, delivery)
        if last.failed:
            return None
        # The last turn answers this request (also when a retry rendered it);
        # earlier ones are late answers not given yet.
        finished = [
            t for t in turns if t is last or (t.task.done() and not t.delivered)
        ]
        for turn in finished:
            turn.delivered = True
        reply = render(m for t in finished for m in t.output.messages)
        if reply["response"]["text"] or reply["response"]["tts"]:
            return reply
        if last.task.result():
            logger.warning("alice.reply.empty", extra={"key": last.delivery.key})
            return reply
        # A duplicate claimed elsewhere (another replica, before a restart) whose
        # response this process does not have: acknowledge it.
        return await self._still_working(agent, delivery)

    async def _still_working(
        self, agent: Agent | None, delivery: Delivery
    ) -> Reply | None:
        """``utter_alice_still_working`` in the shopper's language, in time."""
        if agent is None or not ready(agent):
            return None
        output = AliceOutput()
        try:
            message = await asyncio.wait_for(
                self._generate(agent, delivery, STILL_WORKING), self.nlg_budget_s
            )
        except Exception:  # NLG or tracker store slow or failing: the default text
            logger.warning("alice.still_working.nlg_failed", exc_info=True)
            message = None
        if not message or not message.get("text"):
            message = {"text": domain_text(agent.domain, STILL_WORKING)}
        if not message["text"]:
            logger.error(
                "alice.still_working.missing", extra={"response": STILL_WORKING}
            )
            return None
        await output.send_response(delivery.sender_id, dict(message))
        return render(output.messages)

    @staticmethod
    async def _generate(
        agent: Agent, delivery: Delivery, response_name: str
    ) -> dict[str, Any] | None:
        stored = await agent.tracker_store.retrieve(delivery.sender_id)
        events = [*(stored.events if stored else []), UserUttered(delivery.text)]
        tracker = DialogueStateTracker.from_events(
            delivery.sender_id, events, agent.domain.slots
        )
        return await agent.nlg.generate(response_name, tracker, CHANNEL)

    def _session(self, session_id: str) -> _Session:
        """The session's state; expired and least recently used ones are dropped."""
        now = time.monotonic()
        state = self._sessions.pop(session_id, None) or _Session()
        while self._sessions and (
            len(self._sessions) >= self.max_sessions
            or next(iter(self._sessions.values())).expires <= now
        ):
            self._sessions.popitem(last=False)
        state.expires = now + self.reply_ttl_s
        self._sessions[session_id] = state
        return state
