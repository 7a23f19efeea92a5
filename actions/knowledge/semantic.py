"""Russian word vectors for retrieval: paraphrases with no shared stem
("рассрочка" and "оплата частями") still meet.

Uses natasha's navec news embeddings (250K words × 300, quantised), which ship
inside the ``natasha`` wheel: nothing is downloaded. A text's vector is the mean of
its known words' vectors. Without the file, retrieval falls back to BM25 alone.
"""

from __future__ import annotations

import importlib.resources
import logging
import re
from functools import lru_cache
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

_WORDS = re.compile(r"[а-яё]{3,}")
_NAVEC = ("natasha", "data/emb/navec_news_v1_1B_250K_300d_100q.tar")


@lru_cache(maxsize=1)
def russian_vectors() -> Any | None:
    try:
        from navec import Navec

        path = importlib.resources.files(_NAVEC[0]).joinpath(_NAVEC[1])
        with importlib.resources.as_file(path) as file:
            return Navec.load(str(file))
    except (ImportError, FileNotFoundError, OSError) as error:
        logger.warning("knowledge.vectors.unavailable", extra={"error": repr(error)})
        return None


def embed(text: str) -> np.ndarray | None:
    """The unit-length mean vector of the text's Russian words, or ``None``."""
    vectors = russian_vectors()
    if vectors is None:
        return None
    words = [w for w in _WORDS.findall(text.lower().replace("ё", "е")) if w in vectors]
    if not words:
        return None
    mean = np.mean([vectors[w] for w in words], axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else None
