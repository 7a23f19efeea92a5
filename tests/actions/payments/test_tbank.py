"""T-Bank against a loopback emulator of Internet Acquiring v2, and its signed
notifications through the real webhook route."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from sanic import Sanic

from actions.integrations.demo_store import DemoStore
from actions.payments.base import PaymentError, PaymentState
from actions.payments.settlement import Settlement
from actions.payments.tbank import TBankConfig, TBankProvider, make_token
from actions.payments.webhooks import webhooks_blueprint
from actions.proactive.notifier import RasaNotifier
from actions.settings import SettingsError
from common.settings import Reader
from tests.emulators import Call, Emulator

TERMINAL, PASSWORD = "1696935466962DEMO", "tbank_test_password"


def reference_token(params: dict[str, Any], password: str) -> str:
    """The documented algorithm, written out independently of the provider."""
    pairs = [
        (key, str(value).lower() if isinstance(value, bool) else str(value))
        for key, value in params.items()
        if key != "Token" and not isinstance(value, dict | list)
    ]
    pairs.append(("Password", password))
    return hashlib.sha256(
        "".join(value for _, value in sorted(pairs)).encode()
    ).hexdigest()


def test_token_matches_the_documented_example() -> None:
    params = {
        "TerminalKey": "MerchantTerminalKey",
        "Amount": 19200,
        "OrderId": "00000",
        "Description": "Подарочная карта на 1000 рублей",
        "DATA": {"Phone": "+71234567890"},
        "Receipt": {"Items": [{"Name": "x"}]},
    }
    joined = (
        "19200" + "Подарочная карта на 1000 рублей" + "00000" + "11111111111111"
    ) + "MerchantTerminalKey"
    expected = hashlib.sha256(joined.encode()).hexdigest()
    assert make_token(params, "11111111111111") == expected
    assert make_token({**params, "Token": "ignored"}, "11111111111111") == expected
    assert (
        make_token({"Success": True}, "p") == hashlib.sha256(b"ptrue").hexdigest()
    )  # Password < Success


class TBankApi:
    """Init/GetState answered like the gateway; every Token checked."""

    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}

    def __call__(self, call: Call) -> Any:
        body = call.json or {}
        if body.get("TerminalKey") != TERMINAL:
            raise web.HTTPUnauthorized(
                text=json.dumps({"Success": False, "ErrorCode": "202"}),
                content_type="application/json",
            )
        if body.get("Token") != reference_token(body, PASSWORD):
            return {
                "Success": False,
                "ErrorCode": "204",
                "Message": "Неверный токен",
            }
        if call.path == "/v2/Init":
            payment_id = str(3372975894 + len(self.payments))
            self.payments[payment_id] = {
                "OrderId": body["OrderId"],
                "Amount": body["Amount"],
                "Status": "NEW",
            }
            return {
                "Success": True,
                "ErrorCode": "0",
                "TerminalKey": TERMINAL,
                "Status": "NEW",
                "PaymentId": payment_id,
                "OrderId": body["OrderId"],
                "Amount": body["Amount"],
                "PaymentURL": f"https://securepay.tinkoff.ru/new/{payment_id}",
            }
        if call.path == "/v2/GetState":
            payment = self.payments[str(body["PaymentId"])]
            return {
                "Success": True,
                "ErrorCode": "0",
                "TerminalKey": TERMINAL,
                "PaymentId": str(body["PaymentId"]),
                **payment,
            }
        raise web.HTTPNotFound()


@pytest.fixture
async def api(emulator_factory: Any) -> tuple[TBankApi, Emulator]:
    state = TBankApi()
    return state, await emulator_factory(state)


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


OPENED: list[TBankProvider] = []


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    while OPENED:
        await OPENED.pop().client.close()


def provider_for(emulator: Emulator, **env: str) -> TBankProvider:
    base = {
        "TBANK_TERMINAL_KEY": TERMINAL,
        "TBANK_PASSWORD": PASSWORD,
        "TBANK_API_URL": f"{emulator.url}/v2",
    }
    provider = TBankProvider.from_config(
        TBankConfig.from_env(Reader({**base, **env}), "https://bot.example.com/")
    )
    OPENED.append(provider)
    return provider


def test_from_env_requires_credentials() -> None:
    with pytest.raises(SettingsError, match="TBANK_TERMINAL_KEY"):
        TBankProvider.from_config(
            TBankConfig.from_env(Reader({"TBANK_PASSWORD": "x"}), "https://b")
        )
    with pytest.raises(SettingsError, match="TBANK_PASSWORD"):
        TBankProvider.from_config(
            TBankConfig.from_env(Reader({"TBANK_TERMINAL_KEY": "x"}), "https://b")
        )
    provider = TBankProvider.from_config(
        TBankConfig.from_env(
            Reader({"TBANK_TERMINAL_KEY": "t", "TBANK_PASSWORD": "p"}), "https://b"
        )
    )
    assert provider.client.base_url == "https://securepay.tinkoff.ru/v2"
    assert provider.notification_url == "https://b/payments/tbank/webhook"


async def test_init_is_signed_in_kopecks_and_get_state_reads_it(
    api: tuple[TBankApi, Emulator],
) -> None:
    state, emulator = api
    provider = provider_for(emulator)
    payment = await provider.create_payment("A-10240", 8990, "RUB", "vk:42")

    (init,) = emulator.calls
    assert init.path == "/v2/Init"
    assert init.json["Token"] == reference_token(init.json, PASSWORD)
    assert init.json["TerminalKey"] == TERMINAL
    assert init.json["Amount"] == 899000
    assert init.json["OrderId"].startswith("A-10240-")
    assert len(init.json["OrderId"]) <= 36
    assert init.json["PayType"] == "O"
    assert init.json["NotificationURL"] == (
        "https://bot.example.com/payments/tbank/webhook"
    )
    assert "Password" not in init.json
    assert payment.payment_id == "3372975894"
    assert payment.url == "https://securepay.tinkoff.ru/new/3372975894"
    assert payment.amount == 8990 and payment.state is PaymentState.PENDING

    second = await provider.create_payment("A-10240", 8990, "RUB")
    assert emulator.calls[1].json["OrderId"] != init.json["OrderId"]
    assert second.payment_id != payment.payment_id

    state.payments[payment.payment_id]["Status"] = "CONFIRMED"
    fetched = await provider.get_payment(payment.payment_id)
    get_state = emulator.calls[-1]
    assert get_state.path == "/v2/GetState"
    assert get_state.json["Token"] == reference_token(get_state.json, PASSWORD)
    assert fetched is not None and fetched.state is PaymentState.SUCCEEDED
    assert fetched.order_id == "A-10240" and fetched.amount == 8990


async def test_wrong_credentials_are_a_payment_error(
    api: tuple[TBankApi, Emulator],
) -> None:
    _, emulator = api
    with pytest.raises(PaymentError, match="code 204"):
        await provider_for(emulator, TBANK_PASSWORD="wrong").create_payment(
            "A-10240", 8990, "RUB"
        )
    with pytest.raises(PaymentError, match="status 401"):
        await provider_for(emulator, TBANK_TERMINAL_KEY="other").create_payment(
            "A-10240", 8990, "RUB"
        )
    assert len(emulator.calls) == 2  # neither is retried


# --- notifications through the real route -----------------------------------


@pytest.fixture
async def link(
    api: tuple[TBankApi, Emulator], services: Any, rasa: Emulator
) -> dict[str, Any]:
    _, emulator = api
    provider = provider_for(emulator)
    payment = await provider.create_payment("A-10240", 8990, "RUB", "vk:42")
    await services.ledger.record(
        "tbank", payment.payment_id, "A-10240", 8990, "RUB", "vk:42"
    )
    settlement = Settlement(services.ledger, services.orders, RasaNotifier(rasa.url))
    app = Sanic(f"tbank_{uuid.uuid4().hex}")
    app.blueprint(webhooks_blueprint({"tbank": provider}, settlement))
    return {"payment": payment, "app": app}


def notification(
    payment_id: str,
    status: str = "CONFIRMED",
    amount: int = 899000,
    password: str = PASSWORD,
) -> bytes:
    body: dict[str, Any] = {
        "TerminalKey": TERMINAL,
        "OrderId": "A-10240-0a1b2c3d",
        "Success": True,
        "Status": status,
        "PaymentId": int(payment_id),
        "ErrorCode": "0",
        "Amount": amount,
        "CardId": 357089169,
        "Pan": "528041******0988",
        "ExpDate": "1029",
        "DATA": {"source": "cards"},
    }
    body["Token"] = reference_token(body, password)
    return json.dumps(body).encode()


async def paid(store: DemoStore) -> bool:
    order = await store.get_order("A-10240")
    assert order is not None
    return order.paid


async def test_genuine_notification_pays_once_and_answers_ok(
    link: dict[str, Any], store: DemoStore, rasa: Emulator
) -> None:
    client = link["app"].asgi_client
    body = notification(link["payment"].payment_id)
    _, first = await client.post("/payments/tbank/webhook", content=body)
    assert first.status == 200 and first.text == "OK"
    assert first.headers["content-type"].startswith("text/plain")
    assert await paid(store)
    _, again = await client.post("/payments/tbank/webhook", content=body)
    assert again.status == 200 and again.text == "OK"
    (told,) = rasa.calls
    assert told.raw_path == "/conversations/vk:42/trigger_intent"


@pytest.mark.parametrize("forgery", ["password", "tampered", "missing", "terminal"])
async def test_forged_notification_is_403(
    link: dict[str, Any], store: DemoStore, rasa: Emulator, forgery: str
) -> None:
    payment_id = link["payment"].payment_id
    if forgery == "password":
        body = notification(payment_id, password="guess")
    else:
        data = json.loads(notification(payment_id))
        if forgery == "tampered":
            data["Amount"] = 100  # signed for 899000
        elif forgery == "missing":
            del data["Token"]
        else:
            data["TerminalKey"] = "other"
            data["Token"] = reference_token(data, PASSWORD)
        body = json.dumps(data).encode()
    _, response = await link["app"].asgi_client.post(
        "/payments/tbank/webhook", content=body
    )
    assert response.status == 403
    assert not await paid(store) and rasa.calls == []


async def test_wrong_amount_is_acknowledged_and_changes_nothing(
    link: dict[str, Any], store: DemoStore, rasa: Emulator
) -> None:
    body = notification(link["payment"].payment_id, amount=100)
    _, response = await link["app"].asgi_client.post(
        "/payments/tbank/webhook", content=body
    )
    assert response.status == 200 and response.text == "OK"
    assert not await paid(store) and rasa.calls == []


@pytest.mark.parametrize("status", ["AUTHORIZED", "REJECTED", "NEW"])
async def test_other_statuses_are_acknowledged(
    link: dict[str, Any], store: DemoStore, rasa: Emulator, status: str
) -> None:
    body = notification(link["payment"].payment_id, status=status)
    _, response = await link["app"].asgi_client.post(
        "/payments/tbank/webhook", content=body
    )
    assert response.status == 200 and response.text == "OK"
    assert not await paid(store) and rasa.calls == []


@pytest.mark.parametrize("body", [b"{not json", b"[1]"])
async def test_malformed_notification_is_400(
    link: dict[str, Any], store: DemoStore, body: bytes
) -> None:
    _, response = await link["app"].asgi_client.post(
        "/payments/tbank/webhook", content=body
    )
    assert response.status == 400
    assert not await paid(store)
