"""The 1-5 rating asked at the end of a conversation."""

from pathlib import Path

import pytest
import yaml
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.csat import ActionAskCsat, ActionRecordCsat, parse_score
from tests.conftest import bot, entity, make_tracker, responses, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
pytestmark = pytest.mark.usefixtures("services")


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5", 5),
        ("ставлю 4", 4),
        ("3 из 5", None),
        ("5/5", 5),
        ("оценка: 1", 1),
        ("I'd give it 2 stars", 2),
        ("7", None),
        ("10", None),
        ("4.5", None),
        ("ничего", None),
        ("", None),
    ],
)
def test_a_score_is_one_digit_from_1_to_5(text: str, score: int | None) -> None:
    assert parse_score(text) == score


async def test_the_rating_is_asked_after_a_real_conversation() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            user("где заказ A-10234", "order_status"),
            bot("utter_order_status_shipped"),
            user("пока", "goodbye"),
        ]
    )
    await ActionAskCsat().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_ask_csat"]


async def test_a_bare_goodbye_is_not_asked_for_a_rating() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskCsat().run(dispatcher, make_tracker([user("пока", "goodbye")]), {})
    assert dispatcher.messages == []


async def test_a_rated_conversation_is_not_asked_twice() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [user("спасибо", "thanks"), user("пока", "goodbye")], slots={"csat": 5}
    )
    await ActionAskCsat().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages == []


async def test_a_button_rating_is_stored() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            user(
                '/rate_conversation{"csat": "5"}',
                "rate_conversation",
                [entity("csat", "5")],
            )
        ]
    )
    events = await ActionRecordCsat().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("csat", 5)]
    assert responses(dispatcher) == ["utter_csat_thanks"]


async def test_a_typed_low_rating_is_stored_and_a_human_suggested() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([user("ставлю 2", "rate_conversation")])
    events = await ActionRecordCsat().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("csat", 2)]
    assert responses(dispatcher) == ["utter_csat_thanks_low"]


async def test_a_message_without_a_score_changes_nothing() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([user("на 10 из 10", "rate_conversation")])
    assert await ActionRecordCsat().run(dispatcher, tracker, DOMAIN) == []
    assert responses(dispatcher) == ["utter_csat_invalid"]
