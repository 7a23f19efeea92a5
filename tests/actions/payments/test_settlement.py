"""Settling provider notifications against our ledger (real SQLite, Rasa emulator)."""

from typing import Any

import pytest
from sanic import Sanic

from actions.integrations.demo_store import DemoStore
from actions.payments.settlement import Outcome, Settlement
from actions.payments.webhooks import webhooks_blueprint
from actions.proactive.notifier import RasaNotifier
from actions.services import Services
from tests.emulators import Emulator


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


@pytest.fixture
async def settlement(services: Services, rasa: Emulator) -> Settlement:
    await services.ledger.record("yookassa", "pay-1", "A-10240", 8990, "RUB", "vk:42")
    return Settlement(services.ledger, services.orders, RasaNotifier(rasa.url))


async def test_paid_once_then_duplicates_change_nothing(
    settlement: Settlement, store: DemoStore, rasa: Emulator
) -> None:
    assert await settlement.succeeded("yookassa", "pay-1", 8990, "RUB") is Outcome.PAID
    order = await store.get_order("A-10240")
    assert order is not None and order.paid
    assert await settlement.succeeded("yookassa", "pay-1", 8990, "RUB") is (
        Outcome.DUPLICATE
    )
    assert len(rasa.calls) == 1


@pytest.mark.parametrize(
    ("amount", "currency"), [(1, "RUB"), (8990, "USD"), (89900, "RUB")]
)
async def test_wrong_amount_or_currency_changes_nothing(
    settlement: Settlement, store: DemoStore, rasa: Emulator, amount: int, currency: str
) -> None:
    outcome = await settlement.succeeded("yookassa", "pay-1", amount, currency)
    assert outcome is Outcome.AMOUNT_MISMATCH
    order = await store.get_order("A-10240")
    assert order is not None and not order.paid
    assert rasa.calls == []


async def test_unknown_payment_changes_nothing(
    settlement: Settlement, rasa: Emulator
) -> None:
    outcome = await settlement.succeeded("yookassa", "not-ours", 8990, "RUB")
    assert outcome is Outcome.UNKNOWN_PAYMENT and rasa.calls == []


async def test_webhooks_for_unknown_or_webhook_less_providers_are_404(
    services: Services, settlement: Settlement
) -> None:
    app = Sanic(f"webhooks_{id(settlement)}")
    app.blueprint(webhooks_blueprint({"demo": services.payments}, settlement))
    _, unknown = await app.asgi_client.post("/payments/nope/webhook", content=b"{}")
    _, demo = await app.asgi_client.post("/payments/demo/webhook", content=b"{}")
    assert unknown.status == 404 and demo.status == 404
