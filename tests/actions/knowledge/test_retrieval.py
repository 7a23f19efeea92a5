"""Retrieval over the shipped knowledge: BM25 + vectors + slang, both languages."""

from pathlib import Path

import pytest

from actions.knowledge.retrieval import KnowledgeIndex

KNOWLEDGE = Path(__file__).resolve().parents[3] / "data" / "knowledge"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeIndex:
    built = KnowledgeIndex.from_dir(
        KNOWLEDGE, cache_dir=tmp_path_factory.mktemp("cache")
    )
    built.warm_up()
    return built


def top(index: KnowledgeIndex, question: str, language: str) -> list[str]:
    return [hit.passage.title for hit in index.search(question, language)]


def test_english_paraphrase_with_no_shared_word_is_found(index: KnowledgeIndex) -> None:
    assert top(index, "can you wrap it as a present", "en")[0] == (
        "Do you offer gift wrapping?"
    )


def test_russian_slang_is_understood(index: KnowledgeIndex) -> None:
    assert "Wildberries" in top(index, "вы на вб тоже торгуете?", "ru")[0]


def test_passage_vectors_are_cached_between_processes(
    index: KnowledgeIndex, tmp_path: Path
) -> None:
    assert index.cache_dir is not None
    cached = list(index.cache_dir.glob("knowledge-vectors-en-*.npy"))
    assert len(cached) == 1
    again = KnowledgeIndex.from_dir(KNOWLEDGE, cache_dir=index.cache_dir)
    again.warm_up()
    assert top(again, "can you wrap it as a present", "en") == top(
        index, "can you wrap it as a present", "en"
    )


def test_the_version_changes_with_the_lexicon(index: KnowledgeIndex) -> None:
    from actions.knowledge.lexicon import Lexicon

    plain = KnowledgeIndex(index.passages, lexicon=Lexicon())
    assert plain.version != index.version


def test_unknown_language_finds_nothing(index: KnowledgeIndex) -> None:
    assert index.search("gift wrapping", "de") == []
