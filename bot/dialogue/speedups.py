"""Per-message overhead in Rasa 3.6 that changes nothing the shopper sees.

``install()`` swaps in equivalent, faster code paths:

- **Action-server reply validation.** ``RemoteAction._validate_action_result``
  calls ``jsonschema.validate`` on every custom-action reply, which first checks
  Rasa's large events schema against the JSON-Schema meta-schema and builds a new
  validator: about 140 ms of CPU per action call (``bench.profile_turn``), most of
  a turn's time. Here the schema is checked once per class and the validator is
  reused; each reply is still validated against the same schema and an invalid
  one raises the same ``ValidationError`` with the same message.
- **The prediction graph** runs in order in process instead of through dask, and
  a policy that cannot beat a certain rule is not asked
  (``bot.dialogue.graph_runner``).
"""

from __future__ import annotations

from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

from bot.dialogue import graph_runner

_VALIDATORS: dict[type, Any] = {}


def _validator(action: RemoteAction) -> Any:
    cls = type(action)
    validator = _VALIDATORS.get(cls)
    if validator is None:
        from jsonschema.validators import validator_for

        schema = action.action_response_format_spec()
        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        validator = _VALIDATORS[cls] = validator_class(schema)
    return validator


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    from jsonschema.exceptions import best_match

    error = best_match(_validator(self).iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Installs every speed-up in this process; safe to call more than once."""
    graph_runner.install()
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
