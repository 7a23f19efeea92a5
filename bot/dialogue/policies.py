"""Dialogue policies of our own, loaded by the Rasa server from ``config.yml``."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from typing import Any

import tensorflow as tf
from rasa.core.featurizers.tracker_featurizers import (
    MaxHistoryTrackerFeaturizer,
    TrackerFeaturizer,
)
from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.core.policies.ted_policy import TED, TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ACTION_TEXT, TEXT
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.train_utils import create_data_generators

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


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class CachedTEDPolicy(TEDPolicy):
    """``TEDPolicy`` that remembers its predictions by dialogue state.

    TED's prediction is a pure function of the tracker's featurised states over
    ``max_history`` turns (intents, entity names, slot features, previous
    actions, active loop) unless it was trained end to end on message texts. Most
    conversations walk the same few paths, so the same states come back again and
    again; each costs a TensorFlow call (about 10 ms here, 1.5 per message) that
    this policy makes once per distinct state. Predictions are returned as copies
    (the ensemble edits them); trained and persisted exactly like ``TEDPolicy``.
    A model trained with texts (end-to-end stories) is never cached.
    """

    cache_hits = 0
    cache_misses = 0

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**TEDPolicy.get_default_config(), "prediction_cache_size": 4096}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        precomputations: Any = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        key = self._state_key(tracker, domain, rule_only_data)
        if key is None:
            return super().predict_action_probabilities(
                tracker, domain, rule_only_data, precomputations, **kwargs
            )
        cache = self._prediction_cache()
        cached = cache.get(key)
        if cached is not None:
            cache.move_to_end(key)
            self.cache_hits += 1
            return copy.deepcopy(cached)
        self.cache_misses += 1
        prediction = super().predict_action_probabilities(
            tracker, domain, rule_only_data, precomputations, **kwargs
        )
        cache[key] = copy.deepcopy(prediction)
        while len(cache) > int(self.config["prediction_cache_size"]):
            cache.popitem(last=False)
        return prediction

    @classmethod
    def _load_tf_model(
        cls,
        model_utilities: dict[str, Any],
        model_data_example: RasaModelData,
        predict_data_example: RasaModelData,
        featurizer: TrackerFeaturizer,
        should_finetune: bool,
    ) -> TED:
        if should_finetune:  # training goes on: Rasa's way, optimizer included
            return super()._load_tf_model(
                model_utilities,
                model_data_example,
                predict_data_example,
                featurizer,
                should_finetune,
            )
        return load_ted_for_prediction(
            cls.model_class(),
            str(model_utilities["tf_model_file"]),
            model_data_example,
            predict_data_example,
            data_signature=model_data_example.get_signature(),
            config=model_utilities["model_config"],
            max_history_featurizer_is_used=isinstance(
                featurizer, MaxHistoryTrackerFeaturizer
            ),
            label_data=model_utilities["label_data"],
            entity_tag_specs=model_utilities["entity_tag_specs"],
        )

    def _prediction_cache(self) -> OrderedDict[str, PolicyPrediction]:
        cache = self.__dict__.get("_easyflow_predictions")
        if cache is None:
            cache = self.__dict__["_easyflow_predictions"] = OrderedDict()
        return cache

    def _state_key(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None,
    ) -> str | None:
        if self.model is None or self.config["prediction_cache_size"] <= 0:
            return None
        if TEXT in self.fake_features or ACTION_TEXT in self.fake_features:
            return None  # trained on texts: the prediction depends on the words
        ml_only = self.supported_data() == SupportedData.ML_DATA
        # The same states TEDPolicy featurises (Policy._featurize_for_prediction).
        states = self.featurizer.prediction_states(
            [tracker],
            domain,
            use_text_for_last_user_input=False,
            ignore_rule_only_turns=ml_only,
            rule_only_data=rule_only_data,
            ignore_action_unlikely_intent=ml_only,
        )
        return json.dumps(states, sort_keys=True, default=repr)


def load_ted_for_prediction(
    model_class: type[TED],
    weights: str,
    model_data_example: RasaModelData,
    predict_data_example: RasaModelData | None,
    **model_kwargs: Any,
) -> TED:
    """A trained TED model, ready to predict, without Rasa's training step.

    ``RasaModel.load`` creates the model's variables by fitting it for one step on
    an example: Keras traces the whole training function with its gradients
    (about 20 of the Rasa server's 30 s of model loading here), and the weights
    it trains are then overwritten by the saved ones. Here the saved weights
    are loaded first, into variables not yet created (each takes its saved
    value when it is created); the label embeddings are computed eagerly and
    the prediction function is traced, as Rasa does, which creates the
    variables prediction reads (the optimizer's state and the loss's own
    weights, never read, are skipped). 2.3 s here with an eager prediction
    first to create them, 1.7 s this way. Without a prediction example, the
    loss of the training example creates the variables instead.
    """
    model = model_class(**model_kwargs)
    config = model_kwargs.get("config", {})
    model.compile(
        optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
        run_eagerly=config.get(RUN_EAGERLY),
    )
    if not predict_data_example:
        batch, _ = RasaBatchDataGenerator(model_data_example, batch_size=1)[0]
        model._training = True
        model.batch_loss(batch)
        model._training = None
        model.load_weights(weights).expect_partial()
        return model
    generator, _ = create_data_generators(
        predict_data_example, batch_sizes=1, epochs=1, shuffle=False
    )
    example = next(iter(generator))[0]
    # No variable exists yet: each is given its saved value as it is created
    # (restore on creation), so none is built twice or assigned after.
    model.load_weights(weights).expect_partial()
    model._training = False
    # The label embeddings, computed eagerly from the saved weights.
    model.prepare_for_predict()
    model.prepared_for_prediction = True
    # Rasa traces the prediction step with autograph, which rewrites Python
    # control flow on tensors; TED's prediction has none (a tensor used as a
    # Python bool would fail loudly here), so the plain trace builds the same
    # graph in 2-3 s instead of 6-7 s (identical probabilities). Its first trace
    # creates the prediction's variables (both branches of each tf.cond, which
    # an eager run would not), as Rasa's own fit step did.
    model._tf_predict_step = tf.function(
        model.predict_step,
        input_signature=model._dynamic_signature(example),
        autograph=False,
    )
    model.run_inference(predict_data_example)
    # From here on only the second trace runs (the first one's variables all
    # exist now): keep its concrete function and let the tf.function, which
    # still holds the first, variable-creating trace, go. 8 MB less resident per
    # worker and about 0.1 ms less per prediction (no signature matching);
    # the same probabilities (test_cached_ted.py).
    model._tf_predict_step = model._tf_predict_step.get_concrete_function()
    return model
