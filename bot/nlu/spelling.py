"""The NLU component that fixes typing slips before featurisation."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from common.spelling import SpellingFixer, words

TYPED_TEXT = "typed_text"
_COUNTS_FILE = "word_counts.json"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True
)
class SpellingView(GraphComponent):
    """Each misspelt word read as the training word one edit away
    (``common.spelling``): "i wnat to retrun" is read "i want to return".

    Place it after ``CyrillicView`` and before the tokenizer, so that
    transliterated Russian is corrected in Cyrillic. The message's text is
    replaced; the text as typed stays in the parse result as ``typed_text``.
    """

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        counts: dict[str, int] | None = None,
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.fixer = SpellingFixer(counts or {})

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpellingView:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        counts = Counter(
            word
            for example in training_data.training_examples
            for word in words(example.get(TEXT) or "")
        )
        self.fixer = SpellingFixer(counts)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _COUNTS_FILE).write_text(
                json.dumps(dict(sorted(counts.items())), ensure_ascii=False), "utf-8"
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
    ) -> SpellingView:
        try:
            with model_storage.read_from(resource) as directory:
                counts = json.loads((directory / _COUNTS_FILE).read_text("utf-8"))
        except (ValueError, FileNotFoundError):
            counts = {}
        return cls(model_storage, resource, counts)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                continue
            fixed = self.fixer.fix(text)
            if fixed != text:
                message.set(TYPED_TEXT, text, add_to_output=True)
                message.set(TEXT, fixed)
        return messages
