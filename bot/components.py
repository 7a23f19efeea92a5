"""Custom NLU components loaded by ``config.yml``."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.order_ids import find_in_text

ORDER_ID = "order_id"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class OrderIdExtractor(GraphComponent, EntityExtractorMixin):
    """Finds order numbers by their real formats, replacing the model's guesses.

    A learned extractor misses numbers it has never seen and sometimes cuts them in
    half; the formats are exact, so a pattern is both faster and right. Place it
    after the DIETClassifier: it drops DIET's ``order_id`` entities, keeps the rest.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OrderIdExtractor:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            kept = [
                entity
                for entity in message.get(ENTITIES, [])
                if entity.get(ENTITY_ATTRIBUTE_TYPE) != ORDER_ID
            ]
            found = [
                {
                    ENTITY_ATTRIBUTE_TYPE: ORDER_ID,
                    ENTITY_ATTRIBUTE_START: span.start,
                    ENTITY_ATTRIBUTE_END: span.end,
                    ENTITY_ATTRIBUTE_VALUE: span.text,
                    ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
                    EXTRACTOR: self.__class__.__name__,
                }
                for span in find_in_text(text)
            ]
            # Any other entity overlapping an order number is a model mistake.
            kept = [e for e in kept if not any(_overlaps(e, f) for f in found)]
            merged = sorted(
                kept + found, key=lambda e: e.get(ENTITY_ATTRIBUTE_START, 0)
            )
            message.set(ENTITIES, merged, add_to_output=True)
        return messages


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get(ENTITY_ATTRIBUTE_START, 0) < b[ENTITY_ATTRIBUTE_END] and b[
        ENTITY_ATTRIBUTE_START
    ] < a.get(ENTITY_ATTRIBUTE_END, 0)
