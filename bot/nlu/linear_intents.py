"""A fast, accurate intent classifier: a linear SVM over TF-IDF n-grams.

Features are built from the message text here, not by the pipeline's featurizers
(those still feed the entity extractor):

- word 1-2 grams and char_wb 2-5 grams, lower-cased, sublinear TF-IDF, each block
  L2-normalised;
- for Russian words, word 1-2 and char_wb 2-5 grams of their lemmas (pymorphy3,
  the analyser spaCy's Russian lemmatiser wraps; its dictionaries ship in the
  ``pymorphy3-dicts-ru`` wheel), times ``lemma_weight``: "заказала", "заказу" and
  "заказов" all meet at "заказ". Non-Russian words are left out of this view, so
  English messages get an empty block and English results do not change;
- for Russian words, the mean of natasha's navec vectors (300-d, shipped inside the
  ``natasha`` wheel: nothing is downloaded), so paraphrases without a shared stem
  still meet. With ``navec_sif`` > 0 the mean weighs each word by its smooth
  inverse frequency in the training data (``sif_weights``), so "мой", "на", "я"
  weigh little. English text gets a zero vector there;
- optionally (``minilm_weight`` > 0), the all-MiniLM-L6-v2 sentence vector of the
  message times ``minilm_weight`` (bot/nlu/sentence_vectors.py): English paraphrases
  meet too. The encoder is English-trained; with ``minilm_skip_cyrillic`` (the
  default) messages with Cyrillic letters get a zero vector and are not encoded.

A one-vs-rest ``LinearSVC`` trains CLINC150 (15k messages, 150 intents) in about
half a minute on one core. Its scores are margins, not probabilities: each intent's
confidence is ``sigmoid(slope * (margin - oos_margin) + logit(fallback_threshold))``,
so a top margin under ``oos_margin`` gets a confidence under ``fallback_threshold``
and the ``FallbackClassifier`` with that threshold turns it into ``nlu_fallback``.
Messages that got a MiniLM vector use ``minilm_oos_margin`` instead: the sentence
vector shifts their margins, so their out-of-scope cut is tuned on its own.
Keep ``fallback_threshold`` equal to the FallbackClassifier's ``threshold``.
"""

from __future__ import annotations

import importlib.resources
import logging
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import other_services, two_requests
from bot.nlu.navec_lite import CompactNavec
from bot.nlu.other_services import names_another_service
from bot.nlu.sentence_vectors import encoder as _minilm
from bot.nlu.sentence_vectors import is_cyrillic, sentence_vectors

logger = logging.getLogger(__name__)

_MODEL_FILE = "linear_intents.joblib"
_NAVEC = ("natasha", "data/emb/navec_news_v1_1B_250K_300d_100q.tar")
_RUSSIAN_WORDS = re.compile(r"[а-яё]+")
_LEMMA_CACHE_SIZE = 200_000
_NAVEC_DIM = 300


@lru_cache(maxsize=1)
def _navec() -> Any | None:
    """navec's vectors, read in place (``bot.nlu.navec_lite``: ~7 MB resident
    instead of ~107 MB per process)."""
    try:
        path = importlib.resources.files(_NAVEC[0]).joinpath(_NAVEC[1])
        # An installed package is a folder: the file stays where it is, so it can
        # be memory-mapped (as_file would copy a zipped one to a temporary file).
        return CompactNavec(Path(str(path)))
    except (ImportError, FileNotFoundError, OSError) as error:
        logger.warning("linear_intents.navec_unavailable", extra={"error": repr(error)})
        return None


@lru_cache(maxsize=1)
def _morph() -> Any | None:
    try:
        import pymorphy3

        return pymorphy3.MorphAnalyzer()
    except (ImportError, OSError, ValueError) as error:
        logger.warning(
            "linear_intents.pymorphy_unavailable", extra={"error": repr(error)}
        )
        return None


@lru_cache(maxsize=_LEMMA_CACHE_SIZE)
def _lemma(word: str) -> str:
    morph = _morph()
    if morph is None:
        return word
    return str(morph.parse(word)[0].normal_form).replace("ё", "е")


def russian_lemmas(text: str) -> str:
    """The lemmas of the Russian words of ``text``, space-separated, in order."""
    return " ".join(
        _lemma(word) for word in _RUSSIAN_WORDS.findall(text.lower().replace("ё", "е"))
    )


def _russian_words(text: str) -> list[str]:
    return _RUSSIAN_WORDS.findall(text.replace("ё", "е"))


def sif_weights(texts: list[str], a: float) -> dict[str, float]:
    """Each Russian word of ``texts``: ``a / (a + its share of all the words)``
    (Arora et al. 2017's smooth inverse frequency): "мой", "я", "на" count for
    little in a message's mean vector, rare content words for nearly 1."""
    counts: dict[str, int] = {}
    for text in texts:
        for word in _russian_words(text.lower()):
            counts[word] = counts.get(word, 0) + 1
    total = sum(counts.values()) or 1
    return {word: a / (a + count / total) for word, count in counts.items()}


def _russian_vectors(
    texts: list[str], weights: dict[str, float] | None = None
) -> np.ndarray:
    """The unit-length mean navec vector of each text's Russian words, each word
    times its ``weights`` entry (1 for a word not in it; all 1 without it)."""
    vectors = _navec()
    out = np.zeros((len(texts), _NAVEC_DIM), dtype=np.float32)
    if vectors is None:
        return out
    for row, text in enumerate(texts):
        words = [w for w in _russian_words(text) if w in vectors]
        if words:
            stacked = np.array([vectors[w] for w in words])
            if weights:
                scale = np.array([weights.get(w, 1.0) for w in words])
                mean = (stacked * scale[:, None].astype(np.float32)).sum(axis=0)
            else:
                mean = stacked.mean(axis=0)
            norm = float(np.linalg.norm(mean))
            if norm:
                out[row] = mean / norm
    return out


def _tfidf(vectorizer: Any, doc: str) -> tuple[np.ndarray, np.ndarray]:
    """One document's row of a fitted ``TfidfVectorizer`` as (columns, values):
    its analyzer's n-gram counts, sublinear tf, idf weights, l2 norm, as
    ``transform`` computes them."""
    cached = vectorizer.__dict__.get("_easyflow_row")
    if cached is None:
        # sklearn rebuilds both on every call (idf_ sums a diagonal matrix).
        idf = np.asarray(vectorizer.idf_) if vectorizer.use_idf else None
        cached = vectorizer._easyflow_row = (vectorizer.build_analyzer(), idf)
    analyzer, idf = cached
    vocabulary = vectorizer.vocabulary_
    counts: dict[int, int] = {}
    for feature in analyzer(doc):
        column = vocabulary.get(feature)
        if column is not None:
            counts[column] = counts.get(column, 0) + 1
    if not counts:
        return np.empty(0, dtype=np.intp), np.empty(0)
    columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
    values = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
    if vectorizer.sublinear_tf:
        values = np.log(values) + 1.0
    if idf is not None:
        values = values * idf[columns]
    if vectorizer.norm == "l2":
        norm = math.sqrt(float(values @ values))
        if norm > 0:
            values = values / norm
    elif vectorizer.norm is not None:
        raise ValueError(f"unsupported norm {vectorizer.norm!r}")
    return columns, values


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True
)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Sublinear TF-IDF word and char n-grams (+ navec) into a linear SVM."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 0.5,
            "word_ngrams": [1, 2],
            "char_ngrams": [2, 5],
            "char_min_df": 2,
            "navec_weight": 1.0,
            # > 0: the navec mean weighs each word by a / (a + its frequency in
            # the training data) (SIF); 0: a plain mean.
            "navec_sif": 0.0,
            "lemma_weight": 1.0,
            "minilm_weight": 0.0,
            "minilm_skip_cyrillic": True,
            "minilm_oos_margin": -0.4,
            "oos_margin": -0.4,
            "slope": 4.0,
            "fallback_threshold": 0.3,
            "ranking_length": 10,
            # Two requests in one message (bot/nlu/two_requests.py); 0 = off.
            "first_request_confidence": 0.0,
            "human_request_confidence": 0.5,
            "complaint_request_confidence": 0.0,
            # Another company's service named in shop words (other_services.py).
            "other_services": False,
            # The shop's own intents: the only ones other_services moves out of
            # scope, and the only ones a first clause is read as. A model trained
            # on other intents (a general assistant) is left as it predicts.
            "other_services_intents": list(other_services.SHOP_INTENTS),
            "first_request_intents": list(two_requests.SHOP_REQUESTS),
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "navec", "pymorphy3"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: dict[str, Any] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def _encoded(self, texts: list[str]) -> np.ndarray:
        """Which messages get a MiniLM vector (the rest get a zero row)."""
        if float(self.config["minilm_weight"]) <= 0:
            return np.zeros(len(texts), dtype=bool)
        skip = bool(self.config["minilm_skip_cyrillic"])
        return np.array(
            [bool(t.strip()) and not (skip and is_cyrillic(t)) for t in texts],
            dtype=bool,
        )

    def _features(self, texts: list[str], fit: bool = False) -> sp.csr_matrix:
        assert self._model is not None
        lowered = [text.lower() for text in texts]
        blocks = [
            (v.fit_transform(lowered) if fit else v.transform(lowered))
            for v in self._model["vectorizers"]
        ]
        lemma_vectorizers = self._model.get("lemma_vectorizers", [])
        if lemma_vectorizers:
            lemmas = [russian_lemmas(text) for text in lowered]
            weight = float(self.config["lemma_weight"])
            blocks.extend(
                (v.fit_transform(lemmas) if fit else v.transform(lemmas)) * weight
                for v in lemma_vectorizers
            )
        weight = float(self.config["navec_weight"])
        if weight > 0:
            sif = self._model.get("navec_sif")
            blocks.append(sp.csr_matrix(_russian_vectors(lowered, sif) * weight))
        minilm = float(self.config["minilm_weight"])
        if minilm > 0:
            skip = bool(self.config["minilm_skip_cyrillic"])
            blocks.append(sp.csr_matrix(sentence_vectors(texts, skip) * minilm))
        return sp.hstack(blocks).tocsr()

    def _margins(self, texts: list[str]) -> np.ndarray:
        """``svm.decision_function(self._features(texts))``, computed from each
        text's few non-zero features against the matching weight columns: the
        same sums (to float rounding) without building sparse matrices, which
        cost more than the arithmetic for one short message."""
        assert self._model is not None
        svm = self._model["svm"]
        coef, intercept = svm.coef_, svm.intercept_
        lowered = [text.lower() for text in texts]
        out = np.tile(intercept, (len(texts), 1))
        offset = 0
        blocks: list[tuple[Any, list[str], float]] = [
            (v, lowered, 1.0) for v in self._model["vectorizers"]
        ]
        lemma_vectorizers = self._model.get("lemma_vectorizers", [])
        if lemma_vectorizers:
            lemmas = [russian_lemmas(text) for text in lowered]
            weight = float(self.config["lemma_weight"])
            blocks += [(v, lemmas, weight) for v in lemma_vectorizers]
        for vectorizer, docs, weight in blocks:
            width = len(vectorizer.vocabulary_)
            for row, doc in enumerate(docs):
                columns, values = _tfidf(vectorizer, doc)
                if len(columns):
                    # Elementwise, not `@`: a BLAS call this small costs more,
                    # and OpenBLAS's threads spin on the other core after it.
                    out[row] += (coef[:, offset + columns] * (values * weight)).sum(1)
            offset += width
        dense = []
        if float(self.config["navec_weight"]) > 0:
            navec = _russian_vectors(lowered, self._model.get("navec_sif"))
            dense.append(navec * float(self.config["navec_weight"]))
        minilm = float(self.config["minilm_weight"])
        if minilm > 0:
            skip = bool(self.config["minilm_skip_cyrillic"])
            dense.append(sentence_vectors(texts, skip) * minilm)
        for block in dense:
            width = block.shape[1]
            weights = coef[:, offset : offset + width]
            for row, vector in enumerate(block.astype(np.float64)):
                if vector.any():
                    out[row] += (weights * vector).sum(1)
            offset += width
        return out

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.svm import LinearSVC

        examples = [
            e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)
        ]
        labels = sorted({e.get(INTENT) for e in examples})
        if len(labels) < 2:
            logger.warning("linear_intents.skipped", extra={"intents": len(labels)})
            return self._resource
        texts = [e.get(TEXT) for e in examples]
        self._model = {"vectorizers": self._vectorizers()}
        sif = float(self.config["navec_sif"])
        if sif > 0 and float(self.config["navec_weight"]) > 0:
            self._model["navec_sif"] = sif_weights(texts, sif)
        russian = any(_RUSSIAN_WORDS.search(text.lower()) for text in texts)
        if float(self.config["lemma_weight"]) > 0 and russian and _morph() is not None:
            self._model["lemma_vectorizers"] = self._vectorizers()
        try:
            x = self._features(texts, fit=True)
        except ValueError:  # too few Russian words left a lemma vocabulary empty
            if not self._model.pop("lemma_vectorizers", None):
                raise
            x = self._features(texts, fit=True)
        y = [e.get(INTENT) for e in examples]
        # A fixed seed for liblinear's shuffling: the same data trains the same
        # model, so a gate figure does not move between two trainings.
        svm = LinearSVC(C=float(self.config["C"]), random_state=0)
        svm.fit(x, y)
        self._model["svm"] = svm
        self.persist()
        return self._resource

    def _vectorizers(self) -> list[Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        word = self.config["word_ngrams"]
        char = self.config["char_ngrams"]
        return [
            TfidfVectorizer(ngram_range=(word[0], word[1]), sublinear_tf=True),
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(char[0], char[1]),
                sublinear_tf=True,
                min_df=int(self.config["char_min_df"]),
            ),
        ]

    def persist(self) -> None:
        import joblib

        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / _MODEL_FILE)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        import joblib

        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / _MODEL_FILE)
        except (ValueError, FileNotFoundError):
            model = None
        component = cls(config, model_storage, resource, model)
        if model is not None and float(component.config["navec_weight"]) > 0:
            _navec()  # load the vectors now, not on the first message
        if model is not None and model.get("lemma_vectorizers"):
            _morph()
        if model is not None and float(component.config["minilm_weight"]) > 0:
            _minilm()
        return component

    def _confidences(self, margins: np.ndarray, encoded: np.ndarray) -> np.ndarray:
        threshold = float(self.config["fallback_threshold"])
        offset = math.log(threshold / (1 - threshold))
        cut = np.where(
            encoded,
            float(self.config["minilm_oos_margin"]),
            float(self.config["oos_margin"]),
        )[:, None]
        z = float(self.config["slope"]) * (margins - cut)
        return 1.0 / (1.0 + np.exp(-(z + offset)))

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        rankings = self._rankings(texts)
        first = float(self.config["first_request_confidence"])
        requests = frozenset(self.config["first_request_intents"])
        shop = frozenset(self.config["other_services_intents"])
        for message, text, ranking in zip(messages, texts, rankings, strict=False):
            clauses = two_requests.split(text) if first > 0 else []
            if len(clauses) > 1:
                chosen = two_requests.choose(
                    self._rankings(clauses),
                    first,
                    float(self.config["human_request_confidence"]),
                    float(self.config["complaint_request_confidence"]),
                    requests,
                )
                ranking = chosen or ranking
            if self.config["other_services"] and names_another_service(text):
                ranking = other_services.out_of_scope(ranking, shop)
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def _rankings(self, texts: list[str]) -> list[list[dict[str, Any]]]:
        """Each text's intents, most confident first (``ranking_length`` of them)."""
        assert self._model is not None
        svm = self._model["svm"]
        if len(svm.classes_) > 2:
            margins = self._margins(texts)
        else:  # binary LinearSVC returns one column
            margins = np.atleast_2d(svm.decision_function(self._features(texts)))
            margins = np.hstack([-margins.T, margins.T])
        confidences = self._confidences(margins, self._encoded(texts))
        limit = int(self.config["ranking_length"])
        rankings = []
        for row in confidences:
            order = np.argsort(-row)
            rankings.append(
                [
                    {"name": str(svm.classes_[i]), "confidence": float(row[i])}
                    for i in order[: limit if limit > 0 else len(order)]
                ]
            )
        return rankings
