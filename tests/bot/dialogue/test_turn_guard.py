"""bot.dialogue.turn_guard's decisions on real trackers over the project's domain."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.turn_guard import actions_this_turn, ask_action, replacement

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[3] / "domain.yml"))
FALLBACK = "action_llm_fallback"


def _tracker(*events: object) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("shopper", list(events), DOMAIN.slots)


def _in_order_form(*events: object) -> DialogueStateTracker:
    return _tracker(
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("хочу отменить заказ", {"name": "cancel_order"}),
        ActionExecuted("order_form"),
        ActiveLoop("order_form"),
        SlotSet(REQUESTED_SLOT, "order_id"),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("где мой заказ из Додо?", {"name": "order_status"}),
        *events,
    )


def test_actions_this_turn_start_after_the_latest_message() -> None:
    tracker = _in_order_form(ActionExecuted(FALLBACK), BotUttered("ответ"))

    assert actions_this_turn(tracker) == [FALLBACK]


def test_a_new_action_runs_as_predicted() -> None:
    assert replacement(_in_order_form(), DOMAIN, FALLBACK) == FALLBACK


def test_a_repeat_in_a_form_asks_the_forms_question_instead() -> None:
    tracker = _in_order_form(ActionExecuted(FALLBACK))

    assert replacement(tracker, DOMAIN, FALLBACK) == "utter_ask_order_form_order_id"


def test_after_the_question_a_repeat_listens() -> None:
    tracker = _in_order_form(
        ActionExecuted(FALLBACK), ActionExecuted("utter_ask_order_form_order_id")
    )

    assert replacement(tracker, DOMAIN, FALLBACK) == ACTION_LISTEN_NAME


def test_a_repeat_outside_a_form_listens() -> None:
    tracker = _tracker(
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("погода в москве", {"name": "out_of_scope"}),
        ActionExecuted(FALLBACK),
    )

    assert ask_action(tracker, DOMAIN) is None
    assert replacement(tracker, DOMAIN, FALLBACK) == ACTION_LISTEN_NAME


@pytest.mark.parametrize(
    ("slot", "expected"),
    [
        ("order_source", "action_ask_order_source"),  # action_ask_<slot> first
        ("phone_last4", "utter_ask_order_form_phone_last4"),
        ("order_id", "utter_ask_order_form_order_id"),
    ],
)
def test_the_question_is_found_as_rasa_forms_find_it(slot: str, expected: str) -> None:
    tracker = _tracker(ActiveLoop("order_form"), SlotSet(REQUESTED_SLOT, slot))

    assert ask_action(tracker, DOMAIN) == expected


def test_listening_is_never_replaced() -> None:
    tracker = _in_order_form(ActionExecuted(ACTION_LISTEN_NAME))

    assert replacement(tracker, DOMAIN, ACTION_LISTEN_NAME) == ACTION_LISTEN_NAME
