"""The Ozon order source against a Seller API emulator on loopback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from actions.integrations import ozon as ozon_module
from actions.integrations.base import (
    OperationUnsupported,
    OrderNotChangeable,
    OrderSourceError,
    OrderState,
    RefundState,
    ReturnState,
)
from actions.integrations.ozon import OzonConfig, OzonSource, map_status, posting_number
from actions.integrations.registry import build_sources, read_source_configs
from actions.settings import SettingsError
from common.http import RetryPolicy
from common.settings import Reader
from tests.emulators import Emulator
from tests.marketplace_emulators import (
    UTC,
    OzonApi,
    ozon_fbo_posting,
    ozon_posting,
    ozon_return,
)

CLIENT_ID = "836120"
API_KEY = "1e2f3a4b-5c6d-7e8f-9a0b-1c2d3e4f5a6b"
POSTING = "48213307-0051-1"
FBO = "73109944-0007-1"

Factory = Callable[[Any], Awaitable[Emulator]]
Make = Callable[..., OzonSource]


def local(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return moment.astimezone().replace(tzinfo=None)


@pytest.fixture
def api() -> OzonApi:
    ozon = OzonApi(CLIENT_ID, API_KEY)
    ozon.fbs[POSTING] = ozon_posting(
        POSTING,
        "delivering",
        "posting_on_way_to_city",
        tracking="0200000000012",
        products=[
            {
                "price": "4590.0000",
                "offer_id": "sneakers-aero-42-white",
                "name": "Кроссовки Aero, белые, 42",
                "sku": 1100526203,
                "quantity": 1,
                "currency_code": "RUB",
            },
            {
                "price": "349.50",
                "offer_id": "socks-sport-3",
                "name": "Носки спортивные, 3 пары",
                "sku": 1100526999,
                "quantity": 2,
                "currency_code": "RUB",
            },
        ],
    )
    ozon.fbo[FBO] = ozon_fbo_posting(FBO, "delivered")
    return ozon


@pytest.fixture
async def emulator(emulator_factory: Factory, api: OzonApi) -> Emulator:
    return await emulator_factory(api)


@pytest.fixture
async def make(emulator: Emulator) -> AsyncIterator[Make]:
    made: list[OzonSource] = []

    def build(client_id: str = CLIENT_ID, api_key: str = API_KEY) -> OzonSource:
        source = OzonSource(
            client_id,
            api_key,
            api_url=emulator.url,
            retry=RetryPolicy(max_attempts=3, base_delay_s=0.01),
        )
        made.append(source)
        return source

    yield build
    for source in made:
        await source.close()


async def test_an_fbs_posting_maps_to_an_order(emulator: Emulator, make: Make) -> None:
    order = await make().get_order(POSTING)

    (call,) = emulator.calls
    assert (call.method, call.path) == ("POST", "/v3/posting/fbs/get")
    assert call.json == {
        "posting_number": POSTING,
        "with": {
            "analytics_data": True,
            "barcodes": False,
            "financial_data": False,
            "translit": False,
        },
    }
    assert call.headers["Client-Id"] == CLIENT_ID
    assert call.headers["Api-Key"] == API_KEY

    assert order is not None
    assert (order.order_id, order.channel) == (POSTING, "ozon")
    assert order.state is OrderState.SHIPPED
    assert order.created_at == local("2026-05-13T07:07:32.657Z")
    assert order.expected_delivery == local("2026-05-16T18:00:00Z").date()
    assert (order.total, order.currency, order.paid) == (5289, "RUB", True)
    assert order.carrier == "Ozon Логистика"
    assert order.tracking_number == "0200000000012"
    assert order.address == "Москва"
    assert [(i.sku, i.title_ru, i.quantity, i.price) for i in order.items] == [
        ("sneakers-aero-42-white", "Кроссовки Aero, белые, 42", 1, 4590),
        ("socks-sport-3", "Носки спортивные, 3 пары", 2, 350),
    ]


async def test_an_order_number_is_looked_up_as_its_first_posting(
    emulator: Emulator, make: Make
) -> None:
    order = await make().get_order("48213307-0051")
    assert order is not None and order.order_id == POSTING
    assert emulator.calls[0].json["posting_number"] == POSTING
    assert posting_number(POSTING) == POSTING


async def test_an_fbo_posting_is_found_after_fbs(
    emulator: Emulator, make: Make
) -> None:
    order = await make().get_order(FBO)
    assert emulator.paths() == ["/v3/posting/fbs/get", "/v2/posting/fbo/get"]
    assert emulator.calls[1].json == {
        "posting_number": FBO,
        "translit": False,
        "with": {"analytics_data": True, "financial_data": False},
    }
    assert order is not None and order.state is OrderState.DELIVERED
    assert order.created_at == local("2026-04-02T09:15:00Z")
    assert order.expected_delivery is None and order.delivered_at is None
    assert (order.total, order.address) == (3981, "Санкт-Петербург")
    (item,) = order.items
    assert (item.sku, item.quantity, item.price) == ("backpack-city-black", 2, 1991)


async def test_an_unknown_posting_is_none(emulator: Emulator, make: Make) -> None:
    assert await make().get_order("11111111-0001-1") is None
    assert emulator.paths() == ["/v3/posting/fbs/get", "/v2/posting/fbo/get"]


@pytest.mark.parametrize(
    ("status", "substatus", "state"),
    [
        ("awaiting_packaging", "posting_created", OrderState.PROCESSING),
        ("awaiting_deliver", "posting_transferring_to_delivery", OrderState.PROCESSING),
        ("acceptance_in_progress", "", OrderState.PROCESSING),
        ("delivering", "posting_on_way_to_city", OrderState.SHIPPED),
        ("driver_pickup", "posting_driver_pick_up", OrderState.SHIPPED),
        ("delivering", "posting_in_pickup_point", OrderState.READY_FOR_PICKUP),
        ("delivering", "posting_conditionally_delivered", OrderState.DELIVERED),
        ("delivered", "posting_received", OrderState.DELIVERED),
        ("cancelled", "posting_canceled", OrderState.CANCELLED),
        ("cancelled_from_split_pending", "", OrderState.CANCELLED),
        ("brand_new_status", "", OrderState.PROCESSING),
    ],
)
def test_statuses_map_to_order_states(
    status: str, substatus: str, state: OrderState
) -> None:
    assert map_status(status, substatus) is state


async def test_returns_are_listed_by_posting_number(
    emulator: Emulator, make: Make, api: OzonApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ozon_module, "RETURNS_PAGE", 2)
    api.returns = [
        ozon_return(101, POSTING, "MovingToSeller", "2026-05-18T10:00:00Z"),
        ozon_return(102, POSTING, "Rejected", "2026-05-19T10:00:00Z"),
        ozon_return(
            103, POSTING, "Cancelled", "2026-05-17T10:00:00Z", kind="Cancellation"
        ),
        ozon_return(104, POSTING, "ReceivedBySeller", "2026-05-21T10:00:00Z"),
        ozon_return(105, "99999999-0001-1", "MovingToSeller"),
    ]
    returns = await make().get_returns(POSTING)
    assert [(r.return_id, r.state) for r in returns] == [
        ("104", ReturnState.RECEIVED),
        ("102", ReturnState.REJECTED),
        ("101", ReturnState.REQUESTED),
    ]
    assert returns[0].order_id == POSTING
    assert returns[0].created_at == local("2026-05-21T10:00:00Z")
    bodies = [c.json for c in emulator.calls]
    assert bodies == [
        {"filter": {"posting_numbers": [POSTING]}, "limit": 2, "last_id": 0},
        {"filter": {"posting_numbers": [POSTING]}, "limit": 2, "last_id": 102},
    ]


async def test_refunds_are_derived_from_returns(make: Make, api: OzonApi) -> None:
    api.returns = [
        ozon_return(
            201,
            POSTING,
            "MoneyReturned",
            "2026-05-18T10:00:00Z",
            change_moment="2026-05-25T08:00:00Z",
            price=349.5,
            quantity=2,
        ),
        ozon_return(202, POSTING, "ReturnMoneyApproved", "2026-05-20T10:00:00Z"),
        ozon_return(203, POSTING, "MovingToSeller", "2026-05-21T10:00:00Z"),
    ]
    refunds = await make().get_refunds(POSTING)
    assert [(r.refund_id, r.state, r.amount, r.currency) for r in refunds] == [
        ("202", RefundState.PENDING, 4590, "RUB"),
        ("201", RefundState.COMPLETED, 699, "RUB"),
    ]
    assert refunds[0].completed_at is None and refunds[0].expected_by is None
    assert refunds[1].completed_at == local("2026-05-25T08:00:00Z")


async def test_wrong_keys_are_an_order_source_error(
    emulator: Emulator, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(OrderSourceError):
        await make(api_key="revoked").get_order(POSTING)
    assert len(emulator.calls) == 1  # 403 is not retried, FBO is not tried
    assert "ozon.auth.failed" in [r.getMessage() for r in caplog.records]


async def test_an_unauthorized_answer_is_an_auth_failure(
    emulator: Emulator, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.fail_next(401, {"code": 16, "message": "Unauthenticated"})
    with caplog.at_level(logging.ERROR), pytest.raises(OrderSourceError):
        await make().get_order(POSTING)
    assert "ozon.auth.failed" in [r.getMessage() for r in caplog.records]


async def test_rate_limit_is_retried_then_answered(
    emulator: Emulator, make: Make
) -> None:
    emulator.fail_next(
        429,
        {
            "code": 8,
            "message": "You have reached request rate limit per second",
            "details": [],
        },
    )
    order = await make().get_order(POSTING)
    assert order is not None
    assert emulator.paths() == ["/v3/posting/fbs/get"] * 2


async def test_server_errors_give_up_after_the_retries(
    emulator: Emulator, make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        emulator.fail_next(500, {"code": 13, "message": "internal error"})
    with caplog.at_level(logging.ERROR), pytest.raises(OrderSourceError):
        await make().get_order(POSTING)
    assert emulator.paths() == ["/v3/posting/fbs/get"] * 3
    assert "ozon.request.failed" in [r.getMessage() for r in caplog.records]


async def test_an_fbs_posting_awaiting_packaging_is_cancelled(
    emulator: Emulator, make: Make, api: OzonApi
) -> None:
    api.fbs[POSTING].update(status="awaiting_packaging", substatus="posting_created")
    order = await make().cancel_order(POSTING)
    assert order.state is OrderState.CANCELLED
    assert emulator.paths() == [
        "/v3/posting/fbs/get",
        "/v2/posting/fbs/cancel",
        "/v3/posting/fbs/get",
    ]
    assert emulator.calls[1].json == {
        "cancel_reason_id": 402,
        "cancel_reason_message": ozon_module.CANCEL_MESSAGE,
        "posting_number": POSTING,
    }


async def test_a_posting_on_its_way_is_not_cancelled(
    emulator: Emulator, make: Make
) -> None:
    with pytest.raises(OrderNotChangeable) as refused:
        await make().cancel_order(POSTING)
    assert refused.value.state is OrderState.SHIPPED
    assert "/v2/posting/fbs/cancel" not in emulator.paths()


async def test_a_refused_cancel_keeps_the_order(
    emulator: Emulator, make: Make, api: OzonApi
) -> None:
    api.fbs[POSTING].update(status="awaiting_deliver")
    ozon = make()
    emulator.fail_next(200, {"result": api.fbs[POSTING]})
    emulator.fail_next(400, {"code": 3, "message": "HAS_INCORRECT_CANCEL_REASON"})
    with pytest.raises(OrderNotChangeable) as refused:
        await ozon.cancel_order(POSTING)
    assert refused.value.state is OrderState.PROCESSING
    assert emulator.paths() == [
        "/v3/posting/fbs/get",
        "/v2/posting/fbs/cancel",
        "/v3/posting/fbs/get",
    ]
    assert api.fbs[POSTING]["status"] == "awaiting_deliver"


async def test_fbo_postings_are_cancelled_in_the_ozon_app(
    make: Make, api: OzonApi
) -> None:
    api.fbo[FBO]["status"] = "awaiting_packaging"
    with pytest.raises(OperationUnsupported):
        await make().cancel_order(FBO)


async def test_what_the_shopper_does_in_the_app_is_unsupported(
    emulator: Emulator, make: Make
) -> None:
    ozon = make()
    for call in (
        ozon.change_address(POSTING, "Москва, ул. Ленина, 1"),
        ozon.start_return(POSTING),
        ozon.mark_paid(POSTING),
    ):
        with pytest.raises(OperationUnsupported) as unsupported:
            await call
        assert unsupported.value.source == "ozon"
    assert emulator.calls == []


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="OZON_CLIENT_ID: required when"):
        OzonSource.from_config(OzonConfig.from_env(Reader({"OZON_API_KEY": API_KEY})))
    with pytest.raises(SettingsError, match="OZON_API_KEY: required when"):
        OzonSource.from_config(
            OzonConfig.from_env(Reader({"OZON_CLIENT_ID": CLIENT_ID}))
        )
    with pytest.raises(SettingsError, match="OZON_TIMEOUT_S"):
        OzonSource.from_config(
            OzonConfig.from_env(
                Reader(
                    {
                        "OZON_CLIENT_ID": CLIENT_ID,
                        "OZON_API_KEY": API_KEY,
                        "OZON_TIMEOUT_S": "x",
                    }
                )
            )
        )
    built, _ = build_sources(
        ("ozon",),
        tmp_path / "demo.sqlite",
        read_source_configs(
            ("ozon",), Reader({"OZON_CLIENT_ID": CLIENT_ID, "OZON_API_KEY": API_KEY})
        ),
    )
    assert isinstance(built, OzonSource)
    assert built.client.base_url == "https://api-seller.ozon.ru"
    assert built.headers == {"Client-Id": CLIENT_ID, "Api-Key": API_KEY}
