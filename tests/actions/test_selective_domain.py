"""Rasa sends the domain only to the custom actions that read it
(``enable_selective_domain`` in the endpoints files): every action that reads it
must be among those Rasa sends it to, or it would run on an empty domain."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.forms import ValidationAction

ROOT = Path(__file__).resolve().parents[2]


def _executor() -> ActionExecutor:
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


@pytest.mark.parametrize("name", ["endpoints.yml", "endpoints.production.yml"])
def test_both_profiles_send_the_domain_selectively(name: str) -> None:
    settings = yaml.safe_load((ROOT / name).read_text("utf-8"))
    assert settings["action_endpoint"]["enable_selective_domain"] is True


def test_every_action_that_reads_the_domain_is_sent_it() -> None:
    """rasa_sdk's slot validations read the form's required slots from the
    domain; ours read nothing else of it (a plain ``Action`` that does must be
    marked ``send_domain: true`` in domain.yml, and listed here)."""
    domain = Domain.load(ROOT / "domain.yml")
    readers = sorted(
        name
        for name, run in _executor().actions.items()
        if isinstance(getattr(run, "__self__", None), ValidationAction)
    )
    assert readers == [
        "validate_exchange_form",
        "validate_order_form",
        "validate_product_form",
    ]
    for name in readers:
        assert domain.does_custom_action_explicitly_need_domain(name), name


def test_other_actions_do_not_get_it() -> None:
    domain = Domain.load(ROOT / "domain.yml")
    others = [
        name
        for name in _executor().actions
        if name in domain.user_actions and not name.startswith("validate_")
    ]
    assert "action_handle_order_request" in others
    assert not any(domain.does_custom_action_explicitly_need_domain(n) for n in others)
