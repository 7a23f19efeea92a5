"""The relevance check keeps off-topic questions from being answered with the
nearest passage, and keeps answering the shop's own questions."""

from __future__ import annotations

import pytest

from actions.knowledge.service import FallbackService
from tests.actions.knowledge.relevance_calibration import (
    index,
    measure,
    question_sets,
)

# Just under the figures in actions/knowledge/relevance.py's docstring: a change to
# the retriever or the knowledge that costs more than a question or two shows here.
FLOORS = {
    # (set, language): (recall, off-topic rejected)
    ("tune", "ru"): (0.84, 0.77),
    ("tune", "en"): (0.84, 0.78),
    ("held_out", "ru"): (0.82, 0.52),
    ("held_out", "en"): (0.86, 0.65),
}


@pytest.mark.parametrize(("name", "language"), sorted(FLOORS))
def test_separation_holds_on_the_calibration_sets(name: str, language: str) -> None:
    figures = measure(question_sets()[name], language)
    recall, rejected = FLOORS[(name, language)]
    assert figures.recall >= recall, figures
    assert figures.rejected >= rejected, figures


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("какая сегодня погода в москве", "ru"),
        ("курс доллара сегодня", "ru"),
        ("напиши стихотворение про кота", "ru"),
        ("как отменить подписку мтс премиум", "ru"),
        ("как отследить посылку с алиэкспресс из китая", "ru"),
        ("how do I cancel my Netflix subscription", "en"),
        ("where is my grubhub order", "en"),
        ("my uber driver never showed up but I was charged", "en"),
        ("write a poem about the sea", "en"),
        ("what's the weather in london this weekend", "en"),
    ],
)
async def test_off_topic_questions_are_not_answered_from_a_passage(
    question: str, language: str
) -> None:
    answer = await FallbackService(index()).answer(question, language)
    assert answer.text is None and answer.sources == ()


@pytest.mark.parametrize(
    ("question", "language", "source"),
    [
        ("у вас есть подарочная упаковка?", "ru", "ru/gift_wrapping.md#"),
        ("сколько дней идёт доставка в москву", "ru", "ru/delivery.md#"),
        ("как копить бонусы", "ru", "ru/loyalty.md#"),
        ("как отследить заказ", "ru", "ru/delivery.md#"),
        ("how long is the warranty", "en", "en/warranty.md#"),
        ("how do I track my order", "en", "en/delivery.md#"),
        ("where is the size chart", "en", "en/size_guide.md#"),
    ],
)
async def test_shop_questions_still_get_their_passage(
    question: str, language: str, source: str
) -> None:
    answer = await FallbackService(index()).answer(question, language)
    assert answer.text and answer.sources[0].startswith(source)


def test_unknown_terms_are_the_words_no_passage_uses() -> None:
    assert index().unknown_terms("how do I cancel my Netflix subscription", "en") == [
        "netflix"
    ]
    assert index().unknown_terms("у вас есть подарочная упаковка?", "ru") == []
