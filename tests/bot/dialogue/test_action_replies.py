"""ReplyValidator gives Rasa's verdict and Rasa's error on every reply."""

from __future__ import annotations

import copy
import random
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot.dialogue.action_replies import ReplyValidator

SPEC = RemoteAction.action_response_format_spec()

# One event of every kind Rasa's schema names, as the action server sends them.
EVENTS: list[dict[str, Any]] = [
    {
        "event": "user",
        "text": "где мой заказ",
        "timestamp": 1.5,
        "parse_data": {
            "text": "где мой заказ",
            "intent": {"name": "order_status", "confidence": 0.9},
            "intent_ranking": [{"name": "order_status", "confidence": 0.9}],
            "entities": [{"entity": "order_id", "value": "A-1", "start": 0}],
        },
    },
    {"event": "action", "name": "action_listen", "policy": None, "confidence": 1},
    {"event": "slot", "name": "order_id", "value": "A-10234", "timestamp": None},
    {"event": "entities", "entities": [{"entity": "size", "value": "42"}]},
    {"event": "user_featurization"},
    {"event": "cancel_reminder"},
    {"event": "reminder"},
    {"event": "action_execution_rejected", "name": "x"},
    {"event": "form_validation", "validate": False},
    {"event": "loop_interrupted"},
    {"event": "form"},
    {"event": "active_loop", "name": "order_form"},
    {"event": "reset_slots"},
    {"event": "resume"},
    {"event": "pause"},
    {"event": "followup", "name": "utter_greet"},
    {"event": "export"},
    {"event": "restart"},
    {"event": "undo"},
    {"event": "rewind"},
    {"event": "bot", "text": "Привет", "data": {}, "metadata": {"a": 1}},
    {"event": "session_started"},
    {"event": "agent", "text": "hi"},
]
# Ways an action server could get a reply wrong.
BAD_VALUES: list[Any] = [None, 5, "x", [], {}, 1.5, True, [1], {"a": 1}]


# What ``jsonschema.validate`` does after checking the schema itself, kept built:
# calling it 1,000 times re-checks the schema 1,000 times (about 20 ms each).
STOCK = jsonschema.validators.validator_for(SPEC)(SPEC)


def _stock(reply: Any) -> str | None:
    error = jsonschema.exceptions.best_match(STOCK.iter_errors(reply))
    return None if error is None else f"{error.message} @ {list(error.absolute_path)}"


def _rasa(reply: Any) -> str | None:
    try:
        jsonschema.validate(reply, SPEC)
    except jsonschema.ValidationError as error:
        return f"{error.message} @ {list(error.absolute_path)}"
    return None


def _ours(validator: ReplyValidator, reply: Any) -> str | None:
    error = validator.error(reply)
    return None if error is None else f"{error.message} @ {list(error.absolute_path)}"


def _mutations(rng: random.Random, event: dict[str, Any]) -> dict[str, Any]:
    mutated = copy.deepcopy(event)
    choice = rng.randrange(5)
    keys = list(mutated)
    if choice == 0:
        mutated[rng.choice(keys)] = rng.choice(BAD_VALUES)
    elif choice == 1:
        mutated.pop(rng.choice(keys))
    elif choice == 2:
        mutated["event"] = rng.choice(["slotx", "", "USER", 7, None, "bot "])
    elif choice == 3:
        for key in ("name", "value", "entities", "parse_data", "timestamp"):
            if rng.random() < 0.5:
                mutated[key] = rng.choice(BAD_VALUES)
    else:
        mutated["metadata"] = rng.choice(BAD_VALUES)
    return mutated


def test_every_kind_of_valid_event_passes_by_its_name_alone() -> None:
    validator = ReplyValidator(SPEC)
    for event in EVENTS:
        reply = {"events": [event], "responses": [{"text": "ok"}]}
        assert _rasa(reply) is None
        assert validator.valid_by_name(reply), event["event"]
        assert validator.error(reply) is None


def test_random_replies_get_rasas_verdict_and_message() -> None:
    validator = ReplyValidator(SPEC)
    rng = random.Random(17)
    invalid = 0
    for case in range(1000):
        events = [
            _mutations(rng, event) if rng.random() < 0.3 else copy.deepcopy(event)
            for event in rng.sample(EVENTS, rng.randint(0, 6))
        ]
        reply: Any = {"events": events, "responses": [{"text": "ok"}]}
        if rng.random() < 0.05:
            reply["responses"] = rng.choice(BAD_VALUES)
        if rng.random() < 0.03:
            reply["events"] = rng.choice(BAD_VALUES)
        if rng.random() < 0.02:
            reply = rng.choice(BAD_VALUES)
        expected = _stock(reply)
        if case < 60:
            assert _rasa(reply) == expected
        invalid += expected is not None
        assert _ours(validator, reply) == expected, reply
    assert 150 < invalid < 850  # both verdicts were exercised


def test_a_schema_of_another_shape_is_checked_whole() -> None:
    spec = copy.deepcopy(SPEC)
    branches = spec["properties"]["events"]["items"]["oneOf"]
    branches[1]["properties"]["event"] = {"enum": ["action", "slot"]}
    validator = ReplyValidator(spec)
    reply = {"events": [EVENTS[2]], "responses": []}
    assert not validator.valid_by_name(reply)
    with pytest.raises(jsonschema.ValidationError) as stock:
        jsonschema.validate(reply, spec)  # "slot" now matches two branches
    error = validator.error(reply)
    assert error is not None and error.message == stock.value.message
