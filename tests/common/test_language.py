import pytest

from common.language import ENGLISH, RUSSIAN, conversation_language, detect


def test_detects_russian_and_english() -> None:
    assert detect("где мой заказ") == RUSSIAN
    assert detect("where is my order") == ENGLISH
    assert detect("гд ордер A-10234 плиз") == RUSSIAN


def test_order_numbers_and_short_words_do_not_decide() -> None:
    assert detect("A-10234") is None
    assert detect("48213307-0051-1") is None
    assert detect("ok") is None
    assert detect("") is None


def test_short_answer_keeps_the_conversation_language() -> None:
    newest_first = ["ok", "A-10234", "где мой заказ"]
    assert conversation_language(newest_first) == RUSSIAN
    assert conversation_language(["yes", "where is my order"]) == ENGLISH


def test_newest_decisive_message_wins() -> None:
    assert conversation_language(["where is my order", "привет"]) == ENGLISH


def test_short_latin_only_conversation_is_english_else_default() -> None:
    assert conversation_language(["hi"]) == ENGLISH
    assert conversation_language(["12345"]) == RUSSIAN
    assert conversation_language([], default=ENGLISH) == ENGLISH


def test_button_payloads_do_not_decide() -> None:
    assert detect("/affirm") is None
    assert conversation_language(["/affirm", "где мой заказ"]) == RUSSIAN
    assert conversation_language(["/greet"]) == RUSSIAN


def test_intents_triggered_over_the_api_do_not_decide() -> None:
    newest_first = ["EXTERNAL: EXTERNAL_handoff_taken", "позовите оператора"]
    assert conversation_language(newest_first, default="en") == "ru"


@pytest.mark.parametrize("text", ["gde moi zakaz A-10234", "ult vjq pfrfp"])
def test_russian_in_latin_letters_is_russian(text: str) -> None:
    assert detect(text) == "ru"
