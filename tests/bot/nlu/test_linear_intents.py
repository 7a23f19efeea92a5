from pathlib import Path

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_intents import (
    LinearIntentClassifier,
    _russian_vectors,
    russian_lemmas,
    sif_weights,
)
from bot.nlu.sentence_vectors import DIM, sentence_vectors

EXAMPLES = {
    "gift_wrap": [
        "do you offer gift wrapping",
        "is gift wrap available",
        "please gift wrap my order",
        "упакуйте подарок",
        "можно подарочную упаковку",
    ],
    "refund": [
        "i want a refund",
        "how do i get a refund",
        "refund my purchase please",
        "верните деньги",
        "хочу вернуть деньги",
    ],
    "greet": [
        "hello there",
        "hi",
        "good morning",
        "привет",
        "здравствуйте",
    ],
}


def _trained(tmp_path: Path, **config: object) -> LinearIntentClassifier:
    tmp_path.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear_intents")
    context = ExecutionContext(graph_schema=None)  # type: ignore[arg-type]
    classifier = LinearIntentClassifier.create(config, storage, resource, context)
    messages = [
        Message(data={TEXT: text, INTENT: intent})
        for intent, texts in EXAMPLES.items()
        for text in texts
    ]
    classifier.train(TrainingData(training_examples=messages))
    return LinearIntentClassifier.load(config, storage, resource, context)


def _intent(classifier: LinearIntentClassifier, text: str) -> str:
    (message,) = classifier.process([Message(data={TEXT: text})])
    return message.get(INTENT)["name"]


def test_english_rows_are_unit_length_and_cyrillic_rows_are_zero() -> None:
    rows = sentence_vectors(["can you wrap it as a present", "упакуйте подарок", ""])
    assert rows.shape == (3, DIM)
    assert abs(float(np.linalg.norm(rows[0])) - 1.0) < 1e-4
    assert not rows[1].any() and not rows[2].any()
    encoded = sentence_vectors(["упакуйте подарок"], skip_cyrillic=False)
    assert abs(float(np.linalg.norm(encoded[0])) - 1.0) < 1e-4


def test_paraphrases_meet_without_a_shared_word() -> None:
    present, wrapping, money = sentence_vectors(
        ["can you wrap it as a present", "do you offer gift wrapping", "refund me"]
    )
    assert float(present @ wrapping) > float(present @ money) + 0.2


def test_minilm_features_classify_an_english_paraphrase(tmp_path: Path) -> None:
    classifier = _trained(tmp_path, minilm_weight=2.0)
    assert _intent(classifier, "could you pack it as a present") == "gift_wrap"
    assert _intent(classifier, "give me my money back") == "refund"
    # Russian messages skip the encoder and still reach their intents.
    assert _intent(classifier, "верните мне деньги") == "refund"
    assert _intent(classifier, "привет") == "greet"


def test_features_grow_by_the_sentence_vector_only_when_enabled(
    tmp_path: Path,
) -> None:
    plain = _trained(tmp_path / "plain")
    with_minilm = _trained(tmp_path / "minilm", minilm_weight=1.5)
    texts = ["do you offer gift wrapping"]
    width = plain._features(texts).shape[1]
    features = with_minilm._features(texts)
    assert features.shape[1] == width + DIM
    assert abs(float(np.linalg.norm(features[:, width:].toarray())) - 1.5) < 1e-3
    assert not with_minilm._features(["привет"])[:, width:].toarray().any()


def test_encoded_messages_use_their_own_out_of_scope_cut(tmp_path: Path) -> None:
    classifier = _trained(
        tmp_path, minilm_weight=2.0, oos_margin=-0.4, minilm_oos_margin=-0.2
    )
    texts = ["where is my order", "где мой заказ"]
    assert classifier._encoded(texts).tolist() == [True, False]
    margins = np.array([[-0.2, -1.0], [-0.4, -1.0]])
    confidences = classifier._confidences(margins, classifier._encoded(texts))
    # A top margin exactly at its cut lands on the fallback threshold (0.3).
    assert np.allclose(confidences[:, 0], [0.3, 0.3])
    plain = _trained(tmp_path / "plain", oos_margin=-0.4, minilm_oos_margin=-0.2)
    assert not plain._encoded(texts).any()


def test_russian_lemmas_join_inflected_forms_and_drop_other_words() -> None:
    assert russian_lemmas("Где мои ЗАКАЗЫ? order 5") == "где мой заказ"
    assert russian_lemmas("заказов ещё нет") == russian_lemmas("заказ еще нет")
    assert russian_lemmas("where is my order") == ""


def test_lemma_view_makes_inflections_of_a_word_meet(tmp_path: Path) -> None:
    classifier = _trained(tmp_path, lemma_weight=1.0)
    assert classifier._model is not None

    def width(key: str) -> int:
        assert classifier._model is not None
        return sum(len(v.vocabulary_) for v in classifier._model[key])

    start = width("vectorizers")
    end = start + width("lemma_vectorizers")
    one, other, english = classifier._features(
        ["верните деньги", "вернули денег", "refund my purchase please"]
    )[:, start:end].toarray()
    assert one.any() and np.allclose(one, other)
    assert not english.any()
    plain = _trained(tmp_path / "plain", lemma_weight=0.0)
    assert plain._model is not None and "lemma_vectorizers" not in plain._model
    assert plain._features(["привет"]).shape[1] == classifier._features(
        ["привет"]
    ).shape[1] - (end - start)


def test_english_only_training_gets_no_lemma_view(tmp_path: Path) -> None:
    english = {k: [t for t in v if t.isascii()] for k, v in EXAMPLES.items()}
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(graph_schema=None)  # type: ignore[arg-type]
    classifier = LinearIntentClassifier.create(
        {}, storage, Resource("linear_intents"), context
    )
    classifier.train(
        TrainingData(
            training_examples=[
                Message(data={TEXT: text, INTENT: intent})
                for intent, texts in english.items()
                for text in texts
            ]
        )
    )
    assert classifier._model is not None
    assert "lemma_vectorizers" not in classifier._model


def test_margins_equal_the_svms_decision_function(tmp_path: Path) -> None:
    """The per-text margins sum the same weights sklearn's sparse matrices do:
    word, char and lemma n-grams, SIF-weighted navec and MiniLM, with the
    configured weights."""
    classifier = _trained(
        tmp_path, minilm_weight=2.0, lemma_weight=0.7, navec_sif=0.001
    )
    texts = [
        "do you offer gift wrapping?",
        "Хочу вернуть деньги за заказ A-10234",
        "верните",
        "",
        "   ",
        "qwertyuiop zxcvb",
        "привет! can you wrap it as a present",
        "ЗДРАВСТВУЙТЕ, подарочная упаковка есть?",
        "refund refund refund",
    ]
    model = classifier._model
    assert model is not None and model.get("lemma_vectorizers")
    expected = model["svm"].decision_function(classifier._features(texts))

    assert np.allclose(classifier._margins(texts), expected, rtol=0, atol=1e-12)
    # One at a time, the MiniLM graph's float32 sums run in another order than
    # in a padded batch (bot/nlu/minilm_graph.py): equal to float rounding.
    one_by_one = np.vstack([classifier._margins([text]) for text in texts])
    assert np.allclose(one_by_one, expected, rtol=0, atol=1e-5)


def _ranking(classifier: LinearIntentClassifier, text: str) -> list[dict]:
    (message,) = classifier.process([Message(data={TEXT: text})])
    return message.get("intent_ranking")


def test_another_company_moves_only_the_shops_own_intents(tmp_path: Path) -> None:
    # A model of other intents ("refund" is not the shop's refund_status): a
    # company named in the message changes nothing.
    text = "i want a refund from amazon"
    general = _trained(tmp_path, other_services=True)
    assert _intent(general, text) == "refund"
    shop = _trained(
        tmp_path / "shop", other_services=True, other_services_intents=["refund"]
    )
    assert _intent(shop, text) == "out_of_scope"
    assert _intent(shop, "i want a refund") == "refund"  # no company named
    off = _trained(tmp_path / "off", other_services_intents=["refund"])
    assert _intent(off, text) == "refund"  # the rule is off by default


def test_a_first_clause_is_read_as_the_shops_requests_only(tmp_path: Path) -> None:
    text = "верните деньги и упакуйте подарок"
    whole = _ranking(_trained(tmp_path / "whole"), text)
    first = _ranking(_trained(tmp_path / "clause"), "верните деньги")
    assert whole != first  # the clause reading would change the prediction
    general = _trained(tmp_path / "general", first_request_confidence=0.01)
    assert _ranking(general, text) == whole
    shop = _trained(
        tmp_path / "shop",
        first_request_confidence=0.01,
        first_request_intents=["refund", "gift_wrap"],
    )
    assert _ranking(shop, text) == first


def test_sif_weighs_frequent_words_down_in_the_navec_mean() -> None:
    weights = sif_weights(["где мой заказ", "мой возврат", "мой чек", "Где"], 0.001)
    assert weights["мой"] < weights["где"] < weights["заказ"] < 1.0
    assert "where" not in sif_weights(["where is my order"], 0.001)
    plain, weighted = (
        _russian_vectors(["мой заказ"]),
        _russian_vectors(["мой заказ"], weights),
    )
    assert np.isclose(np.linalg.norm(weighted), 1.0)
    assert not np.allclose(plain, weighted)
    # Closer to "заказ" alone than the plain mean is.
    alone = _russian_vectors(["заказ"])[0]
    assert weighted[0] @ alone > plain[0] @ alone
    assert np.allclose(
        _russian_vectors(["новое слово"], weights), _russian_vectors(["новое слово"])
    )


def test_sif_weights_are_learnt_only_when_asked_for(tmp_path: Path) -> None:
    weighted = _trained(tmp_path, navec_sif=0.001)
    assert weighted._model is not None and "мой" not in weighted._model["navec_sif"]
    assert weighted._model["navec_sif"]["деньги"] < 1.0
    plain = _trained(tmp_path / "plain")
    assert plain._model is not None and "navec_sif" not in plain._model
