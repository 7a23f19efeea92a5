"""Alice's deadline: Yandex waits at most 4.5 s for the reply in the HTTP response.

``DeadlineScheduler.answer`` starts the turn in the background and waits for it
until ``deadline_s``; a slower turn is answered with ``utter_alice_still_working``
(worded by the NLG from the stored conversation, in the shopper's language) and
its answer comes with the shopper's next request. A retry of a request gets the
response given the first time. It keeps, per Alice session, the last response and
the turns still running; it reads the tracker store and the NLG of the loaded
agent only to word the "still working" reply.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.alice_replies import CHANNEL, AliceOutput, Reply, render
from connectors.base import Delivery, deliver
from connectors.dedupe import DEFAULT_TTL_S, DedupeStore
from connectors.notices import domain_text

logger = logging.getLogger(__name__)

STILL_WORKING = "utter_alice_still_working"
_WORDS = re.compile(r"\w+")


def ready(agent: Agent | None) -> bool:
    return agent is not None and agent.domain is not None and agent.is_ready()


def same_words(first: str, second: str) -> bool:
    return _WORDS.findall(first.casefold()) == _WORDS.findall(second.casefold())


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


class DeadlineScheduler:
    def __init__(
        self, deadline_s: float, dedupe: DedupeStore, max_sessions: int = 10_000
    ) -> None:
        self.deadline_s = deadline_s
        # Time kept back from Rasa to word the "still working" reply.
        self.nlg_budget_s = min(0.3, deadline_s / 4)
        self.dedupe = dedupe
        self.reply_ttl_s = float(getattr(dedupe, "ttl_s", DEFAULT_TTL_S))
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._inflight: dict[str, _Turn] = {}
        self._tasks: set[asyncio.Task[bool]] = set()

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
                return await self.still_working(agent, delivery)
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
            return await self.still_working(agent, delivery)
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
        return await self.still_working(agent, delivery)

    async def still_working(
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
            message = {
                "text": domain_text(agent.domain, STILL_WORKING, channel=CHANNEL)
            }
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
