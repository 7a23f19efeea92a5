"""Dialogue policies of our own, loaded by the Rasa server from ``config.yml``."""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

HANDOFF_SLOT = "handoff"
HANDOFF_ACTIVE = "active"
EXTERNAL_PREFIX = "EXTERNAL_"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class HandoffPolicy(Policy):
    """Keeps the bot silent while a human operator has the conversation.

    When the ``handoff`` slot is ``active`` (an operator took the conversation in
    the dashboard), every shopper message is answered with ``action_listen``: the
    message is stored in the tracker, so the operator sees it, but the bot says
    nothing. ``EXTERNAL_*`` intents (the operator's replies, handing back, payment
    notices) pass to the other policies. The priority sits above RulePolicy's.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 7}

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        if _operator_has_it(tracker):
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities)


def _operator_has_it(tracker: DialogueStateTracker) -> bool:
    if tracker.get_slot(HANDOFF_SLOT) != HANDOFF_ACTIVE:
        return False
    if tracker.latest_action_name != ACTION_LISTEN_NAME:
        return False
    message = tracker.latest_message
    if not isinstance(message, UserUttered):
        return False
    intent = (message.intent or {}).get("name") or ""
    return not intent.startswith(EXTERNAL_PREFIX)
