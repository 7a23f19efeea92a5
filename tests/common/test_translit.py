"""common.translit: Russian in Latin letters and on the wrong layout, read back."""

from __future__ import annotations

import pytest

from common.translit import cyrillic_view, read_word

VOCABULARY = frozenset({"можно", "есть", "вернуть", "это", "заказ"})


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("gde moy zakaz", "где мой заказ"),
        ("kogda prid'ot posylka?", "когда придёт посылка?"),
        ("xochu vernut' nauwniki", "хочу вернуть наушники"),
        ("kur'er segodnya budet?", "курьер сегодня будет?"),
        ("pozovite operatora", "позовите оператора"),
    ],
)
def test_chat_transliteration_reads_as_russian(typed: str, expected: str) -> None:
    assert cyrillic_view(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ult vjq pfrfp", "где мой заказ"),
        ("ghbdtn", "привет"),
        ("cgfcb,j", "спасибо"),
    ],
)
def test_the_latin_layout_reads_as_russian(typed: str, expected: str) -> None:
    assert cyrillic_view(typed) == expected


def test_order_numbers_and_digits_stay_as_typed() -> None:
    view = cyrillic_view("otmenite pojalujsta zakaz B-20674")

    assert view is not None and view.endswith("заказ B-20674")
    assert "8821047736" in (cyrillic_view("status zakaza 8821047736 s wb") or "")


def test_the_training_vocabulary_settles_ambiguous_readings() -> None:
    assert read_word("mojno", VOCABULARY) == ("можно", True)
    assert read_word("vernut", VOCABULARY) == ("вернуть", True)


@pytest.mark.parametrize(
    "english",
    [
        "where is my order A-10234",
        "can i exchange the hoodie for a size L",
        "cancel my order please",
        "hi",
        "ok",
        "thanks a lot",
        "ozon order 66190254-0128 status?",
        "is the pizza place open tonight",
    ],
)
def test_english_is_left_alone(english: str) -> None:
    assert cyrillic_view(english) is None


@pytest.mark.parametrize("text", ["где мой заказ", "A-10234", "/greet", "", "👍"])
def test_cyrillic_numbers_payloads_and_emoji_are_left_alone(text: str) -> None:
    assert cyrillic_view(text) is None
