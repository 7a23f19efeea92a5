from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.nlg import LanguageAwareNLG

DOMAIN = Domain.load(Path(__file__).resolve().parents[3] / "domain.yml")


def _tracker(*texts: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events(
        "shopper", [ActionExecuted("action_listen")]
    )
    for text in texts:
        tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
    return tracker


@pytest.fixture
def nlg() -> LanguageAwareNLG:
    return LanguageAwareNLG(domain=DOMAIN)


async def test_replies_in_english_to_english(nlg: LanguageAwareNLG) -> None:
    reply = await nlg.generate("utter_greet", _tracker("hello there"), "rest")
    assert reply is not None and reply["text"].startswith("Hello!")


async def test_replies_in_russian_to_russian(nlg: LanguageAwareNLG) -> None:
    reply = await nlg.generate("utter_greet", _tracker("привет"), "rest")
    assert reply is not None and reply["text"].startswith("Здравствуйте!")


async def test_bare_order_number_keeps_language(nlg: LanguageAwareNLG) -> None:
    tracker = _tracker("where is my order", "A-10234")
    reply = await nlg.generate(
        "utter_order_not_found", tracker, "rest", order_id="A-10234"
    )
    assert reply is not None
    assert reply["text"].startswith("I can't find order A-10234")


async def test_buttons_follow_the_language(nlg: LanguageAwareNLG) -> None:
    reply = await nlg.generate("utter_offer_human", _tracker("i am angry"), "rest")
    assert reply is not None
    assert [b["title"] for b in reply["buttons"]] == ["Yes", "No"]


def test_every_response_has_russian_default_and_english_variation() -> None:
    for name, variations in DOMAIN.responses.items():
        conditions = [v.get("condition") for v in variations]
        assert None in conditions, f"{name} has no Russian default"
        english = [
            c
            for c in conditions
            if c and c[0]["name"] == "language" and c[0]["value"] == "en"
        ]
        assert english, f"{name} has no English variation"
