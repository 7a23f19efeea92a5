"""actions.knowledge.budget: the LLM's daily allowance per conversation and per
shop, against the OpenAI chat-completions emulator and the real Redis."""

from __future__ import annotations

import uuid

from actions.knowledge.budget import LlmBudget, MemoryDayCounter, RedisDayCounter
from tests.actions.knowledge.test_service import ChatEmulator, chat, service

__all__ = ["chat"]  # the emulator fixture, shared with test_service

QUESTIONS = [
    "у вас есть подарочная упаковка?",
    "можно упаковать заказ в подарочную бумагу?",
    "сколько стоит подарочная упаковка?",
    "а подарочную упаковку делаете?",
]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_conversation_past_its_allowance_gets_extractive_answers(
    chat: ChatEmulator,
) -> None:
    budget = LlmBudget(per_conversation=2, per_day=100, counter=MemoryDayCounter())
    fallback = service(chat, budget=budget)
    answerers = [
        (await fallback.answer(q, "ru", conversation="rest:greedy")).answerer
        for q in QUESTIONS
    ]
    assert answerers == ["openai", "openai", "extractive", "extractive"]
    assert len(chat.prompts) == 2  # nothing more was billed
    other = await fallback.answer("есть подарочные пакеты?", "ru", conversation="b")
    assert other.answerer == "openai"  # another shopper still gets the LLM


async def test_the_shop_allowance_caps_every_conversation_together(
    chat: ChatEmulator,
) -> None:
    budget = LlmBudget(per_conversation=10, per_day=3, counter=MemoryDayCounter())
    fallback = service(chat, budget=budget)
    answerers = [
        (await fallback.answer(q, "ru", conversation=f"rest:{n}")).answerer
        for n, q in enumerate(QUESTIONS)
    ]
    assert answerers == ["openai"] * 3 + ["extractive"]
    assert len(chat.prompts) == 3


async def test_one_flooding_conversation_does_not_use_up_the_shop() -> None:
    budget = LlmBudget(per_conversation=2, per_day=5, counter=MemoryDayCounter())
    for _ in range(50):
        await budget.allow("rest:flood")
    assert [await budget.allow(f"rest:{n}") for n in range(4)] == [True] * 3 + [False]


async def test_a_new_day_restores_the_allowance() -> None:
    clock = Clock()
    budget = LlmBudget(1, 0, MemoryDayCounter(), clock=clock)
    assert await budget.allow("rest:a") is True
    assert await budget.allow("rest:a") is False
    clock.now += 24 * 3600
    assert await budget.allow("rest:a") is True


async def test_replicas_share_the_allowance_through_redis() -> None:
    prefix = f"easyflow:test-llm-budget:{uuid.uuid4().hex}:"
    first = RedisDayCounter("redis://127.0.0.1:6379/0", prefix)
    second = RedisDayCounter("redis://127.0.0.1:6379/0", prefix)
    clock = Clock()
    try:
        replicas = [LlmBudget(3, 0, c, clock=clock) for c in (first, second)]
        allowed = [await replicas[n % 2].allow("whatsapp:7916") for n in range(5)]
        assert allowed == [True, True, True, False, False]
    finally:
        await first.close()
        await second.close()
