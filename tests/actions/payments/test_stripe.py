"""The Stripe provider against a loopback emulator of the Stripe API, and its
webhooks through the real route (ledger, demo store, Rasa emulator)."""

import json
import time
from typing import Any

import pytest
from sanic import Sanic

from actions.integrations.demo_store import DemoStore
from actions.payments.base import PaymentError, PaymentState
from actions.payments.settlement import Settlement
from actions.payments.stripe import StripeConfig, StripeProvider, sign
from actions.payments.webhooks import webhooks_blueprint
from actions.proactive.notifier import RasaNotifier
from actions.services import Services
from actions.settings import SettingsError
from common.settings import Reader
from tests.emulators import Call, Emulator

SECRET_KEY = "sk_test_123"
WEBHOOK_SECRET = "whsec_abc"
SESSION_ID = "cs_test_a1GCXRcY"


def session(paid: bool = False) -> dict[str, Any]:
    return {
        "id": SESSION_ID,
        "object": "checkout.session",
        "url": f"https://checkout.stripe.com/c/pay/{SESSION_ID}",
        "status": "complete" if paid else "open",
        "payment_status": "paid" if paid else "unpaid",
        "mode": "payment",
        "amount_total": 899000,
        "currency": "rub",
        "client_reference_id": "A-10240",
        "metadata": {"order_id": "A-10240"},
        "created": 1718000000,
    }


def reply(call: Call) -> Any:
    return session(paid=call.method == "GET")


@pytest.fixture
async def stripe_api(emulator_factory: Any) -> Emulator:
    return await emulator_factory(reply)


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


def provider(api: Emulator) -> StripeProvider:
    return StripeProvider.from_config(
        StripeConfig.from_env(
            Reader(
                {
                    "STRIPE_SECRET_KEY": SECRET_KEY,
                    "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "STRIPE_API_URL": api.url,
                }
            ),
            "https://shop.example",
        )
    )


def test_settings_name_missing_variables() -> None:
    with pytest.raises(SettingsError, match="STRIPE_WEBHOOK_SECRET"):
        StripeProvider.from_config(
            StripeConfig.from_env(
                Reader({"STRIPE_SECRET_KEY": "sk"}), "https://shop.example"
            )
        )
    with pytest.raises(SettingsError, match="STRIPE_TOLERANCE_S"):
        StripeProvider.from_config(
            StripeConfig.from_env(
                Reader(
                    {
                        "STRIPE_SECRET_KEY": "sk",
                        "STRIPE_WEBHOOK_SECRET": "wh",
                        "STRIPE_TOLERANCE_S": "soon",
                    }
                ),
                "https://shop.example",
            )
        )
    built = StripeProvider.from_config(
        StripeConfig.from_env(
            Reader({"STRIPE_SECRET_KEY": "sk", "STRIPE_WEBHOOK_SECRET": "wh"}),
            "https://shop.example",
        )
    )
    assert built.client.base_url == "https://api.stripe.com"
    assert built.tolerance_s == 300 and built.success_url == "https://shop.example"


async def test_checkout_session_in_minor_units_with_idempotency(
    stripe_api: Emulator,
) -> None:
    stripe = provider(stripe_api)
    payment = await stripe.create_payment("A-10240", 8990, "RUB", "vk:42")
    await stripe.create_payment("A-10240", 8990, "RUB", "vk:42")
    await stripe.create_payment("A-10240", 8991, "RUB", "vk:42")
    assert payment.payment_id == SESSION_ID and payment.state is PaymentState.PENDING
    assert payment.url.startswith("https://checkout.stripe.com/")
    first, second, other = stripe_api.calls
    assert first.method == "POST" and first.path == "/v1/checkout/sessions"
    assert first.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert first.form == {
        "mode": "payment",
        "line_items[0][price_data][currency]": "rub",
        "line_items[0][price_data][unit_amount]": "899000",
        "line_items[0][price_data][product_data][name]": "Order A-10240",
        "line_items[0][quantity]": "1",
        "success_url": "https://shop.example",
        "cancel_url": "https://shop.example",
        "metadata[order_id]": "A-10240",
        "client_reference_id": "A-10240",
    }
    key = first.headers["Idempotency-Key"]
    assert key and key == second.headers["Idempotency-Key"]
    assert other.headers["Idempotency-Key"] != key


async def test_rejected_key_is_a_payment_error(stripe_api: Emulator) -> None:
    stripe_api.fail_next(
        401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}
    )
    with pytest.raises(PaymentError, match="401"):
        await provider(stripe_api).create_payment("A-10240", 8990, "RUB")


async def test_get_payment(stripe_api: Emulator) -> None:
    stripe = provider(stripe_api)
    payment = await stripe.get_payment(SESSION_ID)
    assert payment is not None and payment.state is PaymentState.SUCCEEDED
    assert (payment.order_id, payment.amount, payment.currency) == (
        "A-10240",
        8990,
        "RUB",
    )
    assert stripe_api.calls[0].path == f"/v1/checkout/sessions/{SESSION_ID}"
    assert stripe_api.calls[0].headers["Authorization"] == f"Bearer {SECRET_KEY}"
    stripe_api.fail_next(404, {"error": {"code": "resource_missing"}})
    assert await stripe.get_payment("cs_missing") is None


def event(kind: str = "checkout.session.completed", **changes: Any) -> bytes:
    return json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": kind,
            "data": {"object": {**session(paid=True), **changes}},
        }
    ).encode()


def signed(
    body: bytes, at: int | None = None, secret: str = WEBHOOK_SECRET
) -> dict[str, str]:
    at = int(time.time()) if at is None else at
    return {
        "Stripe-Signature": f"t={at},v1={'0' * 64},v1={sign(secret, at, body)},v0=x",
        "Content-Type": "application/json",
    }


@pytest.fixture
async def app(services: Services, stripe_api: Emulator, rasa: Emulator) -> Sanic:
    stripe = provider(stripe_api)
    payment = await stripe.create_payment("A-10240", 8990, "RUB", "vk:42")
    await services.ledger.record(
        "stripe", payment.payment_id, "A-10240", 8990, "RUB", "vk:42"
    )
    settlement = Settlement(services.ledger, services.orders, RasaNotifier(rasa.url))
    app = Sanic(f"stripe_webhooks_{id(stripe)}")
    app.blueprint(webhooks_blueprint({"stripe": stripe}, settlement))
    return app


async def post(app: Sanic, body: bytes, headers: dict[str, str]) -> Any:
    _, answer = await app.asgi_client.post(
        "/payments/stripe/webhook", content=body, headers=headers
    )
    return answer


async def paid(store: DemoStore) -> bool:
    order = await store.get_order("A-10240")
    assert order is not None
    return order.paid


async def test_genuine_event_pays_once(
    app: Sanic, store: DemoStore, rasa: Emulator
) -> None:
    body = event()
    assert (await post(app, body, signed(body))).status == 200
    assert await paid(store)
    assert len(rasa.calls) == 1
    assert rasa.calls[0].json["name"] == "EXTERNAL_payment_received"
    assert (await post(app, body, signed(body))).status == 200
    assert len(rasa.calls) == 1


async def test_forged_signature_is_403_and_changes_nothing(
    app: Sanic, store: DemoStore, rasa: Emulator
) -> None:
    body = event()
    assert (await post(app, body, signed(body, secret="whsec_wrong"))).status == 403
    tampered = event(amount_total=100)
    assert (await post(app, tampered, signed(body))).status == 403
    assert not await paid(store) and rasa.calls == []


async def test_replay_with_an_old_timestamp_is_rejected(
    app: Sanic, store: DemoStore, rasa: Emulator
) -> None:
    body = event()
    # Well outside the 300 s tolerance: seconds pass between signing and checking.
    old = int(time.time()) - 400
    assert (await post(app, body, signed(body, at=old))).status == 400
    future = int(time.time()) + 400
    assert (await post(app, body, signed(body, at=future))).status == 400
    assert not await paid(store) and rasa.calls == []


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"{}", {}),
        (b"{}", {"Stripe-Signature": "v1=abc"}),
        (b"{}", {"Stripe-Signature": "t=now,v1=abc"}),
        (b"not json", None),
        (b"[1, 2]", None),
        (b'{"type": "checkout.session.completed"}', None),
    ],
    ids=["no-header", "no-t", "bad-t", "not-json", "not-object", "no-data"],
)
async def test_malformed_is_400(
    app: Sanic, store: DemoStore, body: bytes, headers: dict[str, str] | None
) -> None:
    answer = await post(app, body, signed(body) if headers is None else headers)
    assert answer.status == 400
    assert not await paid(store)


@pytest.mark.parametrize(
    "body",
    [event(amount_total=100), event(currency="usd"), event(amount_total=899050)],
    ids=["amount", "currency", "fraction"],
)
async def test_wrong_amount_is_acknowledged_and_changes_nothing(
    app: Sanic, store: DemoStore, rasa: Emulator, body: bytes
) -> None:
    assert (await post(app, body, signed(body))).status == 200
    assert not await paid(store) and rasa.calls == []


async def test_other_events_change_nothing(
    app: Sanic, store: DemoStore, rasa: Emulator
) -> None:
    for body in (event("checkout.session.expired"), event(payment_status="unpaid")):
        assert (await post(app, body, signed(body))).status == 200
    assert not await paid(store) and rasa.calls == []
