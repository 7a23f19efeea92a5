"""Rasa's CRF entity extractor, loaded from its trained taggers instead of
trained again at every start.

Rasa 3.6's ``CRFEntityExtractor`` persists its training set (``crf_dataset.json``)
and, when a model is loaded, trains the CRF on it again: 2.7 s of every Rasa
worker's start-up here and ~32 MB resident that the training leaves behind. The
taggers it trains are the same each time (L-BFGS from the same data and
configuration). ``SavedCRFEntityExtractor`` also writes each trained tagger's
crfsuite model into the Rasa model and, when loading, opens those bytes with
``pycrfsuite.Tagger.open_inmemory``: the same taggers, no training. A model
without them (trained before) is loaded the way Rasa does.
``tests/bot/nlu/test_crf.py`` checks that both give the same entities.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pycrfsuite
import rasa.shared.utils.io
import sklearn_crfsuite
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken

logger = logging.getLogger(__name__)

ORDER_FILE = "crf_order.json"


def tagger_file(tag_name: str) -> str:
    return f"tagger_{tag_name}.crfsuite"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True
)
class SavedCRFEntityExtractor(CRFEntityExtractor):
    """``CRFEntityExtractor`` whose trained taggers travel in the model."""

    @property
    def name(self) -> str:
        # Entities keep saying "CRFEntityExtractor" (parse output, `rasa test`'s
        # CRFEntityExtractor_report.json): they are that extractor's entities.
        return CRFEntityExtractor.__name__

    def persist(self, dataset: list[list[CRFToken]]) -> None:
        super().persist(dataset)
        with self._model_storage.write_to(self._resource) as model_dir:
            for tag_name, tagger in (self.entity_taggers or {}).items():
                trained = Path(tagger.modelfile.name).read_bytes()
                (model_dir / tagger_file(tag_name)).write_bytes(trained)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CRFEntityExtractor:
        try:
            with model_storage.read_from(resource) as model_dir:
                order = rasa.shared.utils.io.read_json_file(model_dir / ORDER_FILE)
                files = [model_dir / tagger_file(tag) for tag in order]
                if not all(file.exists() for file in files):
                    logger.info("crf.retrained_at_load", extra={"reason": "old model"})
                    return super().load(
                        config, model_storage, resource, execution_context, **kwargs
                    )
                taggers = OrderedDict(
                    (tag, _opened(file.read_bytes()))
                    for tag, file in zip(order, files, strict=True)
                )
        except ValueError:
            # As Rasa's: a model trained without entity examples has no resource.
            logger.warning("crf.not_found", extra={"resource": resource.name})
            return cls(config, model_storage, resource)
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = order
        return extractor


def _opened(trained: bytes) -> sklearn_crfsuite.CRF:
    """An ``sklearn_crfsuite.CRF`` that predicts with the tagger in ``trained``
    (what ``CRF.tagger_`` would open from its model file)."""
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(trained)
    crf = sklearn_crfsuite.CRF()
    crf._tagger = tagger
    # crfsuite reads the model from this buffer while tagging: keep it alive.
    crf._easyflow_model = trained
    return crf
