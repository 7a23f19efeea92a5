"""Custom NLU components loaded by ``config.yml``."""

from __future__ import annotations

import json
import re
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

from bot.nlu.emoji_words import emoji_reading
from common.order_ids import find_in_text, latin_codes
from common.translit import cyrillic_view

ORDER_ID = "order_id"
LATIN_TEXT = "latin_text"
_VOCABULARY_FILE = "vocabulary.json"
_CYRILLIC_WORD = re.compile(r"[а-яё]+")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True
)
class CyrillicView(GraphComponent):
    """Russian typed in Latin letters or on the Latin layout, read in Cyrillic;
    an emoji-only answer read as its word (``bot.nlu.emoji_words``).

    Place it first, before the tokenizer: every later component (word and char
    n-grams, lemmas, word vectors, entities) then sees «где мой заказ» for
    "gde moy zakaz" or "ult vjq pfrfp" (``common.translit``). The message's text is
    replaced; the text as typed stays in the parse result as ``latin_text``. Shop
    codes typed with Russian look-alike letters ("А-22906") are spelled in Latin.
    Training keeps the words of the Russian training examples, so that an
    ambiguous reading prefers a word the model knows.
    """

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: frozenset[str] = frozenset(),
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CyrillicView:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        words = {
            word
            for example in training_data.training_examples
            for word in _CYRILLIC_WORD.findall((example.get(TEXT) or "").lower())
        }
        self.vocabulary = frozenset(words)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _VOCABULARY_FILE).write_text(
                json.dumps(sorted(words), ensure_ascii=False), "utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CyrillicView:
        try:
            with model_storage.read_from(resource) as directory:
                words = json.loads((directory / _VOCABULARY_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            words = []
        return cls(model_storage, resource, frozenset(words))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            view = emoji_reading(text) or cyrillic_view(text, self.vocabulary)
            if view is not None:
                message.set(LATIN_TEXT, text, add_to_output=True)
            # Shop codes typed with Russian letters ("А-22906") read as the
            # Latin codes the classifier was trained on.
            latin = latin_codes(view if view is not None else text)
            if latin != text:
                message.set(TEXT, latin)
        return messages


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
