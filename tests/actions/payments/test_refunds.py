"""Refunds through each provider's API (emulators on loopback), behind the
payment-provider interface and our ledger: at most once per reason under retries,
never more than was paid."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from actions.payments.base import PaymentError, PaymentProvider
from actions.payments.ledger import PaymentLedger, RefundRefused
from actions.payments.refunds import Refunds
from actions.payments.registry import build_provider, read_payment_config
from common.settings import Reader
from tests.actions.payments.provider_emulators import (
    ProviderApi,
    SberApi,
    StripeApi,
    TBankApi,
    YooKassaApi,
)
from tests.emulators import Emulator

APIS = {"yookassa": YooKassaApi, "tbank": TBankApi, "sber": SberApi,
        "stripe": StripeApi}  # fmt: skip
PAID = 8990


def refunds_at(api: ProviderApi) -> list[int]:
    """Refund amounts the provider made, in whole roubles."""
    if isinstance(api, YooKassaApi):
        return [int(float(r["amount"]["value"])) for r in api.refunds.values()]
    if isinstance(api, StripeApi):
        return [r["amount"] // 100 for r in api.refunds.values()]
    if isinstance(api, TBankApi):
        (payment,) = api.payments.values()
        return [payment["Refunded"] // 100] if payment["Refunded"] else []
    (order,) = api.orders.values()
    return [order["refunded"] // 100] if order["refunded"] else []


@pytest.fixture(params=list(APIS))
async def paid(
    request: pytest.FixtureRequest, emulator_factory: Any, tmp_path: Path
) -> AsyncIterator[tuple[ProviderApi, Emulator, PaymentProvider, str, Refunds]]:
    """A payment created at the provider, paid there, settled in our ledger."""
    api = APIS[request.param]()
    emulator = await emulator_factory(api)
    provider = build_provider(
        api.name,
        tmp_path,
        "http://127.0.0.1:5055",
        None,  # type: ignore[arg-type]
        read_payment_config(
            api.name, Reader(api.env(emulator.url)), "http://127.0.0.1:5055"
        ),
    )
    payment = await provider.create_payment("A-10240", PAID, "RUB", "telegram:1")
    api.pay(payment.payment_id)
    ledger = PaymentLedger(tmp_path / "ledger.sqlite")
    await ledger.record(
        api.name, payment.payment_id, "A-10240", PAID, "RUB", "telegram:1"
    )
    assert await ledger.mark_succeeded(api.name, payment.payment_id)
    yield api, emulator, provider, payment.payment_id, Refunds(ledger, provider)
    await provider.client.close()  # type: ignore[attr-defined]


async def test_partial_then_rest_and_never_more(
    paid: tuple[ProviderApi, Emulator, PaymentProvider, str, Refunds],
) -> None:
    api, emulator, _, payment_id, refunds = paid
    first = await refunds.refund(payment_id, 3000, "return:R-1")
    assert (first.amount, first.currency, first.state) == (3000, "RUB", "succeeded")
    assert first.refund_id
    assert sum(refunds_at(api)) == 3000

    calls = len(emulator.calls)
    with pytest.raises(RefundRefused, match="5990 left"):
        await refunds.refund(payment_id, 6000, "return:R-2")
    assert len(emulator.calls) == calls  # refused before asking the provider

    rest = await refunds.refund(payment_id, 5990, "return:R-2")
    assert rest.state == "succeeded"
    assert sum(refunds_at(api)) == PAID
    with pytest.raises(RefundRefused):
        await refunds.refund(payment_id, 1, "return:R-3")


async def test_the_same_reason_refunds_once(
    paid: tuple[ProviderApi, Emulator, PaymentProvider, str, Refunds],
) -> None:
    api, emulator, _, payment_id, refunds = paid
    first = await refunds.refund(payment_id, PAID, "cancel:A-10240")
    calls = len(emulator.calls)
    again = await refunds.refund(payment_id, PAID, "cancel:A-10240")
    assert again == first
    assert len(emulator.calls) == calls
    assert refunds_at(api) == [PAID]


async def test_the_provider_refuses_more_than_was_paid(
    paid: tuple[ProviderApi, Emulator, PaymentProvider, str, Refunds],
) -> None:
    """Past our ledger (another system refunded already), the provider says no."""
    api, _, provider, payment_id, _ = paid
    with pytest.raises(PaymentError):
        await provider.refund(payment_id, PAID + 1, "RUB", "direct:too-much")
    assert refunds_at(api) == []


async def test_unpaid_or_unknown_payments_are_refused(
    paid: tuple[ProviderApi, Emulator, PaymentProvider, str, Refunds], tmp_path: Path
) -> None:
    _, emulator, provider, payment_id, refunds = paid
    with pytest.raises(RefundRefused, match="not paid"):
        await refunds.refund("no-such-payment", 100, "k")
    fresh = Refunds(PaymentLedger(tmp_path / "other.sqlite"), provider)
    await fresh.ledger.record(provider.name, payment_id, "A-10240", PAID, "RUB", None)
    with pytest.raises(RefundRefused, match="not paid"):  # pending in that ledger
        await fresh.refund(payment_id, 100, "k")
    with pytest.raises(RefundRefused):
        await refunds.refund(payment_id, 0, "zero")


@pytest.mark.parametrize("name", ["yookassa", "stripe"])
async def test_keyed_providers_replay_a_retried_request(
    name: str, emulator_factory: Any, tmp_path: Path
) -> None:
    """A request retried at the HTTP level (same key) makes one refund."""
    api = APIS[name]()
    emulator = await emulator_factory(api)
    provider = build_provider(
        name,
        tmp_path,
        "http://x",
        None,  # type: ignore[arg-type]
        read_payment_config(name, Reader(api.env(emulator.url)), "http://x"),
    )
    payment = await provider.create_payment("A-10240", PAID, "RUB")
    api.pay(payment.payment_id)
    one = await provider.refund(payment.payment_id, 1000, "RUB", "return:R-1")
    two = await provider.refund(payment.payment_id, 1000, "RUB", "return:R-1")
    other = await provider.refund(payment.payment_id, 1000, "RUB", "return:R-2")
    assert one.refund_id == two.refund_id != other.refund_id
    assert refunds_at(api) == [1000, 1000]
    keys = [
        c.headers.get("Idempotence-Key") or c.headers.get("Idempotency-Key")
        for c in emulator.calls
        if c.path.endswith("/refunds")
    ]
    assert keys[0] == keys[1] != keys[2] and all(keys)
    await provider.client.close()  # type: ignore[attr-defined]


async def test_a_provider_failure_can_be_retried_with_the_same_key(
    emulator_factory: Any, tmp_path: Path
) -> None:
    api = YooKassaApi()
    emulator = await emulator_factory(api)
    provider = build_provider(
        "yookassa",
        tmp_path,
        "http://x",
        None,  # type: ignore[arg-type]
        read_payment_config("yookassa", Reader(api.env(emulator.url)), "http://x"),
    )
    payment = await provider.create_payment("A-10240", PAID, "RUB")
    api.pay(payment.payment_id)
    ledger = PaymentLedger(tmp_path / "ledger.sqlite")
    await ledger.record("yookassa", payment.payment_id, "A-10240", PAID, "RUB", None)
    await ledger.mark_succeeded("yookassa", payment.payment_id)
    refunds = Refunds(ledger, provider)
    for _ in range(10):
        emulator.fail_next(503, {"type": "error", "code": "internal_server_error"})
    with pytest.raises(PaymentError):
        await refunds.refund(payment.payment_id, PAID, "cancel:A-10240")
    emulator.scripted.clear()
    done = await refunds.refund(payment.payment_id, PAID, "cancel:A-10240")
    assert done.state == "succeeded"
    assert refunds_at(api) == [PAID]
    await provider.client.close()  # type: ignore[attr-defined]
