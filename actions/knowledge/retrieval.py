"""BM25 retrieval over the knowledge base, with Russian and English stemming.

Each ``## heading`` section of a markdown file is one passage; the heading is
repeated in the index (it is usually the question the passage answers). The index is
built from the files at start-up and rebuilt, in the background, when the
dashboard's knowledge base changes (``published.py``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from actions.integrations.catalog import stems
from actions.knowledge.lexicon import Lexicon
from actions.knowledge.semantic import embed
from common.minilm import MODEL_ID as MINILM_ID
from common.minilm import embed_english

logger = logging.getLogger(__name__)

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
# Share of vector similarity in the ranking (the rest is BM25), per language:
# navec word vectors for Russian, MiniLM sentence vectors for English. Chosen with
# bench/fallback_retrieval.py on its main question set and checked on the held-out
# one (bench/README.md).
SEMANTIC_WEIGHT = {"ru": 0.7, "en": 0.7}
# Shop slang per language, beside the knowledge files (actions/knowledge/lexicon.py).
LEXICON_FILE = "synonyms.yml"


def _terms(text: str) -> list[str]:
    terms = []
    for term in stems(text):
        if term in _STOP or len(term) < 2:
            continue
        terms.append(term[:_RU_PREFIX] if _CYRILLIC.match(term) else term)
    return terms


def load_passages(root: Path) -> list[Passage]:
    return [
        passage
        for path in sorted(root.glob("*/*.md"))
        for passage in parse_passages(
            path.parent.name, path.name, path.read_text("utf-8")
        )
    ]


def parse_passages(language: str, filename: str, text: str) -> list[Passage]:
    """The ``## heading`` sections of one markdown document, as passages."""
    passages = []
    document = next(
        (line[2:].strip() for line in text.splitlines() if line.startswith("# ")),
        Path(filename).stem,
    )
    heads = list(_HEADING.finditer(text))
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
        body = text[head.end() : end].strip()
        if body:
            title = head.group(1).strip()
            passages.append(
                Passage(
                    f"{language}/{filename}#{title}", language, title, body, document
                )
            )
    return passages


class KnowledgeIndex:
    """Okapi BM25 (k1=1.2, b=0.75) over stemmed passage terms, per language."""

    def __init__(
        self,
        passages: list[Passage],
        k1: float = 1.2,
        b: float = 0.75,
        lexicon: Lexicon | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.passages = passages
        self.lexicon = lexicon or Lexicon()
        # Where passage vectors are kept between runs (they take seconds to build).
        self.cache_dir = cache_dir
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
        # Passage vectors per language, built on the first question in it.
        self._vectors: dict[str, dict[str, Any]] | None = None

    @classmethod
    def from_documents(
        cls,
        documents: list[tuple[str, str, str]],
        lexicon: Lexicon,
        cache_dir: Path | None = None,
    ) -> KnowledgeIndex:
        """From (language, file name, markdown) triples: the api's published
        documents (actions/knowledge/published.py)."""
        passages = [
            passage
            for language, filename, text in documents
            for passage in parse_passages(language, filename, text)
        ]
        return cls(passages, lexicon=lexicon, cache_dir=cache_dir)

    @classmethod
    def from_dir(cls, root: Path, cache_dir: Path | None = None) -> KnowledgeIndex:
        return cls(
            load_passages(root),
            lexicon=Lexicon.load(root / LEXICON_FILE),
            cache_dir=cache_dir,
        )

    @cached_property
    def version(self) -> str:
        """Changes whenever any passage changes; part of every answer's cache key."""
        digest = hashlib.sha256()
        for passage in self.passages:
            digest.update(f"{passage.source}\0{passage.text}\0".encode())
        digest.update(repr(sorted(self.lexicon.aliases.items())).encode())
        return digest.hexdigest()[:16]

    def unknown_terms(self, question: str, language: str) -> list[str]:
        """The question's stems that no passage in ``language`` contains: mostly
        names of other services ("netflix", "авит"), the mark of an off-topic
        question that happens to use shop words (actions/knowledge/relevance.py)."""
        df = self._df.get(language, Counter())
        return sorted({term for term in _terms(question) if not df[term]})

    def search(self, question: str, language: str, limit: int = 3) -> list[Hit]:
        question = self.lexicon.expand(question, language)
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
        hits = self._with_similarity(question, language, hits)
        hits = [hit for hit in hits if hit.score > 0 or hit.similarity > 0]
        best = max((hit.score for hit in hits), default=0.0) or 1.0
        weight = SEMANTIC_WEIGHT.get(language, 0.0)
        hits.sort(
            key=lambda hit: -((1 - weight) * hit.score / best + weight * hit.similarity)
        )
        return hits[:limit]

    def _with_similarity(
        self, question: str, language: str, hits: list[Hit]
    ) -> list[Hit]:
        query = _embed([question], language)
        if query is None:
            return hits
        vectors = self._passage_vectors(language)
        result = []
        for hit in hits:
            vector = vectors.get(hit.passage.source)
            similarity = float(vector @ query[0]) if vector is not None else 0.0
            result.append(Hit(hit.passage, hit.score, max(similarity, 0.0)))
        return result

    def _passage_vectors(self, language: str) -> dict[str, Any]:
        if self._vectors is None:
            self._vectors = {}
        if language not in self._vectors:
            passages = [p for p in self.passages if p.language == language]
            texts = [f"{p.title} {p.title} {p.text}" for p in passages]
            vectors = self._cached(language, texts)
            self._vectors[language] = (
                {p.source: v for p, v in zip(passages, vectors, strict=True)}
                if vectors is not None
                else {}
            )
        return self._vectors[language]

    def _cached(self, language: str, texts: list[str]) -> list[Any] | None:
        if self.cache_dir is None or language != "en":
            return _embed(texts, language)
        digest = hashlib.sha256("\0".join([MINILM_ID, *texts]).encode()).hexdigest()
        path = self.cache_dir / f"knowledge-vectors-{language}-{digest[:16]}.npy"
        try:
            return list(np.load(path))
        except (OSError, ValueError):
            pass
        vectors = _embed(texts, language)
        if vectors is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, np.asarray(vectors))
                tmp.replace(path)
            except OSError as error:
                logger.warning(
                    "knowledge.vectors.cache_failed", extra={"error": str(error)}
                )
        return vectors

    def warm_up(self) -> None:
        """Embeds every passage and loads the encoders now (also on a cache hit),
        so the first question is not the slow one."""
        for language in self._count:
            self._passage_vectors(language)
            _embed(["warm-up"], language)


def _embed(texts: list[str], language: str) -> list[Any] | None:
    if language == "ru":
        vectors = [embed(text) for text in texts]
        return None if all(v is None for v in vectors) else vectors
    if language == "en":
        vectors = embed_english(texts) if texts else None
        return list(vectors) if vectors is not None else None
    return None
