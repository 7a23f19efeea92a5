"""The demo payment provider and its pay page, served by a real Sanic app; the
shopper is told through a Rasa HTTP API emulator."""

from typing import Any

import pytest
from sanic import Sanic

from actions.integrations.base import OrderState
from actions.integrations.demo_store import DemoStore
from actions.payments.base import PaymentState
from actions.payments.demo import DemoPaymentProvider
from actions.payments.pay_page import pay_blueprint
from actions.payments.settlement import Settlement
from actions.proactive.notifier import RasaNotifier
from actions.services import Services
from tests.emulators import Emulator


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


@pytest.fixture
def app(payments: DemoPaymentProvider, services: Services, rasa: Emulator) -> Sanic:
    settlement = Settlement(services.ledger, services.orders, RasaNotifier(rasa.url))
    app = Sanic(f"pay_test_{id(payments)}")
    app.blueprint(pay_blueprint(payments, settlement))
    return app


async def link(payments: DemoPaymentProvider, services: Services, sender: str) -> Any:
    """A payment link as the pay action creates it: provider + our ledger."""
    payment = await payments.create_payment("A-10240", 8990, "RUB", sender)
    await services.ledger.record(
        "demo", payment.payment_id, "A-10240", 8990, "RUB", sender
    )
    return payment


async def test_link_is_reused_for_the_same_order(payments: DemoPaymentProvider) -> None:
    first = await payments.create_payment("A-10240", 8990, "RUB")
    second = await payments.create_payment("A-10240", 8990, "RUB")
    assert first.payment_id == second.payment_id
    assert first.url == f"http://localhost:5055/pay/{first.payment_id}"
    assert first.state is PaymentState.PENDING


async def test_pressing_pay_marks_the_order_paid_and_tells_the_shopper_once(
    app: Sanic,
    payments: DemoPaymentProvider,
    store: DemoStore,
    services: Services,
    rasa: Emulator,
) -> None:
    payment = await link(payments, services, "telegram:555")
    _, page = await app.asgi_client.get(f"/pay/{payment.payment_id}")
    assert page.status == 200
    assert "A-10240" in page.text and 'id="pay"' in page.text

    _, paid = await app.asgi_client.post(f"/pay/{payment.payment_id}")
    assert paid.status == 200 and 'id="status"' in paid.text
    order = await store.get_order("A-10240")
    assert order is not None and order.paid and order.state is OrderState.PROCESSING

    _, again = await app.asgi_client.post(f"/pay/{payment.payment_id}")
    assert again.status == 200
    (told,) = rasa.calls  # a second press never says "paid" twice
    assert told.raw_path == "/conversations/telegram:555/trigger_intent"
    assert told.query == {"output_channel": "latest"}
    assert told.json == {
        "name": "EXTERNAL_payment_received",
        "entities": {"order_id": "A-10240"},
    }
    assert (
        await payments.get_payment(payment.payment_id)
    ).state is PaymentState.SUCCEEDED


async def test_unknown_payment_is_404(app: Sanic) -> None:
    _, page = await app.asgi_client.get("/pay/nope")
    assert page.status == 404


async def test_cancelled_order_cannot_be_paid(
    app: Sanic,
    payments: DemoPaymentProvider,
    store: DemoStore,
    services: Services,
    rasa: Emulator,
) -> None:
    payment = await link(payments, services, "telegram:556")
    await store.cancel_order("A-10240")
    _, response = await app.asgi_client.post(f"/pay/{payment.payment_id}")
    assert response.status == 409
    order = await store.get_order("A-10240")
    assert order is not None and not order.paid
    assert (
        await payments.get_payment(payment.payment_id)
    ).state is PaymentState.PENDING
    assert rasa.calls == []
