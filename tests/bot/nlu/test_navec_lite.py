"""CompactNavec gives navec's own vectors for the words the classifier asks."""

from __future__ import annotations

import importlib.resources
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from navec import Navec

from bot.nlu.linear_intents import _NAVEC
from bot.nlu.navec_lite import CompactNavec


@pytest.fixture(scope="module")
def navec_file() -> Iterator[Path]:
    path = importlib.resources.files(_NAVEC[0]).joinpath(_NAVEC[1])
    with importlib.resources.as_file(path) as file:
        yield Path(file)


def test_every_russian_word_has_navecs_own_vector(navec_file: Path) -> None:
    original = Navec.load(str(navec_file))
    compact = CompactNavec(navec_file)
    russian = [w for w in original.vocab.words if w.isalpha() and w == w.lower()]
    russian = [w for w in russian if all("а" <= c <= "я" or c == "ё" for c in w)]
    assert len(russian) > 200_000
    sample = [*random.Random(7).sample(russian, 5000), "заказ", "доставка", "ёлка"]
    for word in sample:
        assert word in compact
        assert np.array_equal(compact[word], original[word]), word
        assert compact[word].dtype == np.float32


def test_other_words_are_unknown(navec_file: Path) -> None:
    original = Navec.load(str(navec_file))
    compact = CompactNavec(navec_file)
    for word in ("zakaz", "Заказ", "заказы123", "", "<unk>", "зааааааказ", "ъъъ"):
        assert word not in compact
        with pytest.raises(KeyError):
            compact[word]
    latin = next(w for w in original.vocab.words if w.isascii() and w.isalpha())
    assert latin in original and latin not in compact
