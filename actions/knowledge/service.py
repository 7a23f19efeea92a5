"""The fallback pipeline: retrieve, answer within the channel's time budget, guard,
cache, and fall back to the extractive answer on any LLM trouble.

- Time budget per channel (Alice must answer within about 3 s in total); the LLM
  gets what is left of it, at most its own timeout.
- A circuit breaker stops calling an LLM that keeps failing for ``open_s`` seconds.
- Guardrail: an LLM answer that states a number with a currency or percent sign not
  written in the passages (a price, a discount, a refund amount) is discarded.
- Answers are cached by normalised question, language, answerer and knowledge
  version, in memory or in Redis when ``EASYFLOW_REDIS_URL`` is set.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from actions.knowledge.answerers import (
    Answer,
    Answerer,
    ExtractiveAnswerer,
    HistoryTurn,
)
from actions.knowledge.redact import redact
from actions.knowledge.retrieval import KnowledgeIndex

logger = logging.getLogger(__name__)


# BM25 score below which no passage is relevant enough to answer from.
MIN_SCORE = 3.0
# Cosine of mean word vectors above which a Russian passage is a paraphrase of
# the question (off-topic questions such as the weather score about 0.45).
MIN_SIMILARITY = 0.6
# English uses sentence vectors (MiniLM), on another scale: paraphrases score
# 0.45-0.75, off-topic questions under 0.1. Shared words alone are not enough in
# English ("tell me a joke" shares "me", "tell" with a returns passage), so BM25
# needs some similarity beside it.
MIN_SIMILARITY_EN = 0.45
MIN_SIMILARITY_EN_WITH_WORDS = 0.2
CHANNEL_BUDGETS_S = {"alice": 2.0}
_MONEY = re.compile(
    r"(\d[\d\s ]*(?:[.,]\d+)?)\s*(?:₽|руб|rub|%|процент|percent|\$|€)", re.I
)


class CircuitBreaker:
    def __init__(self, failures: int = 3, open_s: float = 30.0) -> None:
        self.threshold = failures
        self.open_s = open_s
        self._failures = 0
        self._opened_at: float | None = None

    def allow(self) -> bool:
        if self._opened_at is None:
            return True
        if time.monotonic() - self._opened_at >= self.open_s:
            self._opened_at = None  # half-open: one try
            self._failures = self.threshold - 1
            return True
        return False

    def success(self) -> None:
        self._failures = 0
        self._opened_at = None

    def failure(self) -> None:
        self._failures += 1
        if self._failures >= self.threshold:
            self._opened_at = time.monotonic()
            logger.warning("fallback.llm.circuit_open", extra={"open_s": self.open_s})


class AnswerCache:
    """In-memory TTL cache; ``RedisAnswerCache`` shares answers between replicas."""

    def __init__(self, ttl_s: float = 3600.0, max_items: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._items: dict[str, tuple[float, Answer]] = {}

    async def get(self, key: str) -> Answer | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        return item[1]

    async def set(self, key: str, answer: Answer) -> None:
        if len(self._items) >= self.max_items:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (time.monotonic() + self.ttl_s, answer)


class RedisAnswerCache(AnswerCache):
    def __init__(self, url: str, ttl_s: float = 3600.0) -> None:
        from redis import asyncio as redis_asyncio

        super().__init__(ttl_s)
        self._redis = redis_asyncio.from_url(url)

    async def get(self, key: str) -> Answer | None:
        # A cache is an optimisation: with Redis down the answer is computed.
        try:
            raw = await self._redis.get(f"easyflow:fallback:{key}")
        except (RedisError, OSError) as error:
            logger.warning("knowledge.cache.unavailable", extra={"error": repr(error)})
            return None
        if raw is None:
            return None
        data = json.loads(raw)
        return Answer(data["text"], data["answerer"], tuple(data["sources"]))

    async def set(self, key: str, answer: Answer) -> None:
        data = {
            "text": answer.text,
            "answerer": answer.answerer,
            "sources": list(answer.sources),
        }
        try:
            await self._redis.set(
                f"easyflow:fallback:{key}", json.dumps(data), ex=int(self.ttl_s)
            )
        except (RedisError, OSError) as error:
            logger.warning("knowledge.cache.unavailable", extra={"error": repr(error)})


def relevant(hits: list, language: str = "ru") -> bool:
    """Enough shared wording, or a close paraphrase."""
    if language == "en" and any(hit.similarity > 0 for hit in hits):
        return any(
            hit.similarity >= MIN_SIMILARITY_EN
            or (
                hit.score >= MIN_SCORE
                and hit.similarity >= MIN_SIMILARITY_EN_WITH_WORDS
            )
            for hit in hits
        )
    return any(
        hit.score >= MIN_SCORE or hit.similarity >= MIN_SIMILARITY for hit in hits
    )


def normalise(question: str) -> str:
    return " ".join(re.findall(r"[\wё]+", question.lower().replace("ё", "е")))


def invents_numbers(answer: str, passages_text: str) -> bool:
    """A price, discount or refund amount the passages do not contain."""
    known = {re.sub(r"\D", "", m.group(1)) for m in _MONEY.finditer(passages_text)}
    for match in _MONEY.finditer(answer):
        if re.sub(r"\D", "", match.group(1)) not in known:
            return True
    return False


@dataclass
class FallbackService:
    index: KnowledgeIndex
    llm: Answerer | None = None
    llm_timeout_s: float = 6.0
    budget_s: float = 8.0
    cache: AnswerCache | None = None
    breaker: CircuitBreaker | None = None

    def __post_init__(self) -> None:
        self.extractive = ExtractiveAnswerer()
        self.cache = self.cache or AnswerCache()
        self.breaker = self.breaker or CircuitBreaker()

    @property
    def answerer_name(self) -> str:
        return self.llm.name if self.llm else self.extractive.name

    async def answer(
        self,
        question: str,
        language: str,
        history: list[HistoryTurn] | None = None,
        channel: str | None = None,
    ) -> Answer:
        started = time.monotonic()
        budget = CHANNEL_BUDGETS_S.get(channel or "", self.budget_s)
        hits = self.index.search(question, language, limit=3)
        if not hits or not relevant(hits, language):
            return Answer(None, "retrieval", ())
        assert self.cache is not None and self.breaker is not None
        key = ":".join(
            (self.index.version, self.answerer_name, language, normalise(question))
        )
        cached = await self.cache.get(key)
        if cached is not None:
            best = hits[0].passage if hits else None
            return Answer(cached.text, cached.answerer, cached.sources, best)
        answer = None
        if self.llm is not None and self.breaker.allow():
            answer = await self._ask_llm(
                question,
                hits,
                history or [],
                language,
                budget - (time.monotonic() - started),
            )
        if answer is None:
            answer = await self.extractive.answer(question, hits, [], language, 0)
        await self.cache.set(key, answer)
        logger.info(
            "fallback.answered",
            extra={
                "answerer": answer.answerer,
                "sources": list(answer.sources),
                "question": redact(question),
            },
        )
        return answer

    async def _ask_llm(
        self,
        question: str,
        hits: list,
        history: list[HistoryTurn],
        language: str,
        remaining_s: float,
    ) -> Answer | None:
        assert self.llm is not None and self.breaker is not None
        timeout = min(self.llm_timeout_s, remaining_s - 0.2)
        if timeout <= 0.1:
            return None
        try:
            answer = await asyncio.wait_for(
                self.llm.answer(question, hits, history, language, timeout), timeout
            )
        except Exception as error:  # timeout, network, API error: extractive instead
            self.breaker.failure()
            logger.warning("fallback.llm.failed", extra={"error": type(error).__name__})
            return None
        self.breaker.success()
        if answer.text is not None and invents_numbers(
            answer.text, " ".join(h.passage.text for h in hits)
        ):
            logger.warning(
                "fallback.llm.guardrail", extra={"sources": list(answer.sources)}
            )
            return None
        return answer
