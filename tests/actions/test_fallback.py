"""The fallback action answers from the knowledge base and cites the passage."""

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
    ("question", "source"),
    [
        ("у вас есть подарочная упаковка?", "ru/gift_wrapping.md#"),
        ("а вы можете упаковать подарок?", "ru/gift_wrapping.md#"),
        ("какая гарантия на наушники", "ru/warranty.md#"),
        ("do you gift wrap orders", "en/gift_wrapping.md#"),
        ("how do I wash a down jacket", "en/care.md#"),
    ],
)
async def test_answers_from_the_knowledge_base_citing_it(
    question: str, source: str
) -> None:
    dispatcher = await _ask(question)
    assert responses(dispatcher) == ["utter_knowledge_answer"]
    message = dispatcher.messages[0]
    assert message["fallback_answerer"] == "extractive"
    assert message["fallback_sources"][0].startswith(source)
    assert " — " in message["source"] and message["answer"]


async def test_russian_question_gets_a_russian_passage() -> None:
    dispatcher = await _ask("есть ли у вас бонусная программа")
    assert dispatcher.messages[0]["fallback_sources"][0].startswith("ru/loyalty.md#")


async def test_no_good_passage_offers_a_human() -> None:
    dispatcher = await _ask("какая завтра погода в антарктиде")
    assert responses(dispatcher) == ["utter_default"]
    assert dispatcher.messages[0]["fallback_sources"] == []


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("какая сегодня погода в москве", "ru"),
        ("how do I cancel my Netflix subscription", "en"),
    ],
)
async def test_off_topic_question_gets_what_i_can_do_and_an_operator(
    question: str, language: str
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([user(question, "out_of_scope")], {"language": language})
    await ActionLlmFallback().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_default"]
    assert dispatcher.messages[0]["fallback_sources"] == []
    assert dispatcher.messages[0]["fallback_answerer"] == "retrieval"


@pytest.mark.parametrize(
    ("variant", "words"),
    [
        (0, ["заказ", "отмен", "адрес", "возврат", "обмен", "оплат", "доставк"]),
        (1, ["order", "cancel", "address", "return", "exchange", "payment", "stock"]),
    ],
)
def test_the_reply_says_what_the_assistant_can_do_and_offers_an_operator(
    variant: int, words: list[str]
) -> None:
    """The fallback's reply lists the assistant's jobs and has yes/no buttons, whose
    "yes" starts a handoff (actions/pending.py)."""
    response = DOMAIN["responses"]["utter_default"][variant]
    text = response["text"].lower()
    assert all(word in text for word in words), text
    assert "оператор" in text or "operator" in text
    assert [b["payload"] for b in response["buttons"]] == ["/affirm", "/deny"]
