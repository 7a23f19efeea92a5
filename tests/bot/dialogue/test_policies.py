"""HandoffPolicy: silent while an operator has the conversation."""

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.policies import HandoffPolicy

DOMAIN = Domain.load(Path(__file__).resolve().parents[3] / "domain.yml")


@pytest.fixture
def policy(tmp_path: Path) -> HandoffPolicy:
    return HandoffPolicy.create(
        HandoffPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("handoff"),
        ExecutionContext(graph_schema=None),  # type: ignore[arg-type]
    )


def tracker(*events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("shopper", list(events), DOMAIN.slots)


def said(text: str, intent: str) -> list[Event]:
    return [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(text, {"name": intent, "confidence": 0.9}),
    ]


def predicted(policy: HandoffPolicy, state: DialogueStateTracker) -> str | None:
    prediction = policy.predict_action_probabilities(state, DOMAIN)
    if max(prediction.probabilities) == 0:
        return None
    return DOMAIN.action_names_or_texts[prediction.max_confidence_index]


def test_the_bot_listens_silently_while_an_operator_has_it(
    policy: HandoffPolicy,
) -> None:
    state = tracker(SlotSet("handoff", "active"), *said("где заказ?", "order_status"))
    assert predicted(policy, state) == ACTION_LISTEN_NAME


def test_it_outranks_the_rule_policy(policy: HandoffPolicy) -> None:
    assert policy.priority > 6


@pytest.mark.parametrize("value", [None, "requested"])
def test_the_bot_answers_when_no_operator_has_it(
    policy: HandoffPolicy, value: str | None
) -> None:
    state = tracker(SlotSet("handoff", value), *said("где заказ?", "order_status"))
    assert predicted(policy, state) is None


def test_operator_events_pass_through(policy: HandoffPolicy) -> None:
    state = tracker(
        SlotSet("handoff", "active"),
        *said("EXTERNAL: EXTERNAL_operator_message", "EXTERNAL_operator_message"),
    )
    assert predicted(policy, state) is None


def test_it_only_acts_right_after_a_shopper_message(policy: HandoffPolicy) -> None:
    state = tracker(
        SlotSet("handoff", "active"),
        *said("EXTERNAL: x", "EXTERNAL_operator_message"),
        ActionExecuted("action_operator_message"),
    )
    assert predicted(policy, state) is None
