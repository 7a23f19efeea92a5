"""SavedCRFEntityExtractor: the taggers Rasa would train again at load, opened
from the model instead; the same entities either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
from rasa.nlu.featurizers.sparse_featurizer.lexical_syntactic_featurizer import (
    LexicalSyntacticFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.crf import SavedCRFEntityExtractor, tagger_file

NLU = """
version: "3.1"
nlu:
- intent: product_availability
  examples: |
    - есть [худи](product) [черного](color) цвета размер [M](size)?
    - есть ли [кроссовки](product) [42](size) размера
    - do you have the [red](color) [dress](product) in size [S](size)
    - [платье](product) [синее](color) [44](size) есть?
    - is the [blue](color) [hoodie](product) in stock in [L](size)
    - нужны [джинсы](product) [30](size)
    - а [куртка](product) [зеленая](color) бывает?
    - any [sneakers](product) in [41](size)
"""
UNSEEN = [
    "есть худи синего цвета размер L",
    "do you have sneakers in size 42",
    "хочу платье красное 46",
    "нужна куртка",
    "привет",
]
CONTEXT = ExecutionContext(graph_schema=None)  # type: ignore[arg-type]


def _prepared(messages: list[Message]) -> list[Message]:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process(messages)
    return messages


def _entities(extractor: Any, texts: list[str], featurizer: Any) -> list[Any]:
    messages = _prepared([Message(data={TEXT: t}) for t in texts])
    featurizer.process(messages)
    extractor.process(messages)
    return [
        [
            (e["entity"], e["value"], e["start"], e["end"], e["confidence_entity"])
            for e in m.get(ENTITIES, [])
        ]
        for m in messages
    ]


def _featurized(tmp_path: Path) -> tuple[TrainingData, LocalModelStorage, Any]:
    """The training data tokenised and featurised as the pipeline does before
    the CRF, the storage, and the trained featurizer."""
    data = RasaYAMLReader().reads(NLU)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(
        data
    )
    storage = LocalModelStorage(tmp_path)
    featurizer = LexicalSyntacticFeaturizer.create(
        LexicalSyntacticFeaturizer.get_default_config(),
        storage,
        Resource("lsf"),
        CONTEXT,
    )
    featurizer.train(data)
    featurizer.process_training_data(data)
    return data, storage, featurizer


def test_saved_taggers_tag_as_the_retrained_ones(tmp_path: Path) -> None:
    data, storage, featurizer = _featurized(tmp_path)
    resource = Resource("crf")
    config = SavedCRFEntityExtractor.get_default_config()
    trained = SavedCRFEntityExtractor.create(config, storage, resource, CONTEXT)
    trained.train(data)
    assert (storage._directory_for_resource(resource) / tagger_file("entity")).exists()

    saved = SavedCRFEntityExtractor.load(config, storage, resource, CONTEXT)
    retrained = CRFEntityExtractor.load(config, storage, resource, CONTEXT)

    ours = _entities(saved, UNSEEN, featurizer)
    rasas = _entities(retrained, UNSEEN, featurizer)
    assert ours == rasas
    assert ours[0] and ours[1]  # it does find entities in unseen messages
    assert ours[4] == []


def test_entities_still_name_the_crf_extractor(tmp_path: Path) -> None:
    extractor = SavedCRFEntityExtractor.create(
        SavedCRFEntityExtractor.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("crf"),
        CONTEXT,
    )
    assert extractor.name == "CRFEntityExtractor"


def test_a_model_without_saved_taggers_is_trained_at_load(tmp_path: Path) -> None:
    data, storage, featurizer = _featurized(tmp_path)
    config = CRFEntityExtractor.get_default_config()
    CRFEntityExtractor.create(config, storage, Resource("crf"), CONTEXT).train(data)

    loaded = SavedCRFEntityExtractor.load(config, storage, Resource("crf"), CONTEXT)

    assert _entities(loaded, UNSEEN[:1], featurizer)[0]
