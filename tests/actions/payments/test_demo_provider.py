"""The demo payment provider and its pay page, served by a real Sanic app."""

import pytest
from sanic import Sanic

from actions.integrations.base import OrderState
from actions.integrations.demo_store import DemoStore
from actions.payments.base import PaymentState
from actions.payments.demo import DemoPaymentProvider
from actions.payments.pay_page import pay_blueprint


@pytest.fixture
def app(payments: DemoPaymentProvider) -> Sanic:
    app = Sanic(f"pay_test_{id(payments)}")
    app.blueprint(pay_blueprint(payments))
    return app


async def test_link_is_reused_for_the_same_order(payments: DemoPaymentProvider) -> None:
    first = await payments.create_payment("A-10240", 8990, "RUB")
    second = await payments.create_payment("A-10240", 8990, "RUB")
    assert first.payment_id == second.payment_id
    assert first.url == f"http://localhost:5055/pay/{first.payment_id}"
    assert first.state is PaymentState.PENDING


async def test_pressing_pay_marks_the_order_paid_once(
    app: Sanic, payments: DemoPaymentProvider, store: DemoStore
) -> None:
    payment = await payments.create_payment("A-10240", 8990, "RUB")
    _, page = await app.asgi_client.get(f"/pay/{payment.payment_id}")
    assert page.status == 200
    assert "A-10240" in page.text and 'id="pay"' in page.text

    _, paid = await app.asgi_client.post(f"/pay/{payment.payment_id}")
    assert paid.status == 200 and 'id="status"' in paid.text
    order = await store.get_order("A-10240")
    assert order is not None and order.paid and order.state is OrderState.PROCESSING

    _, again = await app.asgi_client.post(f"/pay/{payment.payment_id}")
    assert again.status == 200
    assert (
        await payments.get_payment(payment.payment_id)
    ).state is PaymentState.SUCCEEDED


async def test_unknown_payment_is_404(app: Sanic) -> None:
    _, page = await app.asgi_client.get("/pay/nope")
    assert page.status == 404


async def test_cancelled_order_cannot_be_paid(
    app: Sanic, payments: DemoPaymentProvider, store: DemoStore
) -> None:
    payment = await payments.create_payment("A-10240", 8990, "RUB")
    await store.cancel_order("A-10240")
    _, response = await app.asgi_client.post(f"/pay/{payment.payment_id}")
    assert response.status == 409
    order = await store.get_order("A-10240")
    assert order is not None and not order.paid
    assert (
        await payments.get_payment(payment.payment_id)
    ).state is PaymentState.PENDING
