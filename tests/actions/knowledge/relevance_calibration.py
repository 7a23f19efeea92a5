"""Measures the fallback's relevance check (actions/knowledge/relevance.py) on shop
questions and off-topic questions, per language; the figures in that module's
docstring come from here.

    .venv/bin/python -m tests.actions.knowledge.relevance_calibration

Tuning sets were used to pick the weights and thresholds; held-out sets only to
measure them once. Shop questions are the knowledge benchmark's (``bench/data``) and
the shop questions of ``data/nlu/out_of_scope.yml``; off-topic questions are ours
(``data/off_topic_questions.yml``), the small talk of ``out_of_scope.yml`` and
``data/nlu/off_topic.yml`` (off-topic questions in shop words).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from actions.knowledge.relevance import relevance, relevant
from actions.knowledge.retrieval import KnowledgeIndex

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
# data/nlu/out_of_scope.yml mixes questions about the shop with small talk; these
# are the small talk (everything else in it is a question to the shop).
SMALL_TALK_START = {"ru": "какая погода завтра", "en": "what's the weather like today"}


@dataclass(frozen=True)
class Question:
    language: str
    text: str
    shop: bool  # a question the shop's knowledge is meant to answer


def _language(text: str) -> str:
    return "ru" if re.search("[а-яё]", text.lower()) else "en"


def _nlu_examples(path: Path) -> list[str]:
    examples = []
    for block in yaml.safe_load(path.read_text("utf-8"))["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append(re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line[2:]))
    return examples


def _bench(name: str) -> list[Question]:
    data = yaml.safe_load((ROOT / "bench" / "data" / name).read_text("utf-8"))
    return [Question(q["language"], q["question"], True) for q in data["questions"]]


def _out_of_scope() -> list[Question]:
    questions, small_talk = [], {"ru": False, "en": False}
    for text in _nlu_examples(ROOT / "data" / "nlu" / "out_of_scope.yml"):
        language = _language(text)
        small_talk[language] |= text == SMALL_TALK_START[language]
        # the last English line is a shop question again (warranty on earbuds)
        shop = not small_talk[language] or "warranty" in text
        questions.append(Question(language, text, shop))
    return questions


@lru_cache(maxsize=1)
def question_sets() -> dict[str, list[Question]]:
    ours = yaml.safe_load((HERE / "data" / "off_topic_questions.yml").read_text())
    off_topic = _nlu_examples(ROOT / "data" / "nlu" / "off_topic.yml")
    return {
        "tune": [
            *_bench("knowledge_questions.yml"),
            *_out_of_scope(),
            *(Question(lang, text, False) for lang in ours for text in ours[lang]),
        ],
        "held_out": [
            *_bench("knowledge_questions_holdout.yml"),
            *(Question(_language(text), text, False) for text in off_topic),
        ],
    }


@lru_cache(maxsize=1)
def index() -> KnowledgeIndex:
    built = KnowledgeIndex.from_dir(
        ROOT / "data" / "knowledge",
        cache_dir=Path(tempfile.gettempdir()) / "easyflow-test-vectors",
    )
    built.warm_up()
    return built


def accepted(question: Question) -> bool:
    """Whether the fallback would answer it from a passage."""
    hits = index().search(question.text, question.language, limit=3)
    unknown = len(index().unknown_terms(question.text, question.language))
    return bool(hits) and relevant(hits, unknown, question.language)


@dataclass(frozen=True)
class Figures:
    shop: int
    off_topic: int
    recall: float  # shop questions answered from a passage
    rejected: float  # off-topic questions not answered from a passage
    precision: float  # answered questions that were shop questions


def measure(questions: list[Question], language: str) -> Figures:
    chosen = [q for q in questions if q.language == language]
    shop = [q for q in chosen if q.shop]
    off_topic = [q for q in chosen if not q.shop]
    true_pos = sum(accepted(q) for q in shop)
    false_pos = sum(accepted(q) for q in off_topic)
    return Figures(
        len(shop),
        len(off_topic),
        true_pos / len(shop),
        1 - false_pos / len(off_topic),
        true_pos / max(1, true_pos + false_pos),
    )


def main() -> None:
    for name, questions in question_sets().items():
        for language in ("ru", "en"):
            print(f"{name:9} {language}: {measure(questions, language)}")
    for question in question_sets()["held_out"]:
        hits = index().search(question.text, question.language, limit=3)
        unknown = index().unknown_terms(question.text, question.language)
        if accepted(question) != question.shop:
            kind = "shop question refused" if question.shop else "off-topic answered"
            score = relevance(hits, len(unknown))
            print(f"{kind}: {score:.2f} {question.text} {unknown}")


if __name__ == "__main__":
    main()
