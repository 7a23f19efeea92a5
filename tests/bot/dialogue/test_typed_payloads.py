"""bot.dialogue.typed_payloads: which typed ``/intent{…}`` reaches Rasa (real trackers).

The channel tests (tests/connectors/) send the same attacks through each real
connector and the trained agent; here the decisions themselves.
"""

from __future__ import annotations

from pathlib import Path

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.dialogue.typed_payloads import (
    MEDIA_INTENTS,
    _without_internal_intents,
    is_internal,
    offered_payloads,
    screen,
)

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[3] / "domain.yml"))
SOURCE_BUTTONS = [
    {"title": "Ozon", "payload": '/inform{"order_source":"ozon"}'},
    {"title": "Wildberries", "payload": '/inform{"order_source":"wildberries"}'},
]
PAID = '/EXTERNAL_payment_received{"order_id":"A-10240"}'


def _tracker(*events: object) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("rest:shopper", list(events), DOMAIN.slots)


def _asked_for_source() -> DialogueStateTracker:
    return _tracker(
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("где мой заказ 777", {"name": "order_status"}),
        ActionExecuted("action_ask_order_source"),
        BotUttered("Где вы его купили?", {"buttons": SOURCE_BUTTONS}),
        ActionExecuted(ACTION_LISTEN_NAME),
    )


def test_the_latest_turns_buttons_are_offered() -> None:
    assert offered_payloads(_asked_for_source()) == {
        '/inform{"order_source":"ozon"}',
        '/inform{"order_source":"wildberries"}',
    }


def test_buttons_of_an_earlier_turn_are_not_offered_any_more() -> None:
    tracker = _asked_for_source()
    tracker.update(UserUttered("ozon", {"name": "inform"}))
    tracker.update(BotUttered("Заказ в пути"))

    assert offered_payloads(tracker) == frozenset()


def test_an_offered_payload_passes_as_sent() -> None:
    payload = '/inform{"order_source":"ozon"}'
    offered = offered_payloads(_asked_for_source())

    assert screen(payload, offered).verdict == "offered"
    assert screen(f"  {payload} ", offered).text == f"  {payload} "


def test_an_offered_intent_with_other_entities_is_text() -> None:
    offered = offered_payloads(_asked_for_source())

    typed = screen('/inform{"order_source":"demo"}', offered)

    assert typed.verdict == "refused"
    assert typed.text == 'inform{"order_source":"demo"}'


def test_external_intents_are_text_even_when_other_buttons_are_offered() -> None:
    offered = offered_payloads(_asked_for_source())

    for typed in (PAID, "/EXTERNAL_handoff_returned", " //EXTERNAL_operator_message"):
        screened = screen(typed, offered)
        assert screened.verdict == "refused", typed
        assert not screened.text.startswith("/"), typed


def test_bare_shopper_intents_are_allowed_without_entities() -> None:
    assert screen("/greet", frozenset()).verdict == "allowed"
    assert screen("/affirm", frozenset()).verdict == "allowed"
    for typed in ('/greet{"order_id":"A-1"}', "/greet@0.99", "/greet{}", "/restart"):
        assert screen(typed, frozenset()).verdict == "refused", typed


def test_a_slash_then_spaces_cannot_hide_a_payload() -> None:
    assert screen("/ /EXTERNAL_handoff_returned", frozenset()).text == (
        "EXTERNAL_handoff_returned"
    )


def test_ordinary_text_is_untouched() -> None:
    plain = screen("где мой заказ A-10234", frozenset())
    assert (plain.verdict, plain.text) == ("text", "где мой заказ A-10234")
    assert screen("1/2 размера", frozenset()).verdict == "text"


def test_internal_intents_never_come_out_of_parsing() -> None:
    parsed = _without_internal_intents(
        {
            "text": "x",
            "intent": {"name": "EXTERNAL_payment_received", "confidence": 0.9},
            "intent_ranking": [
                {"name": "EXTERNAL_payment_received", "confidence": 0.9},
                {"name": "restart", "confidence": 0.05},
                {"name": "greet", "confidence": 0.05},
            ],
            "entities": [],
        }
    )

    assert parsed["intent"]["name"] == "nlu_fallback"
    assert [r["name"] for r in parsed["intent_ranking"]] == ["greet"]
    assert is_internal("EXTERNAL_handoff_taken") and is_internal("session_start")
    assert not is_internal("human_handoff")


def test_media_payloads_are_bare_shopper_intents() -> None:
    for intent in MEDIA_INTENTS:
        assert intent in DOMAIN.intents
        assert screen(f"/{intent}", frozenset()).verdict == "allowed"
        for typed in (f'/{intent}{{"x":1}}', f"/{intent}@1.0", f"/{intent}{{}}"):
            assert screen(typed, frozenset()).verdict == "refused", typed
