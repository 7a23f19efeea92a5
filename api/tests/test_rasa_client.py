"""The api's Rasa client against a loopback emulator that records raw paths."""

from __future__ import annotations

import asyncio

import pytest

from easyflow_api.services.rasa_client import RasaClient
from tests.conftest import RasaEmulator


@pytest.mark.parametrize(
    ("sender_id", "path"),
    [
        ("telegram:123", "/conversations/telegram:123/trigger_intent"),
        ("viber:Ab+c/d=", "/conversations/viber:Ab+c/d=/trigger_intent"),
    ],
)
def test_a_conversation_id_is_sent_as_rasa_matches_it(
    rasa: RasaEmulator, sender_id: str, path: str
) -> None:
    # Rasa's server does not percent-decode path parameters: telegram%3A123 would
    # be another, empty conversation and the shopper would never see the reply.
    client = RasaClient(rasa.url, "rasa-token-1", timeout_s=5)

    asyncio.run(client.trigger_intent(sender_id, "EXTERNAL_handoff_taken", {}))

    assert [r.path for r in rasa.requests] == [path]
