"""bot.dialogue.speedups validates action-server replies as Rasa does, only faster."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.dialogue import speedups

ROOT = Path(__file__).resolve().parents[2]

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


def test_the_models_domain_loads_the_same_without_the_schema_check(
    tmp_path: Path,
) -> None:
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.graph_components.providers.domain_provider import DomainProvider
    from rasa.shared.core.domain import Domain
    from rasa.shared.utils.validation import YamlValidationException

    storage = LocalModelStorage(tmp_path)
    resource = Resource("domain_provider")
    with storage.write_to(resource) as folder:
        (folder / "domain.yml").write_text((ROOT / "domain.yml").read_text("utf-8"))
    context = ExecutionContext(graph_schema=None)  # type: ignore[arg-type]

    loaded = speedups._load_domain(DomainProvider, {}, storage, resource, context)
    rasas = speedups._RASA_DOMAIN_LOAD(DomainProvider, {}, storage, resource, context)

    assert loaded.provide_inference().as_dict() == rasas.provide_inference().as_dict()
    # The check is skipped only while a model's domain loads.
    with pytest.raises(YamlValidationException):
        Domain.from_yaml("version: '3.1'\nintents: {not: a list}\n")


def test_settling_after_a_load_turns_the_collector_on_and_freezes() -> None:
    """The server starts with the collector off (bot.rasa_run.quiet_start);
    settling after a load collects, freezes what is left and turns it on."""
    import gc

    gc.disable()
    try:
        speedups.settle_after_load()
        assert gc.isenabled() and gc.get_freeze_count() > 0
        # A thousand cycles: frozen by the next settle, then dropped.
        cycles: list[list[object]] = [[] for _ in range(1000)]
        for cycle in cycles:
            cycle.append(cycle)
        gc.disable()
        speedups.settle_after_load()
        frozen = gc.get_freeze_count()
        del cycle, cycles
        speedups.settle_after_load()  # a second model: the first's objects unfrozen
        assert gc.isenabled() and gc.get_freeze_count() < frozen - 900
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_processor_settles_the_collector_when_it_is_built() -> None:
    from rasa.core.processor import MessageProcessor

    speedups.install()
    assert MessageProcessor.__init__ is speedups._processor_init
