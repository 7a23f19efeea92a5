"""The fallback answers from the knowledge base in the shopper's language."""

from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionLlmFallback
from tests.conftest import make_tracker, responses, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
pytestmark = pytest.mark.usefixtures("services")


async def _ask(text: str) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    await ActionLlmFallback().run(
        dispatcher, make_tracker([user(text, "out_of_scope")]), DOMAIN
    )
    return dispatcher


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("а вы можете упаковать подарок?", ["упаков"]),
        ("какая гарантия на наушники", ["гарант"]),
        ("do you gift wrap orders", ["wrap"]),
        ("how do I wash a down jacket", ["wash"]),
    ],
)
async def test_answers_from_the_knowledge_base(question: str, words: list[str]) -> None:
    dispatcher = await _ask(question)
    assert responses(dispatcher) == ["utter_knowledge_answer"]
    answer = (
        dispatcher.messages[0]["title"] + dispatcher.messages[0]["answer"]
    ).lower()
    assert all(word in answer for word in words)


async def test_russian_question_gets_a_russian_passage() -> None:
    dispatcher = await _ask("есть ли у вас бонусная программа")
    assert any("а" <= ch <= "я" for ch in dispatcher.messages[0]["answer"].lower())


async def test_no_good_passage_offers_a_human() -> None:
    dispatcher = await _ask("какая завтра погода в антарктиде")
    assert responses(dispatcher) == ["utter_default"]
