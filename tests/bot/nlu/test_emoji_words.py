"""bot.nlu.emoji_words: emoji-only answers read as words."""

from __future__ import annotations

import pytest

from bot.nlu.emoji_words import emoji_reading


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("👍", "да"),
        ("👍🏽", "да"),
        ("👍👍!", "да"),
        ("✅", "да"),
        ("👎", "нет"),
        ("❌", "нет"),
        ("🙏", "спасибо"),
        ("👋", "привет"),
        ("⭐⭐⭐⭐", "оценка 4"),
        ("5⭐", "оценка 5"),
        ("🤖?", "ты бот"),
    ],
)
def test_an_emoji_answer_reads_as_its_word(text: str, expected: str) -> None:
    assert emoji_reading(text) == expected


@pytest.mark.parametrize(
    "text", ["спасибо 👍", "ок", "A-10234", "", "🍕", "👍🍕", "где мой заказ ⭐"]
)
def test_words_unknown_emoji_and_mixed_messages_are_left_alone(text: str) -> None:
    assert emoji_reading(text) is None
