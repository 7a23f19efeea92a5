"""bot.dialogue.speedups validates action-server replies as Rasa does, only faster."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.dialogue import speedups

VALID = {
    "events": [{"event": "slot", "name": "order_id", "value": "A-10234"}],
    "responses": [{"response": "utter_greet"}],
}
INVALID = {"events": [{"event": "slot", "name": 5}], "responses": "not a list"}


def _stock_error(action: RemoteAction, result: dict) -> str:
    with pytest.raises(ValidationError) as stock:
        RemoteAction._validate_action_result(action, result)
    return stock.value.message


def test_same_verdicts_and_messages_as_stock() -> None:
    action = RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1/webhook"))
    assert RemoteAction._validate_action_result(action, VALID)
    stock_message = _stock_error(action, INVALID)
    original = RemoteAction._validate_action_result
    try:
        speedups.install()
        assert action._validate_action_result(VALID)
        with pytest.raises(ValidationError) as fast:
            action._validate_action_result(INVALID)
        assert fast.value.message == stock_message
    finally:
        RemoteAction._validate_action_result = original  # type: ignore[method-assign]
