"""Per-message overhead in Rasa 3.6 that changes nothing the shopper sees.

``install()`` swaps in equivalent, faster code paths:

- **Action-server reply validation.** ``RemoteAction._validate_action_result``
  calls ``jsonschema.validate`` on every custom-action reply, which first checks
  Rasa's large events schema against the JSON-Schema meta-schema and builds a new
  validator: about 140 ms of CPU per action call (``bench.profile_turn``), most of
  a turn's time. Here the schema is checked once per class and the validator is
  reused; each event is checked against the one branch of the events schema its
  name selects (``bot.dialogue.action_replies``), and an invalid reply raises the
  same ``ValidationError`` with the same message.
- **The prediction graph** runs in order in process instead of through dask, and
  a policy that cannot beat a certain rule is not asked
  (``bot.dialogue.graph_runner``).
- **Rule matching.** ``RulePolicy._get_possible_keys`` tests every learned rule
  (250 here) against the dialogue states, turn by turn, on every prediction
  (twice when a form is active). Its result depends only on the rule table and
  the states, so it is kept per (table, states), at most ``RULE_CACHE_SIZE``.
- **Garbage collection after loading.** ``bot.rasa_run`` starts a server with
  the cyclic collector off (1.6 s of start-up went to it); once a model is
  loaded, a full collection runs, what remains is frozen (``gc.freeze``: never
  walked again by later collections, which then look only at a turn's objects)
  and the collector is on again.
- **Load-time leftovers.** After the first message a worker answers, it drops
  what only loading needed: the source lines ``warnings`` cached for Rasa's
  load-time warnings (``linecache``, ~8 MB), unreachable objects, and free heap
  pages glibc keeps (``malloc_trim``).
- **The model's domain** is read without validating its YAML against Rasa's
  schema again (it was when the model was trained): ``validate_yaml_schema``
  parses the whole domain a second time with ruamel and runs pykwalify, 0.3 s of
  every start-up. The domain is parsed and built exactly as before.
- **Slot copies** without ``copy.copy``'s generic protocol, for the slot classes
  that have no hooks of their own (``bot.dialogue.slot_copies``).
- **Debug-only copies.** Rasa's processor and RulePolicy deep-copy the turn's
  events, entities and states for ``structlog`` debug lines on every message,
  even when debug logging is off and the line is dropped. They copy only when
  debug logging is on.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import gc
import linecache
import logging
import types
from collections import OrderedDict
from typing import Any

import rasa.core.policies.rule_policy
import rasa.core.processor
import rasa.shared.utils.validation
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.processor import MessageProcessor
from rasa.graph_components.providers.domain_provider import DomainProvider
from rasa.shared.constants import DOCS_BASE_URL

from bot.dialogue import graph_runner, slot_copies
from bot.dialogue.action_replies import ReplyValidator

logger = logging.getLogger(__name__)

_VALIDATORS: dict[type, ReplyValidator] = {}


def _validator(action: RemoteAction) -> ReplyValidator:
    cls = type(action)
    validator = _VALIDATORS.get(cls)
    if validator is None:
        schema = action.action_response_format_spec()
        validator = _VALIDATORS[cls] = ReplyValidator(schema)
    return validator


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = _validator(self).error(result)
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


RULE_CACHE_SIZE = 4096
# (id of the rule table, states) -> (the table itself, matching rule keys); the
# table is held and compared, so a table loaded later never takes another's id.
_RULE_KEYS: OrderedDict[tuple[int, Any], tuple[Any, set[str]]] = OrderedDict()
_RASA_POSSIBLE_KEYS = RulePolicy._get_possible_keys


def _frozen(states: list[dict[str, Any]]) -> Any:
    """Dialogue states as a hashable value (sub-states hold str and tuples)."""
    return tuple(
        tuple(sorted((name, tuple(sorted(sub.items()))) for name, sub in s.items()))
        for s in states
    )


def _get_possible_keys(
    self: RulePolicy, lookup: dict[str, str], states: list[dict[str, Any]]
) -> set[str]:
    try:
        key = (id(lookup), _frozen(states))
    except TypeError:  # an unhashable feature value: compute as Rasa does
        return _RASA_POSSIBLE_KEYS(self, lookup, states)
    entry = _RULE_KEYS.get(key)
    if entry is None or entry[0] is not lookup:
        entry = _RULE_KEYS[key] = (lookup, _RASA_POSSIBLE_KEYS(self, lookup, states))
        if len(_RULE_KEYS) > RULE_CACHE_SIZE:
            _RULE_KEYS.popitem(last=False)
    else:
        _RULE_KEYS.move_to_end(key)
    return set(entry[1])


def _debug_copy(value: Any) -> Any:
    """``copy.deepcopy`` for a structlog debug argument: only when debug lines
    are kept (Rasa's ``configure_structlog`` filters by the root log level)."""
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        return copy.deepcopy(value)
    return value


_QUIET_COPY = types.SimpleNamespace(deepcopy=_debug_copy, copy=copy.copy)


def release_load_memory() -> None:
    """Returns to the system what only loading the model needed."""
    linecache.clearcache()
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: no trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    logger.debug("speedups.load_memory_released")


def settle_after_load() -> None:
    """One full collection now that the model is loaded, what survives frozen,
    and the collector on. A model loaded again (Rasa's ``PUT /model``) first
    unfreezes the last one's objects so that they can be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    gc.enable()
    logger.debug("speedups.collector_settled", extra={"frozen": gc.get_freeze_count()})


_RASA_PROCESSOR_INIT = MessageProcessor.__init__


def _processor_init(self: MessageProcessor, *args: Any, **kwargs: Any) -> None:
    _RASA_PROCESSOR_INIT(self, *args, **kwargs)
    settle_after_load()


_RASA_HANDLE_MESSAGE = MessageProcessor.handle_message
_released = False


async def _handle_message(self: MessageProcessor, message: Any) -> Any:
    global _released
    result = await _RASA_HANDLE_MESSAGE(self, message)
    if not _released:
        _released = True
        release_load_memory()
    return result


_RASA_DOMAIN_LOAD = DomainProvider.load.__func__  # type: ignore[attr-defined]


def _skip_schema_check(*args: Any, **kwargs: Any) -> None:
    return None


def _load_domain(cls: type, *args: Any, **kwargs: Any) -> Any:
    """``DomainProvider.load`` of a trained model, without the schema check."""
    check = rasa.shared.utils.validation.validate_yaml_schema
    rasa.shared.utils.validation.validate_yaml_schema = _skip_schema_check
    try:
        return _RASA_DOMAIN_LOAD(cls, *args, **kwargs)
    finally:
        rasa.shared.utils.validation.validate_yaml_schema = check


def install() -> None:
    """Installs every speed-up in this process; safe to call more than once."""
    DomainProvider.load = classmethod(_load_domain)  # type: ignore[method-assign,assignment]
    MessageProcessor.handle_message = _handle_message  # type: ignore[method-assign]
    MessageProcessor.__init__ = _processor_init  # type: ignore[method-assign]
    graph_runner.install()
    slot_copies.install()
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]
    # Both modules use `copy` only for those debug arguments.
    rasa.core.processor.copy = _QUIET_COPY  # type: ignore[attr-defined]
    rasa.core.policies.rule_policy.copy = _QUIET_COPY  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
