"""CachedTEDPolicy: TEDPolicy's predictions, one TensorFlow call per state."""

from __future__ import annotations

from pathlib import Path

import pytest
import tensorflow as tf
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import (
    YAMLStoryReader,
)
from rasa.shared.core.training_data.structures import StoryGraph

from bot.dialogue.policies import CachedTEDPolicy

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, order_status, affirm, goodbye]
entities: [order_id]
slots:
  order_id:
    type: text
    mappings: [{type: from_entity, entity: order_id}]
responses:
  utter_greet: [{text: hi}]
  utter_ask_order_id: [{text: "which order?"}]
  utter_order_found: [{text: found}]
  utter_goodbye: [{text: bye}]
"""
)

STORIES = """
version: "3.1"
stories:
- story: order with number
  steps:
  - intent: greet
  - action: utter_greet
  - intent: order_status
    entities: [{order_id: "A-1"}]
  - slot_was_set: [{order_id: "A-1"}]
  - action: utter_order_found
  - intent: goodbye
  - action: utter_goodbye
- story: order without number
  steps:
  - intent: order_status
  - action: utter_ask_order_id
  - intent: order_status
    entities: [{order_id: "A-2"}]
  - slot_was_set: [{order_id: "A-2"}]
  - action: utter_order_found
"""


def storage_of(policy_class: type[TEDPolicy], folder: Path) -> LocalModelStorage:
    return LocalModelStorage(folder / policy_class.__name__)


def trained(policy_class: type[TEDPolicy], tmp_path: Path) -> TEDPolicy:
    steps = YAMLStoryReader(DOMAIN).read_from_string(STORIES)
    trackers = TrainingDataGenerator(
        StoryGraph(steps), DOMAIN, augmentation_factor=0
    ).generate()
    storage = tmp_path / policy_class.__name__
    storage.mkdir(parents=True)
    policy = policy_class.create(
        {**policy_class.get_default_config(), "epochs": 2, "random_seed": 1},
        storage_of(policy_class, tmp_path),
        Resource("ted"),
        ExecutionContext(graph_schema=None),  # type: ignore[arg-type]
    )
    policy.train(trackers, DOMAIN)
    return policy


def conversations() -> list[DialogueStateTracker]:
    """Every prefix of two conversations, each played twice."""
    scripts = [
        [
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered("hello", {"name": "greet"}),
            ActionExecuted("utter_greet"),
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered("where is A-7", {"name": "order_status"}),
            SlotSet("order_id", "A-7"),
            ActionExecuted("utter_order_found"),
        ],
        [
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered("my order", {"name": "order_status"}),
            ActionExecuted("utter_ask_order_id"),
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered("bye", {"name": "goodbye"}),
        ],
    ]
    trackers = []
    for round_ in range(2):
        for n, events in enumerate(scripts):
            for end in range(1, len(events) + 1):
                trackers.append(
                    DialogueStateTracker.from_events(
                        f"shopper-{round_}-{n}-{end}", events[:end], DOMAIN.slots
                    )
                )
    return trackers


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ted")


@pytest.fixture(scope="module")
def policies(folder: Path) -> tuple[TEDPolicy, CachedTEDPolicy]:
    return trained(TEDPolicy, folder), trained(CachedTEDPolicy, folder)


def test_predictions_equal_those_of_tedpolicy(
    policies: tuple[TEDPolicy, CachedTEDPolicy],
) -> None:
    plain, cached = policies
    for tracker in conversations():
        expected = plain.predict_action_probabilities(tracker, DOMAIN)
        got = cached.predict_action_probabilities(tracker, DOMAIN)
        assert got.probabilities == pytest.approx(expected.probabilities, abs=1e-6)
        assert got.policy_name == "CachedTEDPolicy"
        assert not got.is_end_to_end_prediction


def test_each_distinct_state_is_computed_once(
    policies: tuple[TEDPolicy, CachedTEDPolicy],
) -> None:
    _, cached = policies
    cached._prediction_cache().clear()
    trackers = conversations()
    first_round, second_round = (
        trackers[: len(trackers) // 2],
        trackers[len(trackers) // 2 :],
    )

    hits, misses = cached.cache_hits, cached.cache_misses
    for tracker in first_round:
        cached.predict_action_probabilities(tracker, DOMAIN)
    # Both scripts start with the same single action_listen: one state, one call.
    assert cached.cache_misses - misses == len(first_round) - 1
    assert cached.cache_hits - hits == 1

    hits, misses = cached.cache_hits, cached.cache_misses
    for tracker in second_round:  # other senders, the same states
        cached.predict_action_probabilities(tracker, DOMAIN)
    assert cached.cache_misses == misses
    assert cached.cache_hits - hits == len(second_round)


def test_the_ensemble_may_edit_a_prediction_without_touching_the_cache(
    policies: tuple[TEDPolicy, CachedTEDPolicy],
) -> None:
    _, cached = policies
    tracker = conversations()[1]
    first = cached.predict_action_probabilities(tracker, DOMAIN)
    expected = list(first.probabilities)
    first.probabilities[first.max_confidence_index] = 0.0  # as the ensemble does
    again = cached.predict_action_probabilities(tracker, DOMAIN)
    assert again.probabilities == expected


def test_a_bounded_cache(policies: tuple[TEDPolicy, CachedTEDPolicy]) -> None:
    _, cached = policies
    cached._prediction_cache().clear()
    cached.config["prediction_cache_size"] = 3
    try:
        for tracker in conversations():
            cached.predict_action_probabilities(tracker, DOMAIN)
        assert len(cached._prediction_cache()) == 3
    finally:
        cached.config["prediction_cache_size"] = 4096


def test_loaded_without_a_training_step_it_predicts_as_rasas_loader(
    policies: tuple[TEDPolicy, CachedTEDPolicy], folder: Path
) -> None:
    """Rasa's loader fits one step and then loads the weights; ours does not fit.

    Both load the same persisted model: every prediction must be the same.
    """
    storage = storage_of(CachedTEDPolicy, folder)
    config = {**CachedTEDPolicy.get_default_config(), "prediction_cache_size": 0}
    context = ExecutionContext(graph_schema=None)  # type: ignore[arg-type]
    rasas = TEDPolicy.load(config, storage, Resource("ted"), context)
    ours = CachedTEDPolicy.load(config, storage, Resource("ted"), context)
    trained_in_process = policies[1]
    assert ours.model is not None and rasas.model is not None
    # Only the prediction's own trace is kept, not the variable-creating first one.
    assert isinstance(
        ours.model._tf_predict_step, tf.types.experimental.ConcreteFunction
    )
    for tracker in conversations():
        expected = rasas.predict_action_probabilities(tracker, DOMAIN).probabilities
        assert ours.predict_action_probabilities(
            tracker, DOMAIN
        ).probabilities == pytest.approx(expected, abs=1e-6)
        assert trained_in_process.predict_action_probabilities(
            tracker, DOMAIN
        ).probabilities == pytest.approx(expected, abs=1e-5)
