"""The pay request (``action_handle_order_request`` with ``order_request=pay``)
with each real provider against its loopback emulator: the link goes into the
ledger; a slow or failing provider gets the shopper ``utter_payment_unavailable``
within the provider's budget (``<PROVIDER>_TIMEOUT_S``, 3 s by default)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import ActionHandleOrderRequest
from actions.payments.base import DEFAULT_TIMEOUT_S, PaymentProvider
from actions.payments.registry import build_provider, read_payment_config
from actions.services import Services, configure
from actions.settings import Settings
from actions.support_log import SupportLog
from common.settings import Reader
from tests.actions.payments.provider_emulators import (
    ProviderApi,
    SberApi,
    StripeApi,
    TBankApi,
    YooKassaApi,
)
from tests.conftest import make_tracker, responses, user
from tests.emulators import Emulator

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "domain.yml").read_text()
)
APIS = {"yookassa": YooKassaApi, "tbank": TBankApi, "sber": SberApi,
        "stripe": StripeApi}  # fmt: skip


@pytest.fixture(params=list(APIS))
async def provider_setup(
    request: pytest.FixtureRequest, emulator_factory: Any, tmp_path: Path
) -> AsyncIterator[tuple[ProviderApi, Emulator, Services]]:
    api = APIS[request.param]()
    emulator = await emulator_factory(api)
    env = {"EASYFLOW_DATA_DIR": str(tmp_path), **api.env(emulator.url)}
    settings = Settings.from_env(env)
    plain = Services.from_settings(settings)  # the demo store, seeded
    provider = build_provider(
        api.name,
        tmp_path,
        "http://127.0.0.1:5055",
        plain.orders,
        read_payment_config(api.name, Reader(env), "http://127.0.0.1:5055"),
    )
    services = Services(
        settings, plain.orders, provider, SupportLog(settings.support_log_path)
    )
    configure(services)
    yield api, emulator, services
    configure(None)
    await provider.client.close()  # type: ignore[attr-defined]


async def pay(sender: str = "telegram:555") -> tuple[list[str], list[Any], float]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [user("оплатить заказ A-10240", "pay_order")],
        # A payment link shows the amount: for a verified shopper only.
        slots={
            "order_request": "pay",
            "order_id": "A-10240",
            "verified_orders": ["A-10240"],
        },
        sender_id=sender,
    )
    started = time.monotonic()
    events = await ActionHandleOrderRequest().run(dispatcher, tracker, DOMAIN)
    return responses(dispatcher), events, time.monotonic() - started


async def test_link_is_created_and_recorded(
    provider_setup: tuple[ProviderApi, Emulator, Services],
) -> None:
    api, emulator, services = provider_setup
    said, events, _ = await pay()
    assert said == ["utter_payment_link"]
    assert {"event": "slot", "timestamp": None, "name": "payment_link",
            "value": "A-10240"} in events  # fmt: skip
    provider: PaymentProvider = services.payments
    assert provider.timeout_s == DEFAULT_TIMEOUT_S
    (payment_id,) = {
        YooKassaApi: lambda: list(api.payments),  # type: ignore[union-attr]
        TBankApi: lambda: list(api.payments),  # type: ignore[union-attr]
        SberApi: lambda: list(api.orders),  # type: ignore[union-attr]
        StripeApi: lambda: list(api.sessions),  # type: ignore[union-attr]
    }[type(api)]()
    entry = await services.ledger.get(api.name, payment_id)
    assert entry is not None
    assert (entry.order_id, entry.amount, entry.currency, entry.sender_id) == (
        "A-10240", 8990, "RUB", "telegram:555"
    )  # fmt: skip
    assert entry.state == "pending"


async def test_slow_provider_answers_within_the_budget(
    provider_setup: tuple[ProviderApi, Emulator, Services],
) -> None:
    _, emulator, services = provider_setup
    emulator.delay_s = 30
    said, events, elapsed = await pay()
    assert said == ["utter_payment_unavailable"] and events == []
    assert DEFAULT_TIMEOUT_S <= elapsed < DEFAULT_TIMEOUT_S + 1, elapsed
    assert len(emulator.calls) == 1  # cut off during the first attempt


async def test_failing_provider_answers_within_the_budget(
    provider_setup: tuple[ProviderApi, Emulator, Services],
) -> None:
    _, emulator, services = provider_setup
    for _ in range(10):
        emulator.fail_next(503, {"error": "Service Unavailable"})
    said, events, elapsed = await pay()
    assert said == ["utter_payment_unavailable"] and events == []
    assert elapsed < DEFAULT_TIMEOUT_S + 1, elapsed
    assert len(emulator.calls) >= 2  # 5xx is retried, within the budget


async def test_budget_is_configurable(emulator_factory: Any, tmp_path: Path) -> None:
    api = TBankApi()
    emulator = await emulator_factory(api)
    env = {**api.env(emulator.url), "TBANK_TIMEOUT_S": "0.5"}
    provider = build_provider(
        "tbank",
        tmp_path,
        "http://x",
        None,  # type: ignore[arg-type]
        read_payment_config("tbank", Reader(env), "http://x"),
    )
    assert provider.timeout_s == 0.5
    with pytest.raises(Exception, match="TBANK_TIMEOUT_S"):
        build_provider(
            "tbank",
            tmp_path,
            "http://x",
            None,  # type: ignore[arg-type]
            read_payment_config(
                "tbank", Reader({**env, "TBANK_TIMEOUT_S": "x"}), "http://x"
            ),
        )


async def test_cancelling_a_paid_order_refunds_through_the_provider_once(
    provider_setup: tuple[ProviderApi, Emulator, Services],
) -> None:
    from actions.context import Turn
    from actions.orders import cancel_confirmed
    from actions.payments.settlement import Outcome, Settlement
    from tests.actions.payments.test_refunds import refunds_at

    api, emulator, services = provider_setup
    await pay()
    entry = await services.ledger.get(api.name, _only_payment(api))
    assert entry is not None
    api.pay(entry.payment_id)
    settlement = Settlement(services.ledger, services.orders, None)
    assert await settlement.succeeded(api.name, entry.payment_id, 8990, "RUB") is (
        Outcome.PAID
    )

    said = []
    for _ in range(2):  # the shopper's "yes" delivered twice
        dispatcher = CollectingDispatcher()
        await cancel_confirmed(
            "A-10240",
            Turn(
                dispatcher,
                make_tracker([], slots={"verified_orders": ["A-10240"]}),
                services,
                "ru",
            ),
        )
        said.append(responses(dispatcher))
    assert said == [["utter_order_cancelled_refund"], ["utter_cancel_refused"]]
    assert refunds_at(api) == [8990]  # once, the whole amount
    refund = await services.ledger.reserve_refund(
        api.name, entry.payment_id, "cancel:A-10240", 8990
    )
    assert refund[0].state == "succeeded" and refund[1] is False


def _only_payment(api: ProviderApi) -> str:
    ids = {
        YooKassaApi: lambda: list(api.payments),  # type: ignore[union-attr]
        TBankApi: lambda: list(api.payments),  # type: ignore[union-attr]
        SberApi: lambda: list(api.orders),  # type: ignore[union-attr]
        StripeApi: lambda: list(api.sessions),  # type: ignore[union-attr]
    }[type(api)]()
    assert len(ids) == 1
    return ids[0]
