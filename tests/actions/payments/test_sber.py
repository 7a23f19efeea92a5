"""The Sber provider against a loopback emulator of the RBS gateway, and its
callbacks through the real webhook route (ledger, demo store, Rasa emulator)."""

from typing import Any
from urllib.parse import urlencode

import pytest
from sanic import Sanic

from actions.integrations.demo_store import DemoStore
from actions.payments.base import PaymentError, PaymentState
from actions.payments.sber import SberConfig, SberProvider, callback_checksum
from actions.payments.settlement import Settlement
from actions.payments.webhooks import webhooks_blueprint
from actions.proactive.notifier import RasaNotifier
from actions.services import Services
from actions.settings import SettingsError
from common.http import RetryPolicy
from common.settings import Reader
from tests.emulators import Call, Emulator

TOKEN = "callback-token"
ORDER_ID = "70906e55-7114-41d6-8332-4609dc6590f4"


class Gateway:
    """Answers like register.do / getOrderStatusExtended.do."""

    def __init__(self) -> None:
        self.status = 2
        self.amount = 899000
        self.currency = "643"

    def __call__(self, call: Call) -> Any:
        if call.form.get("userName") != "shop-api" or call.form.get("password") != (
            "s3cret"
        ):
            return {"errorCode": "5", "errorMessage": "Access denied"}
        if call.path.endswith("/register.do"):
            return {
                "orderId": ORDER_ID,
                "formUrl": f"https://3dsec.example/pay?mdOrder={ORDER_ID}",
            }
        if call.path.endswith("/getOrderStatusExtended.do"):
            if call.form.get("orderId") != ORDER_ID:
                return {"errorCode": "6", "errorMessage": "Order not found"}
            return {
                "errorCode": "0",
                "orderNumber": "A-10240-abcd1234",
                "orderStatus": self.status,
                "actionCode": 0,
                "amount": self.amount,
                "currency": self.currency,
            }
        return {"errorCode": "7", "errorMessage": "unknown method"}


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
async def sber_api(emulator_factory: Any, gateway: Gateway) -> Emulator:
    return await emulator_factory(gateway)


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


def provider(api: Emulator, password: str = "s3cret") -> SberProvider:
    return SberProvider.from_config(
        SberConfig.from_env(
            Reader(
                {
                    "SBER_USERNAME": "shop-api",
                    "SBER_PASSWORD": password,
                    "SBER_CALLBACK_TOKEN": TOKEN,
                    "SBER_API_URL": f"{api.url}/payment/rest",
                }
            ),
            "https://shop.example",
        )
    )


def callback(token: str = TOKEN, **overrides: str) -> bytes:
    params = {
        "mdOrder": ORDER_ID,
        "orderNumber": "A-10240-abcd1234",
        "operation": "deposited",
        "status": "1",
        **overrides,
    }
    params["checksum"] = callback_checksum(params, token)
    return urlencode(params).encode()


def test_settings_name_missing_variables() -> None:
    with pytest.raises(SettingsError, match="SBER_PASSWORD"):
        SberProvider.from_config(
            SberConfig.from_env(Reader({"SBER_USERNAME": "u"}), "https://shop.example")
        )
    built = SberProvider.from_config(
        SberConfig.from_env(
            Reader({"SBER_USERNAME": "u", "SBER_PASSWORD": "p"}), "https://shop.example"
        )
    )
    assert built.client.base_url == "https://securepayments.sberbank.ru/payment/rest"
    assert built.return_url == "https://shop.example"


async def test_register_sends_kopecks_and_a_fresh_order_number(
    sber_api: Emulator,
) -> None:
    sber = provider(sber_api)
    first = await sber.create_payment("A-10240", 8990, "RUB", "vk:42")
    await sber.create_payment("A-10240", 8990, "RUB", "vk:42")
    assert first.payment_id == ORDER_ID and first.state is PaymentState.PENDING
    assert first.url.startswith("https://3dsec.example/pay")
    assert first.amount == 8990 and first.currency == "RUB"
    register = sber_api.calls[0]
    assert register.method == "POST" and register.path == "/payment/rest/register.do"
    assert register.form["amount"] == "899000" and register.form["currency"] == "643"
    assert register.form["returnUrl"] == "https://shop.example"
    assert register.form["orderNumber"].startswith("A-10240-")
    assert len(register.form["orderNumber"]) <= 32
    assert register.form["orderNumber"] != sber_api.calls[1].form["orderNumber"]


async def test_wrong_credentials_are_a_payment_error(sber_api: Emulator) -> None:
    with pytest.raises(PaymentError, match="errorCode 5"):
        await provider(sber_api, password="wrong").create_payment(
            "A-10240", 8990, "RUB"
        )


async def test_http_errors_are_a_payment_error(sber_api: Emulator) -> None:
    sber = provider(sber_api)
    sber.client.retry = RetryPolicy(max_attempts=1)
    sber_api.fail_next(503, {"error": "down"})
    with pytest.raises(PaymentError):
        await sber.create_payment("A-10240", 8990, "RUB")


async def test_status_paid_and_unknown(sber_api: Emulator) -> None:
    sber = provider(sber_api)
    payment = await sber.get_payment(ORDER_ID)
    assert payment is not None and payment.state is PaymentState.SUCCEEDED
    assert payment.order_id == "A-10240" and payment.amount == 8990
    assert await sber.get_payment("nope") is None
    assert sber_api.calls[0].path == "/payment/rest/getOrderStatusExtended.do"


@pytest.fixture
async def app(
    services: Services, sber_api: Emulator, rasa: Emulator
) -> tuple[Sanic, SberProvider]:
    sber = provider(sber_api)
    payment = await sber.create_payment("A-10240", 8990, "RUB", "vk:42")
    await services.ledger.record(
        "sber", payment.payment_id, "A-10240", 8990, "RUB", "vk:42"
    )
    settlement = Settlement(services.ledger, services.orders, RasaNotifier(rasa.url))
    app = Sanic(f"sber_webhooks_{id(sber)}")
    app.blueprint(webhooks_blueprint({"sber": sber}, settlement))
    return app, sber


async def post(app: Sanic, body: bytes) -> Any:
    _, answer = await app.asgi_client.post(
        "/payments/sber/webhook",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    return answer


async def paid(store: DemoStore) -> bool:
    order = await store.get_order("A-10240")
    assert order is not None
    return order.paid


async def test_genuine_callback_pays_once(
    app: tuple[Sanic, SberProvider],
    store: DemoStore,
    rasa: Emulator,
    sber_api: Emulator,
) -> None:
    first = await post(app[0], callback())
    assert first.status == 200 and first.text == "OK"
    assert await paid(store)
    assert len(rasa.calls) == 1
    assert rasa.calls[0].raw_path == "/conversations/vk:42/trigger_intent"
    again = await post(app[0], callback())
    assert again.status == 200 and len(rasa.calls) == 1
    # Every genuine "deposited" callback was re-checked with the gateway.
    assert sber_api.paths().count("/payment/rest/getOrderStatusExtended.do") == 2


@pytest.mark.parametrize(
    "body",
    [
        callback(token="forged"),
        callback().replace(b"status=1", b"status=1&amount=1"),
        urlencode(
            {"mdOrder": ORDER_ID, "operation": "deposited", "status": "1"}
        ).encode(),
    ],
    ids=["wrong-key", "tampered", "unsigned"],
)
async def test_forged_callbacks_are_403_and_change_nothing(
    app: tuple[Sanic, SberProvider],
    store: DemoStore,
    rasa: Emulator,
    sber_api: Emulator,
    body: bytes,
) -> None:
    calls_before = len(sber_api.calls)
    answer = await post(app[0], body)
    assert answer.status == 403
    assert not await paid(store) and rasa.calls == []
    assert len(sber_api.calls) == calls_before


@pytest.mark.parametrize(
    "body", [b"", b"\xff\xfe", b"mdOrder=1&&&=", b"status=1&status=0&mdOrder=1"]
)
async def test_malformed_callbacks_are_400(
    app: tuple[Sanic, SberProvider], store: DemoStore, body: bytes
) -> None:
    assert (await post(app[0], body)).status == 400
    assert not await paid(store)


async def test_wrong_amount_is_acknowledged_and_changes_nothing(
    app: tuple[Sanic, SberProvider], store: DemoStore, rasa: Emulator, gateway: Gateway
) -> None:
    gateway.amount = 100
    answer = await post(app[0], callback())
    assert answer.status == 200
    assert not await paid(store) and rasa.calls == []


async def test_other_operations_and_unpaid_status_change_nothing(
    app: tuple[Sanic, SberProvider], store: DemoStore, rasa: Emulator, gateway: Gateway
) -> None:
    assert (await post(app[0], callback(operation="approved"))).status == 200
    assert (await post(app[0], callback(status="0"))).status == 200
    gateway.status = 0
    assert (await post(app[0], callback())).status == 200
    assert not await paid(store) and rasa.calls == []


async def test_gateway_down_is_not_acknowledged(
    app: tuple[Sanic, SberProvider], store: DemoStore, sber_api: Emulator
) -> None:
    app[1].client.retry = RetryPolicy(max_attempts=1)
    sber_api.fail_next(502, {"error": "down"})
    assert (await post(app[0], callback())).status == 503
    assert not await paid(store)
