from pathlib import Path

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.linear_intents import LinearIntentClassifier
from bot.sentence_vectors import DIM, sentence_vectors

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
