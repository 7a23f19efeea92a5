"""How many LLM answers a conversation and the whole shop may get in a day.

A paid LLM endpoint is billed per call: a shopper (or a script posing as many) who
keeps asking free-form questions must not run up the bill. Each LLM call takes one
unit from the conversation's daily allowance (``EASYFLOW_LLM_MAX_PER_CONVERSATION``,
30) and from the shop's (``EASYFLOW_LLM_MAX_PER_DAY``, 5000); beyond either, the
question gets the extractive answer, which costs nothing. Cached answers take
nothing. Days are UTC. Counters live in memory, or in Redis (``INCR`` +
``EXPIRE``) shared by the action-server replicas when ``EASYFLOW_REDIS_URL`` is set.
"""

from __future__ import annotations

import abc
import logging
import time
from collections import OrderedDict

logger = logging.getLogger(__name__)

DAY_S = 24 * 3600
_PREFIX = "easyflow:llm-budget:"


class DayCounter(abc.ABC):
    @abc.abstractmethod
    async def take(self, key: str, day: int) -> int:
        """Counts one call for ``key`` on ``day``; the count so far."""


class MemoryDayCounter(DayCounter):
    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._counts: OrderedDict[tuple[str, int], int] = OrderedDict()

    async def take(self, key: str, day: int) -> int:
        while self._counts and next(iter(self._counts))[1] < day:
            self._counts.popitem(last=False)
        count = self._counts.get((key, day), 0) + 1
        self._counts[(key, day)] = count
        while len(self._counts) > self.max_keys:
            self._counts.popitem(last=False)
        return count


class RedisDayCounter(DayCounter):
    def __init__(self, url: str, prefix: str = _PREFIX) -> None:
        from redis import asyncio as redis_asyncio

        self.prefix = prefix
        self._redis = redis_asyncio.from_url(url)

    async def take(self, key: str, day: int) -> int:
        name = f"{self.prefix}{key}:{day}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, 2 * DAY_S)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        await self._redis.close()


class LlmBudget:
    def __init__(
        self,
        per_conversation: int,
        per_day: int,
        counter: DayCounter | None = None,
        clock: object = time.time,
    ) -> None:
        self.per_conversation = per_conversation
        self.per_day = per_day
        self.counter = counter or MemoryDayCounter()
        self._clock = clock

    async def allow(self, conversation: str | None) -> bool:
        """Takes one LLM call; ``False`` when the conversation or the shop has used
        its day (0 means no limit)."""
        day = int(self._clock() // DAY_S)  # type: ignore[operator]
        # The conversation first: one conversation past its allowance must not
        # use up the shop's.
        if self.per_conversation and conversation:
            used = await self.counter.take(f"conversation:{conversation}", day)
            if used > self.per_conversation:
                if used == self.per_conversation + 1:
                    logger.warning(
                        "fallback.llm.budget_conversation",
                        extra={
                            "sender_id": conversation,
                            "limit": self.per_conversation,
                        },
                    )
                return False
        if self.per_day:
            used = await self.counter.take("shop", day)
            if used > self.per_day:
                if used == self.per_day + 1:
                    logger.warning(
                        "fallback.llm.budget_day", extra={"limit": self.per_day}
                    )
                return False
        return True
