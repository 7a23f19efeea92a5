"""YooKassa against a loopback emulator of API v3, and its notifications through the
real webhook route (our ledger, the demo store, a Rasa emulator)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sanic_testing.testing
from aiohttp import web
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from actions.integrations.demo_store import DemoStore
from actions.payments.base import PaymentError, PaymentState
from actions.payments.settlement import Settlement
from actions.payments.webhooks import webhooks_blueprint
from actions.payments.yookassa import YooKassaConfig, YooKassaProvider
from actions.proactive.notifier import RasaNotifier
from actions.settings import SettingsError
from common.settings import Reader
from tests.emulators import Call, Emulator

SHOP, SECRET = "311036", "test_secret_key"
YOOKASSA_IP = "185.71.77.5"  # inside 185.71.77.0/27, a documented range


class YooKassaApi:
    """Payments by id, answered like API v3; Basic auth and idempotence checked."""

    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}

    def __call__(self, call: Call) -> Any:
        expected = "Basic " + base64.b64encode(f"{SHOP}:{SECRET}".encode()).decode()
        if call.headers.get("Authorization") != expected:
            raise web.HTTPUnauthorized(
                text=json.dumps({"type": "error", "code": "invalid_credentials"}),
                content_type="application/json",
            )
        if call.method == "POST" and call.path == "/v3/payments":
            key = call.headers["Idempotence-Key"]
            if key not in self.by_key:
                payment_id = str(uuid.uuid4())
                self.by_key[key] = payment_id
                self.payments[payment_id] = {
                    "id": payment_id,
                    "status": "pending",
                    "paid": False,
                    "amount": call.json["amount"],
                    "confirmation": {
                        "type": "redirect",
                        "confirmation_url": f"https://yoomoney.ru/checkout/{payment_id}",
                    },
                    "created_at": "2025-02-10T00:14:05.555Z",
                    "description": call.json["description"],
                    "metadata": call.json["metadata"],
                    "test": True,
                }
            return self.payments[self.by_key[key]]
        payment_id = call.path.removeprefix("/v3/payments/")
        if call.method == "GET" and payment_id in self.payments:
            return self.payments[payment_id]
        raise web.HTTPNotFound(
            text=json.dumps({"type": "error", "code": "not_found"}),
            content_type="application/json",
        )

    def succeed(self, payment_id: str, value: str = "8990.00") -> None:
        payment = self.payments[payment_id]
        payment.update(status="succeeded", paid=True)
        payment["amount"] = {"value": value, "currency": "RUB"}


@pytest.fixture
async def api(emulator_factory: Any) -> tuple[YooKassaApi, Emulator]:
    state = YooKassaApi()
    return state, await emulator_factory(state)


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


OPENED: list[YooKassaProvider] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while OPENED:
        await OPENED.pop().client.close()


def provider_for(emulator: Emulator, **env: str) -> YooKassaProvider:
    base = {
        "YOOKASSA_SHOP_ID": SHOP,
        "YOOKASSA_SECRET_KEY": SECRET,
        "YOOKASSA_API_URL": f"{emulator.url}/v3",
    }
    provider = YooKassaProvider.from_config(
        YooKassaConfig.from_env(Reader({**base, **env}), "https://bot.example.com")
    )
    OPENED.append(provider)
    return provider


def test_from_env_requires_credentials_and_valid_networks() -> None:
    with pytest.raises(SettingsError, match="YOOKASSA_SHOP_ID"):
        YooKassaProvider.from_config(
            YooKassaConfig.from_env(Reader({"YOOKASSA_SECRET_KEY": "x"}), "https://b")
        )
    with pytest.raises(SettingsError, match="YOOKASSA_SECRET_KEY"):
        YooKassaProvider.from_config(
            YooKassaConfig.from_env(Reader({"YOOKASSA_SHOP_ID": "1"}), "https://b")
        )
    with pytest.raises(SettingsError, match="YOOKASSA_ALLOWED_IPS"):
        YooKassaProvider.from_config(
            YooKassaConfig.from_env(
                Reader(
                    {
                        "YOOKASSA_SHOP_ID": "1",
                        "YOOKASSA_SECRET_KEY": "x",
                        "YOOKASSA_ALLOWED_IPS": "not-an-ip",
                    }
                ),
                "https://b",
            )
        )
    provider = YooKassaProvider.from_config(
        YooKassaConfig.from_env(
            Reader({"YOOKASSA_SHOP_ID": "1", "YOOKASSA_SECRET_KEY": "x"}), "https://b"
        )
    )
    assert provider.return_url == "https://b"
    assert provider.client.base_url == "https://api.yookassa.ru/v3"


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [
        ("185.71.76.0", True),
        ("185.71.76.31", True),
        ("185.71.76.32", False),
        ("77.75.156.11", True),
        ("77.75.156.12", False),
        ("77.75.154.200", True),
        ("2a02:5180:0:1509::1", True),
        ("2a02:5181::1", False),
        ("127.0.0.1", False),
        ("mockserver", False),
        (None, False),
    ],
)
def test_default_allow_list_is_cidr_aware(ip: str | None, allowed: bool) -> None:
    provider = YooKassaProvider("1", "x", "https://b")
    assert provider.ip_allowed(ip) is allowed


async def test_create_payment_is_authenticated_and_idempotent(
    api: tuple[YooKassaApi, Emulator],
) -> None:
    state, emulator = api
    provider = provider_for(emulator, YOOKASSA_RETURN_URL="https://shop/return")
    first = await provider.create_payment("A-10240", 8990, "RUB", "vk:42")
    again = await provider.create_payment("A-10240", 8990, "RUB", "vk:42")
    other = await provider.create_payment("A-10240", 9990, "RUB", "vk:42")

    assert first.payment_id == again.payment_id != other.payment_id
    assert first.url == f"https://yoomoney.ru/checkout/{first.payment_id}"
    assert first.state is PaymentState.PENDING and first.amount == 8990
    create = emulator.calls[0]
    assert create.method == "POST" and create.path == "/v3/payments"
    assert (
        create.headers["Authorization"]
        == "Basic " + base64.b64encode(f"{SHOP}:{SECRET}".encode()).decode()
    )
    key = create.headers["Idempotence-Key"]
    assert 0 < len(key) <= 64
    assert emulator.calls[1].headers["Idempotence-Key"] == key
    assert emulator.calls[2].headers["Idempotence-Key"] != key
    assert create.json == {
        "amount": {"value": "8990.00", "currency": "RUB"},
        "confirmation": {"type": "redirect", "return_url": "https://shop/return"},
        "capture": True,
        "description": "Заказ A-10240",
        "metadata": {"order_id": "A-10240"},
    }
    assert len(state.payments) == 2

    fetched = await provider.get_payment(first.payment_id)
    assert fetched is not None and fetched.order_id == "A-10240"
    assert emulator.calls[-1].method == "GET"
    assert "Idempotence-Key" not in emulator.calls[-1].headers
    assert await provider.get_payment("missing") is None


async def test_wrong_credentials_are_a_payment_error(
    api: tuple[YooKassaApi, Emulator],
) -> None:
    _, emulator = api
    provider = provider_for(emulator, YOOKASSA_SECRET_KEY="wrong")
    with pytest.raises(PaymentError, match="401"):
        await provider.create_payment("A-10240", 8990, "RUB")
    assert len(emulator.calls) == 1  # a 401 is not retried


# --- notifications through the real route -----------------------------------


def client_from(app: Sanic, ip: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An ASGI test client whose requests come from ``ip``.

    sanic-testing's ``app.asgi_client`` reports the peer ``("mockserver", 1234)``,
    so ``request.ip`` is ``"mockserver"`` — not an IP, never allowed. The host is
    read from ``sanic_testing.testing.ASGI_HOST`` when a client is built.
    """
    monkeypatch.setattr(sanic_testing.testing, "ASGI_HOST", ip)
    return SanicASGITestClient(app)


@pytest.fixture
async def paid_link(
    api: tuple[YooKassaApi, Emulator], services: Any, rasa: Emulator
) -> dict[str, Any]:
    """A payment link as the pay action creates it (provider + our ledger), and an
    app with the webhook route."""
    state, emulator = api
    provider = provider_for(emulator)
    payment = await provider.create_payment("A-10240", 8990, "RUB", "vk:42")
    await services.ledger.record(
        "yookassa", payment.payment_id, "A-10240", 8990, "RUB", "vk:42"
    )
    settlement = Settlement(services.ledger, services.orders, RasaNotifier(rasa.url))
    app = Sanic(f"yookassa_{uuid.uuid4().hex}")
    app.blueprint(webhooks_blueprint({"yookassa": provider}, settlement))
    return {"state": state, "payment": payment, "app": app}


def notification(payment_id: str, event: str = "payment.succeeded") -> bytes:
    return json.dumps(
        {
            "type": "notification",
            "event": event,
            "object": {
                "id": payment_id,
                "status": "succeeded",
                "paid": True,
                "amount": {"value": "8990.00", "currency": "RUB"},
                "metadata": {"order_id": "A-10240"},
            },
        }
    ).encode()


async def paid(store: DemoStore) -> bool:
    order = await store.get_order("A-10240")
    assert order is not None
    return order.paid


async def test_genuine_notification_pays_once(
    paid_link: dict[str, Any],
    store: DemoStore,
    rasa: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = paid_link["payment"]
    paid_link["state"].succeed(payment.payment_id)
    client = client_from(paid_link["app"], YOOKASSA_IP, monkeypatch)
    body = notification(payment.payment_id)

    _, first = await client.post("/payments/yookassa/webhook", content=body)
    assert first.status == 200
    assert await paid(store)
    _, again = await client.post("/payments/yookassa/webhook", content=body)
    assert again.status == 200
    (told,) = rasa.calls
    assert told.raw_path == "/conversations/vk:42/trigger_intent"
    assert told.json["entities"] == {"order_id": "A-10240"}


@pytest.mark.parametrize("ip", ["203.0.113.7", "127.0.0.1", "mockserver"])
async def test_notification_from_elsewhere_is_403(
    paid_link: dict[str, Any],
    store: DemoStore,
    rasa: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    ip: str,
) -> None:
    payment = paid_link["payment"]
    paid_link["state"].succeed(payment.payment_id)
    client = client_from(paid_link["app"], ip, monkeypatch)
    _, response = await client.post(
        "/payments/yookassa/webhook", content=notification(payment.payment_id)
    )
    assert response.status == 403
    assert not await paid(store) and rasa.calls == []


async def test_configured_allow_list_replaces_the_default(
    api: tuple[YooKassaApi, Emulator],
) -> None:
    _, emulator = api
    with pytest.raises(SettingsError):  # an allow-list takes addresses only
        provider_for(emulator, YOOKASSA_ALLOWED_IPS="mockserver, 10.0.0.0/8")
    provider = provider_for(emulator, YOOKASSA_ALLOWED_IPS="10.0.0.0/8, ::1")
    assert provider.ip_allowed("10.2.3.4") and provider.ip_allowed("::1")
    assert not provider.ip_allowed(YOOKASSA_IP)


async def test_claimed_success_is_checked_against_the_api(
    paid_link: dict[str, Any],
    store: DemoStore,
    rasa: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The body says succeeded; YooKassa says pending: acknowledged, no change."""
    client = client_from(paid_link["app"], YOOKASSA_IP, monkeypatch)
    payment = paid_link["payment"]
    _, response = await client.post(
        "/payments/yookassa/webhook", content=notification(payment.payment_id)
    )
    assert response.status == 200
    assert not await paid(store) and rasa.calls == []


async def test_wrong_amount_is_acknowledged_and_changes_nothing(
    paid_link: dict[str, Any],
    store: DemoStore,
    rasa: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = paid_link["payment"]
    paid_link["state"].succeed(payment.payment_id, value="1.00")
    client = client_from(paid_link["app"], YOOKASSA_IP, monkeypatch)
    _, response = await client.post(
        "/payments/yookassa/webhook", content=notification(payment.payment_id)
    )
    assert response.status == 200
    assert not await paid(store) and rasa.calls == []


async def test_unknown_payment_and_other_events_are_acknowledged(
    paid_link: dict[str, Any],
    store: DemoStore,
    rasa: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = paid_link["payment"]
    paid_link["state"].succeed(payment.payment_id)
    client = client_from(paid_link["app"], YOOKASSA_IP, monkeypatch)
    for body in (
        notification("not-a-payment"),
        notification(payment.payment_id, event="payment.canceled"),
    ):
        _, response = await client.post("/payments/yookassa/webhook", content=body)
        assert response.status == 200
    assert not await paid(store) and rasa.calls == []


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"event": "payment.succeeded"}']
)
async def test_malformed_notification_is_400(
    paid_link: dict[str, Any],
    store: DemoStore,
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
) -> None:
    client = client_from(paid_link["app"], YOOKASSA_IP, monkeypatch)
    _, response = await client.post("/payments/yookassa/webhook", content=body)
    assert response.status == 400
    assert not await paid(store)
