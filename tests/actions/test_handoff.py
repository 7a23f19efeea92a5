"""The operator side of a handoff: taken, operator replies, handed back."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import language
from actions.handoff import (
    ActionHandoffReturned,
    ActionHandoffTaken,
    ActionOperatorMessage,
)
from actions.support import ActionHandoff
from tests.conftest import entity, make_tracker, responses, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
pytestmark = pytest.mark.usefixtures("services")


def external(
    intent: str, entities: list[dict[str, Any]], channel: str
) -> dict[str, Any]:
    event = user(f"EXTERNAL: {intent}", intent, entities)
    event["input_channel"] = channel
    event["metadata"] = {"is_external": True}
    return event


async def test_asking_for_a_human_puts_the_conversation_in_the_queue() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([user("позовите человека", "human_handoff")])
    events = await ActionHandoff().run(dispatcher, tracker, DOMAIN)
    assert SlotSet("handoff", "requested") in events


async def test_taking_the_conversation_tells_the_shopper_and_silences_the_bot() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            user("позовите человека", "human_handoff"),
            external("EXTERNAL_handoff_taken", [entity("operator", "Анна")], "vk"),
        ]
    )
    events = await ActionHandoffTaken().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_operator_joined"]
    assert dispatcher.messages[0]["operator"] == "Анна"
    assert SlotSet("handoff", "active") in events


async def test_the_web_chat_also_gets_the_handoff_indicator() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [external("EXTERNAL_handoff_taken", [entity("operator", "Anna")], "socketio")]
    )
    await ActionHandoffTaken().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages[1]["custom"] == {
        "easyflow_handoff": "active",
        "operator": "Anna",
    }


async def test_an_operator_without_a_name_is_announced_anonymously() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([external("EXTERNAL_handoff_taken", [], "telegram")])
    await ActionHandoffTaken().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_operator_joined_anonymous"]


async def test_the_operator_text_is_relayed_to_the_shopper() -> None:
    dispatcher = CollectingDispatcher()
    text = "Анна: проверила, заказ передан курьеру, будет завтра."
    tracker = make_tracker(
        [external("EXTERNAL_operator_message", [entity("operator_text", text)], "vk")],
        slots={"handoff": "active"},
    )
    events = await ActionOperatorMessage().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_operator_message"]
    assert dispatcher.messages[0]["operator_text"] == text
    assert events == []


async def test_an_operator_writing_first_takes_the_conversation() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [external("EXTERNAL_operator_message", [entity("operator_text", "Hi")], "vk")]
    )
    events = await ActionOperatorMessage().run(dispatcher, tracker, DOMAIN)
    assert SlotSet("handoff", "active") in events


async def test_an_empty_operator_message_sends_nothing() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [external("EXTERNAL_operator_message", [entity("operator_text", "  ")], "vk")],
        slots={"handoff": "active"},
    )
    assert await ActionOperatorMessage().run(dispatcher, tracker, DOMAIN) == []
    assert dispatcher.messages == []


async def test_handing_back_wakes_the_bot_and_clears_the_indicator() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [external("EXTERNAL_handoff_returned", [], "socketio")],
        slots={"handoff": "active"},
    )
    events = await ActionHandoffReturned().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages[0]["custom"] == {"easyflow_handoff": "ended"}
    assert dispatcher.messages[1]["response"] == "utter_handoff_ended"
    assert events == [SlotSet("handoff", None)]


async def test_the_shopper_language_ignores_operator_events() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            user("позовите оператора", "human_handoff"),
            external("EXTERNAL_handoff_taken", [entity("operator", "Anna")], "vk"),
        ]
    )
    await ActionHandoffTaken().run(dispatcher, tracker, DOMAIN)
    assert language(tracker) == "ru"
