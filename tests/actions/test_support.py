"""Complaints, handoff and yes/no answers to "shall I call an operator?"."""

from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.pending import ActionResolvePending
from actions.support import ActionHandoff, ActionRecordComplaint
from actions.support_log import SupportLog
from tests.conftest import bot, entity, make_tracker, responses, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
pytestmark = pytest.mark.usefixtures("services")


async def test_complaint_is_recorded_and_a_human_offered(support: SupportLog) -> None:
    dispatcher = CollectingDispatcher()
    text = "курьер нахамил, заказ A-10234 привезли мятым"
    tracker = make_tracker([user(text, "complaint", [entity("order_id", "A-10234")])])
    await ActionRecordComplaint().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_complaint_recorded", "utter_offer_human"]
    assert dispatcher.messages[0]["ticket"].startswith("C-")
    assert support.count("complaints") == 1


async def test_yes_to_the_offer_hands_over(support: SupportLog) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [user("ужас", "complaint"), bot("utter_offer_human"), user("да", "affirm")]
    )
    await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_handoff"]
    assert support.count("handoffs") == 1


async def test_no_to_the_offer_does_not_hand_over(support: SupportLog) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            user("платёж не прошёл", "payment_problem"),
            bot("utter_payment_problem"),
            user("нет", "deny"),
        ]
    )
    await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_how_can_help"]
    assert support.count("handoffs") == 0


async def test_asking_for_a_human_records_the_request(support: SupportLog) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([user("позовите оператора", "human_handoff")])
    await ActionHandoff().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_handoff"]
    assert dispatcher.messages[0]["ticket"].startswith("H-")
    assert support.count("handoffs") == 1
