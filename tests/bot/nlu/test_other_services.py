"""bot.nlu.other_services: another company's service named in shop words."""

import pytest

from bot.nlu.other_services import SHOP_INTENTS, names_another_service, out_of_scope


@pytest.mark.parametrize(
    "text",
    [
        "как отследить посылку с AliExpress",
        "my doordash order is late",
        "Дайте промокод на Яндекс Еду",
        "где мой заказ из ИКЕА?",
        "как отследить посылку с али",  # translit, already read in Cyrillic
        "промокод на первую поездку в такси",
        "cancel my spotify premium",
    ],
)
def test_other_services_are_recognised(text: str) -> None:
    assert names_another_service(text)


@pytest.mark.parametrize(
    "text",
    [
        "где мой заказ A-10234",
        "заказ с вайлдберриз не пришёл, а на AliExpress пришёл",  # ours named too
        "оплатить картой можно?",
        "Озон, заказ 70551238-0094-1, хочу вернуть кроссовки",
        "доставка в Иваново есть?",  # not "иви"
        "подарочная упаковка для мамы",
    ],
)
def test_this_shops_questions_are_not_taken_for_another_service(text: str) -> None:
    assert not names_another_service(text)


def test_out_of_scope_goes_first_unless_a_person_is_asked_for() -> None:
    ranking = [
        {"name": "order_status", "confidence": 0.97},
        {"name": "out_of_scope", "confidence": 0.01},
    ]
    assert out_of_scope(ranking)[0] == {"name": "out_of_scope", "confidence": 0.97}
    assert [r["name"] for r in out_of_scope(ranking)] == [
        "out_of_scope",
        "order_status",
    ]
    human = [{"name": "human_handoff", "confidence": 0.8}]
    assert out_of_scope(human) == human


def test_only_the_shops_own_intents_are_moved_out_of_scope() -> None:
    # "book me an Uber to the airport" is a task of a general assistant.
    ride = [{"name": "book_ride", "confidence": 0.95}]
    assert out_of_scope(ride) == ride
    assert out_of_scope(ride, intents={"book_ride"})[0]["name"] == "out_of_scope"
    small_talk = [{"name": "bot_challenge", "confidence": 0.9}]
    assert out_of_scope(small_talk) == small_talk
    assert "order_status" in SHOP_INTENTS and "human_handoff" not in SHOP_INTENTS
