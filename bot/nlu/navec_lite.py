"""navec word vectors read in place: the same vectors for ~7 MB instead of ~107 MB.

``navec.Navec.load`` keeps a Python dict of all 250,000 words, every word's
100 product-quantisation codes in memory, and tables for similarity search that
the intent classifier never uses: 107 MB resident in each Rasa worker. The
classifier only asks "is this lowercase Russian word known, and what is its
vector". Here:

- the words made only of ``а-яё`` (the only ones the classifier looks up:
  228,753 of 250,002) sit in one sorted fixed-width array, in cp1251 (one byte a
  letter), found by binary search (``np.searchsorted``);
- the codes stay in the file, memory-mapped: only the pages of words actually
  seen become resident, and they are shared by every process reading the file;
- a vector is rebuilt exactly as ``navec.pq.PQ.__getitem__`` does, from the same
  centroids, so it is the same float32 vector (``tests/bot/nlu/test_navec_lite.py``).
"""

from __future__ import annotations

import gzip
import re
import tarfile
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[а-яё]+")
_ENCODING = "cp1251"


class CompactNavec:
    """``word in vectors`` and ``vectors[word]`` of a navec ``.tar`` file."""

    def __init__(self, path: str | Path) -> None:
        with tarfile.open(str(path)) as tar:
            raw = gzip.GzipFile(fileobj=tar.extractfile("vocab.bin")).read()
            member = tar.getmember("pq.bin")
            pq = tar.extractfile(member)
            assert pq is not None
            vectors, dim, qdim, centroids = (
                int(n) for n in np.frombuffer(pq.read(16), np.uint32)
            )
            pq.seek(16 + vectors * qdim)
            codes = np.frombuffer(pq.read(), np.float32).reshape(qdim, centroids, -1)
            offset = member.offset_data + 16
        size = int(np.frombuffer(raw[:4], np.uint32)[0])
        words = raw[4 + 4 * size :].decode("utf-8").split("\n")
        ids = np.array(
            [i for i, word in enumerate(words) if _WORD.fullmatch(word)], np.int32
        )
        keys = np.array([words[i].encode(_ENCODING) for i in ids])
        del words, raw
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._ids = ids[order]
        self._indexes = np.memmap(
            str(path), np.uint8, "r", offset=offset, shape=(vectors, qdim)
        )
        self._codes = codes.copy()
        self._qdims = np.arange(qdim)
        self.dim = dim

    def _id(self, word: str) -> int | None:
        if not _WORD.fullmatch(word):
            return None
        key = word.encode(_ENCODING)
        at = int(np.searchsorted(self._keys, key))
        if at < len(self._keys) and self._keys[at] == key:
            return int(self._ids[at])
        return None

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._id(word) is not None

    def __getitem__(self, word: str) -> np.ndarray:
        at = self._id(word)
        if at is None:
            raise KeyError(word)
        return self._codes[self._qdims, self._indexes[at]].reshape(self.dim)
