"""BM25 retrieval over the knowledge base, with Russian and English stemming.

Each ``## heading`` section of a markdown file is one passage; the heading is
repeated in the index (it is usually the question the passage answers). The index is
built once per process and rebuilt when a file changes.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from actions.integrations.catalog import stems
from actions.knowledge.semantic import embed

# Words that carry no meaning for matching a question to a passage.
_STOP = set(
    stems(
        "и в во на с со к ко по за из у о об от до для не ни ли же бы а но или что как "
        "какой какая какие где когда мне меня мой моя мы вы вас вам ваш ваша это есть "
        "можно ли ещё еще уже я ты он она они там тут так да нет подскажите скажите "
        "пожалуйста здравствуйте привет "
        "the a an and or of to in on for is are do does can i you we my your it this "
        "that with be have has what how when where which please hi hello there"
    )
)
_HEADING = re.compile(r"^##\s+(.+)$", re.MULTILINE)
_CYRILLIC = re.compile("[а-яё]")


@dataclass(frozen=True)
class Passage:
    source: str  # e.g. "ru/delivery.md#Сколько стоит доставка?"
    language: str
    title: str  # the section heading
    text: str
    document: str = ""  # the file's "# Title"


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # BM25: how much of the question's wording the passage has
    similarity: float = 0.0  # cosine of word vectors (Russian), 0 when unknown


# Russian stems are cut to this many letters: "упаковываете" and "упаковка" stem
# to "упаковыва" and "упаковк", which must meet.
_RU_PREFIX = 5
# Share of word-vector similarity in the Russian ranking (the rest is BM25). Chosen
# with bench/fallback_retrieval.py on its question set (0.5-0.8 all help).
SEMANTIC_WEIGHT = 0.7


def _terms(text: str) -> list[str]:
    terms = []
    for term in stems(text):
        if term in _STOP or len(term) < 2:
            continue
        terms.append(term[:_RU_PREFIX] if _CYRILLIC.match(term) else term)
    return terms


def load_passages(root: Path) -> list[Passage]:
    passages = []
    for path in sorted(root.glob("*/*.md")):
        language = path.parent.name
        text = path.read_text("utf-8")
        document = next(
            (line[2:].strip() for line in text.splitlines() if line.startswith("# ")),
            path.stem,
        )
        heads = list(_HEADING.finditer(text))
        for index, head in enumerate(heads):
            end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
            body = text[head.end() : end].strip()
            if body:
                title = head.group(1).strip()
                passages.append(
                    Passage(
                        f"{language}/{path.name}#{title}",
                        language,
                        title,
                        body,
                        document,
                    )
                )
    return passages


class KnowledgeIndex:
    """Okapi BM25 (k1=1.2, b=0.75) over stemmed passage terms, per language."""

    def __init__(
        self, passages: list[Passage], k1: float = 1.2, b: float = 0.75
    ) -> None:
        self.passages = passages
        self.k1, self.b = k1, b
        self._docs = [
            Counter(_terms(f"{p.title} {p.title} {p.text}")) for p in passages
        ]
        self._lengths = [sum(doc.values()) for doc in self._docs]
        self._avg = {
            lang: (
                sum(
                    n
                    for n, p in zip(self._lengths, passages, strict=False)
                    if p.language == lang
                )
                / max(1, sum(1 for p in passages if p.language == lang))
            )
            for lang in {p.language for p in passages}
        }
        self._df: dict[str, Counter[str]] = {}
        for doc, passage in zip(self._docs, passages, strict=False):
            self._df.setdefault(passage.language, Counter()).update(doc.keys())
        self._count = Counter(p.language for p in passages)
        self._vectors: dict[str, Any] | None = None  # built on the first Russian query

    @classmethod
    def from_dir(cls, root: Path) -> KnowledgeIndex:
        return cls(load_passages(root))

    @cached_property
    def version(self) -> str:
        """Changes whenever any passage changes; part of every answer's cache key."""
        digest = hashlib.sha256()
        for passage in self.passages:
            digest.update(f"{passage.source}\0{passage.text}\0".encode())
        return digest.hexdigest()[:16]

    def search(self, question: str, language: str, limit: int = 3) -> list[Hit]:
        query = set(_terms(question))
        if not query or language not in self._count:
            return []
        total = self._count[language]
        df = self._df[language]
        hits = []
        for doc, length, passage in zip(
            self._docs, self._lengths, self.passages, strict=False
        ):
            if passage.language != language:
                continue
            score = 0.0
            for term in query:
                tf = doc.get(term, 0)
                if not tf:
                    continue
                idf = math.log(1 + (total - df[term] + 0.5) / (df[term] + 0.5))
                norm = tf + self.k1 * (
                    1 - self.b + self.b * length / self._avg[language]
                )
                score += idf * tf * (self.k1 + 1) / norm
            hits.append(Hit(passage, score))
        if language == "ru":
            hits = self._with_similarity(question, hits)
        hits = [hit for hit in hits if hit.score > 0 or hit.similarity > 0]
        best = max((hit.score for hit in hits), default=0.0) or 1.0
        hits.sort(
            key=lambda hit: -(
                (1 - SEMANTIC_WEIGHT) * hit.score / best
                + SEMANTIC_WEIGHT * hit.similarity
            )
            if language == "ru"
            else -hit.score
        )
        return hits[:limit]

    def _with_similarity(self, question: str, hits: list[Hit]) -> list[Hit]:
        query = embed(question)
        if query is None:
            return hits
        if self._vectors is None:
            self._vectors = {
                p.source: embed(f"{p.title} {p.title} {p.text}")
                for p in self.passages
                if p.language == "ru"
            }
        result = []
        for hit in hits:
            vector = self._vectors.get(hit.passage.source)
            similarity = float(vector @ query) if vector is not None else 0.0
            result.append(Hit(hit.passage, hit.score, max(similarity, 0.0)))
        return result
