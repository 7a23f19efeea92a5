"""The Wildberries order source against a Seller API emulator on loopback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.base import (
    OperationUnsupported,
    OrderNotChangeable,
    OrderSourceError,
    OrderState,
)
from actions.integrations.registry import build_sources, read_source_configs
from actions.integrations.wildberries import (
    WildberriesConfig,
    WildberriesSource,
    map_status,
)
from actions.settings import SettingsError
from common.http import RetryPolicy
from common.settings import Reader
from tests.emulators import Emulator
from tests.marketplace_emulators import UTC, WildberriesApi, wb_task

TOKEN = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjIwMjUwNTIwdjEiLCJ0eXAiOiJKV1QifQ.test"
NOW = datetime(2026, 5, 20, 12, 0, 0, tzinfo=UTC)
TASK = 13833711

Factory = Callable[[Any], Awaitable[Emulator]]
Make = Callable[..., WildberriesSource]


def local(moment: datetime) -> datetime:
    return moment.astimezone().replace(tzinfo=None)


@pytest.fixture
def api() -> WildberriesApi:
    wb = WildberriesApi(TOKEN)
    wb.add(wb_task(TASK, NOW - timedelta(days=3)), "confirm", "waiting")
    return wb


@pytest.fixture
async def emulator(emulator_factory: Factory, api: WildberriesApi) -> Emulator:
    return await emulator_factory(api)


@pytest.fixture
async def make(emulator: Emulator) -> AsyncIterator[Make]:
    """Builds sources pointed at the emulator; closes their sessions afterwards."""
    made: list[WildberriesSource] = []

    def build(token: str = TOKEN, **options: Any) -> WildberriesSource:
        wb = WildberriesSource(
            token,
            marketplace_url=emulator.url,
            retry=RetryPolicy(max_attempts=3, base_delay_s=0.01),
            clock=lambda: NOW,
            **options,
        )
        made.append(wb)
        return wb

    yield build
    for wb in made:
        await wb.close()


async def test_an_order_is_its_status_plus_its_details(
    emulator: Emulator, make: Make
) -> None:
    wb = make()
    order = await wb.get_order(str(TASK))

    status, listing = emulator.calls
    assert (status.method, status.path, status.json) == (
        "POST",
        "/api/v3/orders/status",
        {"orders": [TASK]},
    )
    assert (listing.method, listing.path) == ("GET", "/api/v3/orders")
    assert listing.query == {
        "limit": "1000",
        "next": "0",
        "dateFrom": str(int((NOW - timedelta(days=30)).timestamp())),
        "dateTo": str(int(NOW.timestamp())),
    }
    assert {c.headers["Authorization"] for c in emulator.calls} == {TOKEN}

    assert order is not None
    assert order.order_id == str(TASK) and order.channel == "wildberries"
    assert order.state is OrderState.PROCESSING
    assert order.created_at == local(NOW - timedelta(days=3))
    assert (order.total, order.currency, order.paid) == (4590, "RUB", True)
    assert order.address == "Коледино"
    assert order.carrier is None and order.tracking_number is None
    (item,) = order.items
    assert (item.sku, item.title_ru, item.quantity, item.price) == (
        "sneakers-aero-42-white",
        "sneakers-aero-42-white",
        1,
        4590,
    )


@pytest.mark.parametrize(
    ("supplier", "wb", "state"),
    [
        ("new", "waiting", OrderState.PROCESSING),
        ("confirm", "waiting", OrderState.PROCESSING),
        ("complete", "waiting", OrderState.SHIPPED),
        ("complete", "sorted", OrderState.SHIPPED),
        ("complete", "sent_to_carrier", OrderState.SHIPPED),
        ("complete", "ready_for_pickup", OrderState.READY_FOR_PICKUP),
        ("complete", "sold", OrderState.DELIVERED),
        ("receive", "sold", OrderState.DELIVERED),
        ("cancel", "canceled", OrderState.CANCELLED),
        ("new", "declined_by_client", OrderState.CANCELLED),
        ("complete", "canceled_by_client", OrderState.CANCELLED),
        ("complete", "defect", OrderState.CANCELLED),
        ("somethingnew", "", OrderState.PROCESSING),
    ],
)
def test_statuses_map_to_order_states(
    supplier: str, wb: str, state: OrderState
) -> None:
    assert map_status(supplier, wb) is state


async def test_a_shipped_order_names_the_carrier(
    emulator: Emulator, api: WildberriesApi, make: Make
) -> None:
    api.statuses[TASK] = ("complete", "sorted")
    order = await make().get_order(str(TASK))
    assert order is not None and order.state is OrderState.SHIPPED
    assert order.carrier == "Wildberries"


async def test_an_unknown_number_costs_one_status_call(
    emulator: Emulator, make: Make
) -> None:
    assert await make().get_order("99999999") is None
    assert emulator.paths() == ["/api/v3/orders/status"]


async def test_a_404_means_not_found(emulator: Emulator, make: Make) -> None:
    emulator.fail_next(404, {"title": "path not found", "status": 404})
    assert await make().get_order(str(TASK)) is None


async def test_details_are_paged_with_the_next_cursor(
    emulator: Emulator, api: WildberriesApi, make: Make
) -> None:
    for offset in range(1, 5):  # four earlier tasks in the same window
        api.add(wb_task(TASK - 10 * offset, NOW - timedelta(days=4)), "new", "waiting")
    order = await make(page_limit=2).get_order(str(TASK))
    assert order is not None and order.order_id == str(TASK)
    pages = [c.query["next"] for c in emulator.calls if c.path == "/api/v3/orders"]
    assert pages == ["0", str(TASK - 30), str(TASK - 10)]


async def test_older_orders_are_found_window_by_window(
    emulator: Emulator, api: WildberriesApi, make: Make
) -> None:
    old = 11000001
    api.add(wb_task(old, NOW - timedelta(days=45)), "complete", "sold")
    order = await make().get_order(str(old))
    assert order is not None and order.state is OrderState.DELIVERED
    windows = [
        (int(c.query["dateFrom"]), int(c.query["dateTo"]))
        for c in emulator.calls
        if c.path == "/api/v3/orders"
    ]
    day = 86400
    end = int(NOW.timestamp())
    assert windows == [(end - 30 * day, end), (end - 60 * day, end - 30 * day)]


async def test_an_order_older_than_the_lookback_is_not_found(
    emulator: Emulator, api: WildberriesApi, make: Make
) -> None:
    api.add(wb_task(11000002, NOW - timedelta(days=100)), "complete", "sold")
    assert await make(lookback_days=90).get_order("11000002") is None
    assert len([c for c in emulator.calls if c.path == "/api/v3/orders"]) == 3


async def test_details_are_fetched_once_and_the_status_every_time(
    emulator: Emulator, api: WildberriesApi, make: Make
) -> None:
    wb = make()
    first = await wb.get_order(str(TASK))
    api.statuses[TASK] = ("complete", "ready_for_pickup")
    second = await wb.get_order(str(TASK))
    assert first is not None and second is not None
    assert second.state is OrderState.READY_FOR_PICKUP
    assert emulator.paths() == [
        "/api/v3/orders/status",
        "/api/v3/orders",
        "/api/v3/orders/status",
    ]


async def test_a_wrong_token_is_an_order_source_error(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, make: Make
) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(OrderSourceError):
        await make(token="expired").get_order(str(TASK))
    assert len(emulator.calls) == 1  # 401 is not retried
    assert "wildberries.auth.failed" in [r.getMessage() for r in caplog.records]


async def test_rate_limit_is_retried_then_answered(
    emulator: Emulator, make: Make
) -> None:
    emulator.fail_next(
        429,
        {"title": "too many requests", "status": 429},
        {"X-Ratelimit-Retry": "0", "Retry-After": "0"},
    )
    order = await make().get_order(str(TASK))
    assert order is not None
    assert emulator.paths() == [
        "/api/v3/orders/status",
        "/api/v3/orders/status",
        "/api/v3/orders",
    ]


async def test_server_errors_give_up_after_the_retries(
    emulator: Emulator, caplog: pytest.LogCaptureFixture, make: Make
) -> None:
    for _ in range(3):
        emulator.fail_next(503, {"title": "service unavailable", "status": 503})
    with caplog.at_level(logging.ERROR), pytest.raises(OrderSourceError):
        await make().get_order(str(TASK))
    assert emulator.paths() == ["/api/v3/orders/status"] * 3
    assert "wildberries.request.failed" in [r.getMessage() for r in caplog.records]


async def test_a_new_order_is_cancelled(
    emulator: Emulator, api: WildberriesApi, make: Make
) -> None:
    api.statuses[TASK] = ("new", "waiting")
    order = await make().cancel_order(str(TASK))
    assert order.state is OrderState.CANCELLED
    cancel = next(c for c in emulator.calls if c.method == "PATCH")
    assert cancel.path == f"/api/v3/orders/{TASK}/cancel"
    assert cancel.headers["Authorization"] == TOKEN


async def test_a_shipped_order_is_not_cancelled(
    emulator: Emulator, api: WildberriesApi, make: Make
) -> None:
    api.statuses[TASK] = ("complete", "sorted")
    with pytest.raises(OrderNotChangeable) as refused:
        await make().cancel_order(str(TASK))
    assert refused.value.state is OrderState.SHIPPED
    assert "PATCH" not in {c.method for c in emulator.calls}


async def test_a_cancel_wb_refuses_keeps_the_order(
    emulator: Emulator, api: WildberriesApi, make: Make
) -> None:
    wb = make()
    await wb.get_order(str(TASK))  # details cached: the next calls are predictable
    emulator.calls.clear()
    emulator.fail_next(
        200,
        {"orders": [{"id": TASK, "supplierStatus": "confirm", "wbStatus": "waiting"}]},
    )
    emulator.fail_next(409, {"code": "StatusMismatch", "message": "mismatch"})
    with pytest.raises(OrderNotChangeable) as refused:
        await wb.cancel_order(str(TASK))
    assert refused.value.state is OrderState.PROCESSING
    assert [c.method for c in emulator.calls] == ["POST", "PATCH", "POST"]


async def test_what_the_shopper_does_in_the_app_is_unsupported(
    emulator: Emulator, make: Make
) -> None:
    wb = make()
    for call in (
        wb.change_address(str(TASK), "Москва, ул. Ленина, 1"),
        wb.start_return(str(TASK)),
        wb.get_returns(str(TASK)),
        wb.get_refunds(str(TASK)),
        wb.mark_paid(str(TASK)),
    ):
        with pytest.raises(OperationUnsupported) as unsupported:
            await call
        assert unsupported.value.source == "wildberries"
    assert await wb.find_products("кроссовки") == []
    assert emulator.calls == []


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="WB_API_TOKEN: required when"):
        WildberriesSource.from_config(WildberriesConfig.from_env(Reader({})))
    with pytest.raises(SettingsError, match="WB_MARKETPLACE_URL"):
        WildberriesSource.from_config(
            WildberriesConfig.from_env(
                Reader({"WB_API_TOKEN": TOKEN, "WB_MARKETPLACE_URL": "ftp://x"})
            )
        )
    with pytest.raises(SettingsError, match="WB_LOOKBACK_DAYS"):
        WildberriesSource.from_config(
            WildberriesConfig.from_env(
                Reader({"WB_API_TOKEN": TOKEN, "WB_LOOKBACK_DAYS": "0"})
            )
        )
    built, demo = build_sources(
        ("wildberries",),
        tmp_path / "demo.sqlite",
        read_source_configs(("wildberries",), Reader({"WB_API_TOKEN": TOKEN})),
    )
    assert isinstance(built, WildberriesSource) and demo is None
    assert built.client.base_url == "https://marketplace-api.wildberries.ru"
    assert built.client.timeout.total == 10.0 and built.lookback_days == 90
