"""Validating the action server's replies against Rasa's schema, per event type.

Rasa checks every custom action's reply against ``action_response_format_spec``:
each event must match exactly one of the 23 branches of the events schema's
``oneOf``, so jsonschema tries every branch for every event (4% of a Rasa
worker's CPU under the serving bench, py-spy). Every branch fixes the event's
name (``"event": {"const": "slot"}``) and the event name is required, so for an
event whose name is a known string at most one branch can match: the one with
that name. ``ReplyValidator`` checks such an event against that branch alone.

Anything else (an unknown or missing name, a reply the dispatched check rejects)
goes to the full schema, so an invalid reply raises exactly the error Rasa's
check raises. If a later Rasa's schema stops having that shape, every reply goes
to the full schema.
"""

from __future__ import annotations

from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from jsonschema.validators import validator_for


class ReplyValidator:
    def __init__(self, schema: dict[str, Any]) -> None:
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        self.full = validator_class(schema)
        self._reply: Any = None
        self._events: dict[str, Any] = {}
        events = schema.get("properties", {}).get("events", {})
        event = events.get("items", {})
        branches = _branches_by_name(event)
        if events.get("type") != "array" or branches is None:
            return
        base = {key: value for key, value in event.items() if key != "oneOf"}
        self._events = {
            name: validator_class({**base, "allOf": [branch]})
            for name, branch in branches.items()
        }
        reply_properties = {
            key: value for key, value in schema["properties"].items() if key != "events"
        }
        self._reply = validator_class(
            {**schema, "properties": {**reply_properties, "events": {"type": "array"}}}
        )

    def valid_by_name(self, reply: Any) -> bool:
        """True when every part of ``reply`` passes the per-name checks (which
        implies the full schema passes); False means "ask the full schema"."""
        if self._reply is None or not self._reply.is_valid(reply):
            return False
        for event in reply.get("events", []) if isinstance(reply, dict) else []:
            name = event.get("event") if isinstance(event, dict) else None
            validator = self._events.get(name) if isinstance(name, str) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True

    def error(self, reply: Any) -> ValidationError | None:
        """The error Rasa's ``jsonschema.validate`` raises for ``reply``, if any."""
        if self.valid_by_name(reply):
            return None
        return best_match(self.full.iter_errors(reply))


def _branches_by_name(event: dict[str, Any]) -> dict[str, Any] | None:
    """``oneOf`` branches by the event name each fixes, when every branch fixes
    a distinct one and the name is a required string; otherwise ``None``."""
    required = event.get("required", [])
    name_type = event.get("properties", {}).get("event", {}).get("type")
    branches = event.get("oneOf")
    if "event" not in required or name_type != "string" or not branches:
        return None
    by_name: dict[str, Any] = {}
    for branch in branches:
        const = branch.get("properties", {}).get("event", {}).get("const")
        if not isinstance(const, str) or const in by_name:
            return None
        by_name[const] = branch
    return by_name
