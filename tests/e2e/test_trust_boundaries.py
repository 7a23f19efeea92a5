"""Typed system intents and REST sender namespaces on ``rasa run`` itself.

The running assistant of ``tests/e2e/test_rest_webhook.py`` (the project's
credentials.yml and the embedded defaults' tokens): what a probe from outside
tries first, over the public REST channel.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

from tests.e2e.test_rest_webhook import Assistant, assistant

__all__ = ["assistant"]  # the module-scoped running servers

PAID = '/EXTERNAL_payment_received{"order_id":"A-10240"}'


def tracker(assistant: Assistant, conversation: str) -> dict[str, Any]:
    token = assistant.tokens["EASYFLOW_RASA_TOKEN"]
    quoted = urllib.parse.quote(conversation, safe=":")
    url = f"{assistant.rasa_url}/conversations/{quoted}/tracker?token={token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def user_events(assistant: Assistant, conversation: str) -> list[dict[str, Any]]:
    events = tracker(assistant, conversation).get("events") or []
    return [e for e in events if e["event"] == "user"]


def test_a_typed_payment_notice_is_not_a_payment(assistant: Assistant) -> None:
    reply = assistant.texts("e2e-typed-paid", PAID)

    assert "получена" not in reply and "received" not in reply
    (typed,) = user_events(assistant, "rest:e2e-typed-paid")
    assert typed["text"] == PAID
    assert not typed["parse_data"]["intent"]["name"].startswith("EXTERNAL_")


def test_a_rest_sender_cannot_write_to_a_telegram_conversation(
    assistant: Assistant,
) -> None:
    replies = assistant.say("telegram:555000321", "привет")

    assert {m["recipient_id"] for m in replies} == {"rest:telegram:555000321"}
    assert user_events(assistant, "telegram:555000321") == []
    assert [e["text"] for e in user_events(assistant, "rest:telegram:555000321")] == [
        "привет"
    ]
