"""The fallback pipeline: retrieve, answer within the channel's time budget, guard,
cache, and fall back to the extractive answer on any LLM trouble.

- Time budget per channel (Alice must answer within about 3 s in total); the LLM
  gets what is left of it, at most its own timeout.
- A circuit breaker stops calling an LLM that keeps failing for ``open_s`` seconds.
- Relevance: without a passage relevant enough (``relevance.py``) nothing is quoted;
  the action offers what the assistant can do and an operator.
- Guardrail: an LLM answer is discarded (the extractive answer instead) when it
  states a number with a currency or percent sign not written in the passages (a
  price, a discount, a refund amount), or when it says the bot did something it
  cannot do from here ("I've cancelled your order", «ваш возврат одобрен»): only
  the order flows act on orders, and a promise the bot never kept is worse than no
  answer.
- Answers are cached under a hash of everything that went into the prompt: question,
  language, conversation history, the passages (knowledge version and sources),
  answerer and model. Without the history in the key, one conversation that steered
  the LLM would have its answer served to every shopper for an hour. In memory, or
  in Redis when ``EASYFLOW_REDIS_URL`` is set.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from actions.knowledge.answerers import Answer, Answerer, ExtractiveAnswerer
from actions.knowledge.budget import LlmBudget
from actions.knowledge.history import HistoryTurn
from actions.knowledge.redact import redact
from actions.knowledge.relevance import relevance, relevant
from actions.knowledge.retrieval import Hit, KnowledgeIndex

logger = logging.getLogger(__name__)


CHANNEL_BUDGETS_S = {"alice": 2.0}
_MONEY = re.compile(
    r"(\d[\d\s ]*(?:[.,]\d+)?)\s*(?:₽|руб|rub|%|процент|percent|\$|€)", re.I
)
# An answer that says an action on an order, a refund, an address or a discount was
# (or will be) taken. Policy wording ("a refund is issued within 10 days", «возврат
# оформляется в личном кабинете») does not match: these need a first person, "your"
# or a completed form.
_RU_ACT = (
    r"(?:оформил|отменил|одобрил|вернул|изменил|поменял|начислил|предоставил|"
    r"применил|перевел|перевёл|провел|провёл|подтвердил|сделал|дал)[аи]?"
)
_RU_OBJECT = r"(?:возврат|заказ|адрес|скидк|деньги|средств|балл|промокод|обмен)"
_RU_DONE = (
    r"(?:одобрен|оформлен|отмен[её]н|измен[её]н|подтвержд[её]н|возвращ[её]н|"
    r"предоставлен|начислен|применен|применён|принят)"
)
_EN_DONE = (
    r"(?:cancell?ed|refunded|approved|processed|issued|changed|updated|applied|"
    r"granted|initiated|arranged)"
)
_EN_OBJECT = r"(?:order|refund|return|address|discount|exchange|money|payment)"
_CONDITION = re.compile(
    r"\b(?:если|когда|как|после|пока|if|when|once|after|until)\b[^.!?]*$", re.I
)
# "you placed an order", «вы оформили возврат»: the shopper acted, not the bot.
_OTHER_SUBJECT = re.compile(r"\b(?:вы|you|курьер|покупатель)\s+(?:уже\s+)?$", re.I)
_PROMISES = [
    re.compile(pattern, re.I)
    for pattern in (
        rf"\b(?:я|мы)\s+(?:уже\s+|только что\s+)?{_RU_ACT}\b",
        rf"(?<![\w-]){_RU_ACT}\s+(?:вам\s+|ваш\w*\s+|для вас\s+)?{_RU_OBJECT}",
        r"\b(?:я|мы)\s+(?:сейчас\s+)?(?:оформлю|отменю|одобрю|верну|изменю|"
        r"поменяю|начислю|оформим|отменим|одобрим|вернём|вернем|изменим)\b",
        rf"\bваш\w*\s+{_RU_OBJECT}\w*\s+(?:уже\s+)?(?:был\w*\s+)?{_RU_DONE}",
        rf"\b{_RU_OBJECT}\w*(?:\s+\w+)?\s+(?:вам\s+)?(?:уже\s+)?(?:был\w*\s+)?"
        rf"{_RU_DONE}[аоы]?\b(?=[\s.,!]|$)(?!\s+(?:в течение|после|если|когда|при))",
        rf"\bвам\s+(?:уже\s+)?{_RU_DONE}",
        rf"\b(?:i|we)(?:'ve|\s+have)?(?:\s+(?:just|already|now))?\s+{_EN_DONE}\b",
        r"\b(?:i|we)(?:'ll|\s+will)\s+(?:now\s+)?(?:cancel|refund|approve|change|"
        r"update|apply|grant|process|issue)\b",
        rf"\byour\s+{_EN_OBJECT}\s+(?:has|have|is|was)\s+(?:been\s+)?"
        rf"(?:now\s+|already\s+|successfully\s+)?{_EN_DONE}\b",
    )
]


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


def normalise(question: str) -> str:
    return " ".join(re.findall(r"[\wё]+", question.lower().replace("ё", "е")))


def invents_numbers(answer: str, passages_text: str) -> bool:
    """A price, discount or refund amount the passages do not contain."""
    known = {re.sub(r"\D", "", m.group(1)) for m in _MONEY.finditer(passages_text)}
    for match in _MONEY.finditer(answer):
        if re.sub(r"\D", "", match.group(1)) not in known:
            return True
    return False


def promises_action(answer: str) -> bool:
    """The answer says the bot cancelled, refunded, changed or granted something.

    A match in a sentence that starts a condition ("if", "when", «если», «как») is
    policy ("if the order is cancelled, the money…"), not a claim."""
    for pattern in _PROMISES:
        for match in pattern.finditer(answer):
            # The sentence up to the match.
            before = re.split(r"[.!?\n]", answer[: match.start()])[-1]
            if not _CONDITION.search(before) and not _OTHER_SUBJECT.search(before):
                return True
    return False


def cache_key(
    version: str,
    answerer: str,
    model: str,
    language: str,
    question: str,
    history: list[HistoryTurn],
    hits: list[Hit],
) -> str:
    """A digest of everything that goes into the prompt (see the module docstring)."""
    material = {
        "knowledge": version,
        "answerer": answerer,
        "model": model,
        "language": language,
        "question": normalise(question),
        "history": [[turn.speaker, turn.text] for turn in history],
        "passages": [hit.passage.source for hit in hits],
    }
    encoded = json.dumps(material, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()


@dataclass
class FallbackService:
    index: KnowledgeIndex
    llm: Answerer | None = None
    llm_timeout_s: float = 6.0
    budget_s: float = 8.0
    cache: AnswerCache | None = None
    breaker: CircuitBreaker | None = None
    budget: LlmBudget | None = None

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
        conversation: str | None = None,
    ) -> Answer:
        started = time.monotonic()
        budget = CHANNEL_BUDGETS_S.get(channel or "", self.budget_s)
        # One index for the whole answer: a rebuilt one may be swapped in
        # meanwhile (actions/knowledge/published.py).
        index = self.index
        hits = index.search(question, language, limit=3)
        unknown = index.unknown_terms(question, language)
        if not hits or not relevant(hits, len(unknown), language):
            logger.info(
                "fallback.not_relevant",
                extra={
                    "language": language,
                    "relevance": round(relevance(hits, len(unknown)), 3),
                    "unknown_words": len(unknown),
                    "question": redact(question),
                },
            )
            return Answer(None, "retrieval", ())
        assert self.cache is not None and self.breaker is not None
        history = history or []
        key = cache_key(
            index.version,
            self.answerer_name,
            getattr(self.llm, "model", "") if self.llm else "",
            language,
            question,
            history,
            hits,
        )
        cached = await self.cache.get(key)
        if cached is not None:
            best = hits[0].passage if hits else None
            return Answer(cached.text, cached.answerer, cached.sources, best)
        answer = None
        if (
            self.llm is not None
            and self.breaker.allow()
            and (self.budget is None or await self.budget.allow(conversation))
        ):
            answer = await self._ask_llm(
                question,
                hits,
                history,
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
        if answer.text is None:
            return answer
        reason = None
        if invents_numbers(answer.text, " ".join(h.passage.text for h in hits)):
            reason = "invented_number"
        elif promises_action(answer.text):
            reason = "promised_action"
        if reason is not None:
            logger.warning(
                "fallback.llm.guardrail",
                extra={"reason": reason, "sources": list(answer.sources)},
            )
            return None
        return answer
