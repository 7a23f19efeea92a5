"""ShopifySource against a loopback Shopify Admin GraphQL endpoint."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.base import (
    OperationUnsupported,
    Order,
    OrderItem,
    OrderNotChangeable,
    OrderSourceError,
    OrderState,
    Refund,
    RefundState,
)
from actions.integrations.registry import build_sources, read_source_configs
from actions.integrations.shopify import (
    CANCEL_MUTATION,
    CUSTOMER_ORDERS_QUERY,
    CUSTOMERS_QUERY,
    ORDER_QUERY,
    REFUNDS_QUERY,
    STAFF_NOTE,
    ShopifyConfig,
    ShopifySource,
)
from actions.settings import SettingsError
from common.http import RetryPolicy
from common.settings import Reader
from tests.actions.integrations.shopify_store import (
    TOKEN,
    ShopifyStore,
    fulfilment,
    order,
    throttled,
)
from tests.emulators import Emulator

FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)
GRAPHQL = "/admin/api/2025-01/graphql.json"
Factory = Callable[[Callable[..., Any]], Any]
_OPEN: list[ShopifySource] = []


@pytest.fixture(autouse=True)
async def _close_sources() -> AsyncIterator[None]:
    yield
    while _OPEN:
        await _OPEN.pop().close()


def local(value: str) -> datetime:
    return (
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        .astimezone()
        .replace(tzinfo=None)
    )


@pytest.fixture
def store() -> ShopifyStore:
    store = ShopifyStore()
    store.add(order(1001, fulfillment="FULFILLED", fulfillments=[fulfilment()]))
    store.add(order(1002, financial="PENDING"))
    store.add(order(1003))
    store.add(order("A-10234"))
    return store


async def _start(
    factory: Factory, store: ShopifyStore, token: str = TOKEN
) -> tuple[Emulator, ShopifySource]:
    emulator = await factory(store)
    source = ShopifySource(emulator.url, token, retry=FAST)
    _OPEN.append(source)
    return emulator, source


async def test_a_shipped_order_is_found_by_its_name(
    emulator_factory: Factory, store: ShopifyStore
) -> None:
    emulator, source = await _start(emulator_factory, store)

    found = await source.get_order("#1001")

    assert emulator.paths() == [GRAPHQL]
    call = emulator.calls[0]
    assert call.method == "POST"
    assert call.headers["X-Shopify-Access-Token"] == TOKEN
    assert call.headers["Content-Type"].startswith("application/json")
    assert call.json == {"query": ORDER_QUERY, "variables": {"q": "name:#1001"}}
    assert found == Order(
        order_id="1001",
        channel="shopify",
        state=OrderState.SHIPPED,
        created_at=local("2025-01-10T09:30:00Z"),
        expected_delivery=local("2025-01-15T12:00:00Z").date(),
        delivered_at=None,
        total=5980,
        currency="RUB",
        paid=True,
        address="ул. Тверская, 7, Москва, 125009, Россия",
        carrier="СДЭК",
        tracking_number="1Z999AA10123456784",
        items=(
            OrderItem(
                "SNK-001-42",
                "Кроссовки Runner - 42",
                "Кроссовки Runner - 42",
                "42",
                None,
                1,
                5490,
            ),
            OrderItem("", "Носки", "Носки", None, None, 2, 245),
        ),
    )


async def test_the_buyers_email_is_read_for_the_one_time_code(
    emulator_factory: Factory,
) -> None:
    store = ShopifyStore()
    store.add(order(1004, email="anna.petrova@example.ru"))
    store.add(order(1005))  # taken without an e-mail (POS, draft order)
    emulator, source = await _start(emulator_factory, store)

    with_email = await source.get_order("1004")
    without = await source.get_order("1005")

    assert "email" in emulator.calls[0].json["query"].split()
    assert with_email is not None and without is not None
    assert with_email.customer_email == "anna.petrova@example.ru"
    assert without.customer_email is None
    assert with_email.customer_phone is None  # the phone is never read


@pytest.mark.parametrize(
    ("fields", "state", "paid"),
    [
        ({"financial": "PENDING"}, OrderState.AWAITING_PAYMENT, False),
        ({"financial": "PARTIALLY_PAID"}, OrderState.AWAITING_PAYMENT, False),
        ({"financial": "PAID"}, OrderState.PROCESSING, True),
        ({"financial": "AUTHORIZED"}, OrderState.PROCESSING, True),
        ({"fulfillment": "IN_PROGRESS"}, OrderState.PROCESSING, True),
        (
            {"fulfillment": "FULFILLED", "fulfillments": [fulfilment()]},
            OrderState.SHIPPED,
            True,
        ),
        (
            {
                "fulfillment": "PARTIALLY_FULFILLED",
                "fulfillments": [
                    fulfilment("DELIVERED", delivered_at="2025-01-14T15:00:00Z")
                ],
            },
            OrderState.SHIPPED,
            True,
        ),
        (
            {
                "fulfillment": "FULFILLED",
                "fulfillments": [fulfilment("READY_FOR_PICKUP")],
            },
            OrderState.READY_FOR_PICKUP,
            True,
        ),
        (
            {
                "fulfillment": "FULFILLED",
                "fulfillments": [
                    fulfilment("DELIVERED", delivered_at="2025-01-14T15:00:00Z"),
                    fulfilment("PICKED_UP", delivered_at="2025-01-13T11:00:00Z"),
                ],
            },
            OrderState.DELIVERED,
            True,
        ),
        (
            {
                "fulfillment": "UNFULFILLED",
                "fulfillments": [fulfilment("CANCELED", status="CANCELLED")],
            },
            OrderState.PROCESSING,
            True,
        ),
        (
            {"financial": "REFUNDED", "cancelled_at": "2025-01-11T08:00:00Z"},
            OrderState.CANCELLED,
            True,
        ),
        (
            {"financial": "VOIDED", "cancelled_at": "2025-01-11T08:00:00Z"},
            OrderState.CANCELLED,
            False,
        ),
    ],
)
async def test_financial_and_fulfilment_status_map_to_states(
    emulator_factory: Factory, fields: dict[str, Any], state: OrderState, paid: bool
) -> None:
    store = ShopifyStore()
    store.add(order(2001, **fields))
    _, source = await _start(emulator_factory, store)

    found = await source.get_order("2001")

    assert found is not None
    assert (found.state, found.paid) == (state, paid)
    if state is OrderState.DELIVERED:
        assert found.delivered_at == local("2025-01-14T15:00:00Z")
        assert found.expected_delivery is None
    else:
        assert found.delivered_at is None


async def test_a_prefixed_order_name_is_searched_quoted(
    emulator_factory: Factory, store: ShopifyStore
) -> None:
    emulator, source = await _start(emulator_factory, store)
    found = await source.get_order("a-10234")
    assert emulator.calls[0].json["variables"] == {"q": 'name:"A-10234"'}
    assert found is not None and found.order_id == "A-10234"


async def test_an_unknown_or_different_name_is_no_order(
    emulator_factory: Factory, store: ShopifyStore
) -> None:
    emulator, source = await _start(emulator_factory, store)
    assert await source.get_order("9999") is None
    # The search answers with another order: not the one asked for.
    emulator.fail_next(
        200, {"data": {"orders": {"nodes": [order(10010)]}}, "extensions": {}}
    )
    assert await source.get_order("1001") is None
    assert await source.get_order("48213307-0051-1") is None  # an Ozon number
    assert len(emulator.calls) == 2


async def test_a_wrong_token_is_an_order_source_error(
    emulator_factory: Factory, store: ShopifyStore, caplog: pytest.LogCaptureFixture
) -> None:
    emulator, source = await _start(emulator_factory, store, token="shpat_wrong")
    with caplog.at_level(logging.ERROR), pytest.raises(OrderSourceError, match="401"):
        await source.get_order("1001")
    assert len(emulator.calls) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert "shopify.auth.failed" in messages
    for record in caplog.records:
        assert "shpat_wrong" not in f"{record.getMessage()} {record.__dict__}"


async def test_throttled_queries_are_retried_after_the_bucket_refills(
    emulator_factory: Factory, store: ShopifyStore, caplog: pytest.LogCaptureFixture
) -> None:
    emulator, source = await _start(emulator_factory, store)
    emulator.fail_next(200, throttled(requested=752, available=751.5))

    with caplog.at_level(logging.WARNING):
        found = await source.get_order("1001")

    assert found is not None and found.order_id == "1001"
    assert emulator.paths() == [GRAPHQL, GRAPHQL]
    retry = next(r for r in caplog.records if r.getMessage() == "shopify.send.retry")
    assert retry.delay_s == pytest.approx(0.01)  # (752 - 751.5) / 50 s


async def test_other_graphql_errors_are_not_retried(
    emulator_factory: Factory, store: ShopifyStore, caplog: pytest.LogCaptureFixture
) -> None:
    emulator, source = await _start(emulator_factory, store)
    emulator.fail_next(
        200,
        {
            "errors": [
                {
                    "message": "Access denied for orders field.",
                    "extensions": {"code": "ACCESS_DENIED"},
                }
            ],
            "data": None,
        },
    )
    with caplog.at_level(logging.ERROR), pytest.raises(OrderSourceError):
        await source.get_order("1001")
    assert len(emulator.calls) == 1
    failed = next(
        r for r in caplog.records if r.getMessage() == "shopify.request.failed"
    )
    assert failed.errors == ["ACCESS_DENIED"]


async def test_server_errors_are_retried_then_reported(
    emulator_factory: Factory, store: ShopifyStore
) -> None:
    emulator, source = await _start(emulator_factory, store)
    emulator.fail_next(503, {"errors": "Service Unavailable"})
    assert await source.get_order("1001") is not None
    for _ in range(FAST.max_attempts):
        emulator.fail_next(500, {"errors": "Internal Server Error"})
    with pytest.raises(OrderSourceError):
        await source.get_order("1001")
    assert len(emulator.calls) == 2 + FAST.max_attempts


async def test_an_unfulfilled_paid_order_is_cancelled_with_a_refund(
    emulator_factory: Factory, store: ShopifyStore
) -> None:
    emulator, source = await _start(emulator_factory, store)

    cancelled = await source.cancel_order("1003")

    assert len(emulator.calls) == 2
    assert emulator.calls[1].json == {
        "query": CANCEL_MUTATION,
        "variables": {
            "orderId": store.orders["#1003"]["id"],
            "refund": True,
            "restock": True,
            "staffNote": STAFF_NOTE,
        },
    }
    assert (cancelled.order_id, cancelled.state) == ("1003", OrderState.CANCELLED)
    assert cancelled.paid is True
    await source.cancel_order("1002")
    assert emulator.calls[-1].json["variables"]["refund"] is False


async def test_shipped_or_refused_cancellations(
    emulator_factory: Factory, store: ShopifyStore
) -> None:
    emulator, source = await _start(emulator_factory, store)
    with pytest.raises(OrderNotChangeable) as refused:
        await source.cancel_order("1001")
    assert refused.value.state is OrderState.SHIPPED
    with pytest.raises(KeyError):
        await source.cancel_order("9999")
    assert all("orderCancel" not in c.json["query"] for c in emulator.calls)
    store.cancel_errors.append(
        {"field": ["orderId"], "message": "Cannot cancel", "code": "INVALID"}
    )
    with pytest.raises(OrderSourceError):
        await source.cancel_order("1003")


async def test_refunds_are_read_from_the_order(emulator_factory: Factory) -> None:
    store = ShopifyStore()
    store.add(
        order(
            3001,
            financial="REFUNDED",
            cancelled_at="2025-01-11T08:00:00Z",
            refunds=[
                {
                    "id": "gid://shopify/Refund/929361462",
                    "createdAt": "2025-01-11T08:01:00Z",
                    "totalRefundedSet": {
                        "shopMoney": {"amount": "5980.00", "currencyCode": "RUB"}
                    },
                    "transactions": {
                        "nodes": [
                            {"status": "SUCCESS", "processedAt": "2025-01-11T08:02:00Z"}
                        ]
                    },
                },
                {
                    "id": "gid://shopify/Refund/929361463",
                    "createdAt": "2025-01-12T08:00:00Z",
                    "totalRefundedSet": {
                        "shopMoney": {"amount": "100.00", "currencyCode": "RUB"}
                    },
                    "transactions": {
                        "nodes": [{"status": "PENDING", "processedAt": None}]
                    },
                },
            ],
        )
    )
    emulator, source = await _start(emulator_factory, store)

    refunds = await source.get_refunds("3001")

    assert emulator.calls[0].json == {
        "query": REFUNDS_QUERY,
        "variables": {"q": "name:#3001"},
    }
    assert refunds == [
        Refund(
            "929361463",
            "3001",
            100,
            "RUB",
            RefundState.PENDING,
            local("2025-01-12T08:00:00Z"),
            None,
            None,
        ),
        Refund(
            "929361462",
            "3001",
            5980,
            "RUB",
            RefundState.COMPLETED,
            local("2025-01-11T08:01:00Z"),
            None,
            local("2025-01-11T08:02:00Z"),
        ),
    ]
    assert await source.get_refunds("9999") == []


async def test_what_the_shop_does_in_shopify_is_unsupported(
    emulator_factory: Factory, store: ShopifyStore
) -> None:
    emulator, source = await _start(emulator_factory, store)
    for call in (
        source.change_address("1003", "Москва, ул. Ленина, 1"),
        source.start_return("1001"),
        source.get_returns("1001"),
        source.mark_paid("1002"),
    ):
        with pytest.raises(OperationUnsupported) as error:
            await call
        assert error.value.source == "shopify"
    assert await source.find_products("кроссовки") == []
    assert emulator.calls == []


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        "SHOPIFY_SHOP_URL": "https://easyflow.myshopify.com/",
        "SHOPIFY_ACCESS_TOKEN": TOKEN,
    }
    source = ShopifySource.from_config(ShopifyConfig.from_env(Reader(env)))
    assert (source.shop_url, source.api_version) == (
        "https://easyflow.myshopify.com",
        "2025-01",
    )
    assert TOKEN not in repr(source)
    assert (
        ShopifySource.from_config(
            ShopifyConfig.from_env(Reader({**env, "SHOPIFY_API_VERSION": "2025-04"}))
        ).api_version
        == "2025-04"
    )
    built, _ = build_sources(
        ("shopify",),
        tmp_path / "demo.sqlite",
        read_source_configs(("shopify",), Reader(env)),
    )
    assert isinstance(built, ShopifySource)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"SHOPIFY_ACCESS_TOKEN": TOKEN}, "SHOPIFY_SHOP_URL"),
        ({"SHOPIFY_SHOP_URL": "https://a.myshopify.com"}, "SHOPIFY_ACCESS_TOKEN"),
        (
            {"SHOPIFY_SHOP_URL": "a.myshopify.com", "SHOPIFY_ACCESS_TOKEN": TOKEN},
            "SHOPIFY_SHOP_URL",
        ),
        (
            {
                "SHOPIFY_SHOP_URL": "https://a.myshopify.com",
                "SHOPIFY_ACCESS_TOKEN": TOKEN,
                "SHOPIFY_API_VERSION": "latest",
            },
            "SHOPIFY_API_VERSION",
        ),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as error:
        ShopifySource.from_config(ShopifyConfig.from_env(Reader(env)))
    assert str(error.value).startswith(variable)
    assert TOKEN not in str(error.value)


# --- «мои заказы»: orders by the buyer's verified phone ------------------------

ANNA = "gid://shopify/Customer/7001"
BORIS = "gid://shopify/Customer/7002"
OTHER = "gid://shopify/Customer/7003"


@pytest.fixture
def buyers() -> ShopifyStore:
    """Anna has three orders (her phone in E.164, as Shopify keeps it), Boris
    one, someone else one; the shop's other orders have no customer."""
    store = ShopifyStore()
    store.customers = {
        ANNA: "+79161234567",
        BORIS: "+79167654321",
        OTHER: "+79991112233",
        "gid://shopify/Customer/7004": None,  # no phone on file
    }
    store.add(order(1101, customer=ANNA, created_at="2025-01-05T09:00:00Z"))
    store.add(
        order(
            1102,
            customer=ANNA,
            created_at="2025-02-05T09:00:00Z",
            fulfillment="FULFILLED",
            fulfillments=[fulfilment()],
        )
    )
    store.add(order(1103, customer=ANNA, created_at="2025-01-20T09:00:00Z"))
    store.add(order(1104, customer=BORIS, created_at="2025-01-25T09:00:00Z"))
    store.add(order(1105, customer=OTHER, created_at="2025-03-01T09:00:00Z"))
    store.add(order(1106, created_at="2025-03-02T09:00:00Z"))
    return store


@pytest.mark.parametrize(
    "phone",
    ["79161234567", "+7 916 123-45-67", "8 (916) 123 45 67", "9161234567"],
)
async def test_orders_are_found_by_the_buyers_phone_in_any_spelling(
    emulator_factory: Factory, buyers: ShopifyStore, phone: str
) -> None:
    emulator, source = await _start(emulator_factory, buyers)

    orders = await source.orders_by_phone(phone)

    assert [o.order_id for o in orders] == ["1102", "1103", "1101"]
    assert orders[0].state is OrderState.SHIPPED
    assert orders[0].created_at == local("2025-02-05T09:00:00Z")
    assert {o.channel for o in orders} == {"shopify"}
    assert {o.customer_phone for o in orders} == {"+79161234567"}
    assert emulator.paths() == [GRAPHQL, GRAPHQL]
    customers, listed = (call.json for call in emulator.calls)
    assert customers["query"] == CUSTOMERS_QUERY
    assert 'phone:"+79161234567"' in customers["variables"]["q"]
    assert " OR " in customers["variables"]["q"]
    assert listed == {
        "query": CUSTOMER_ORDERS_QUERY,
        "variables": {"q": "customer_id:7001", "first": 5},
    }


async def test_the_limit_keeps_the_newest(
    emulator_factory: Factory, buyers: ShopifyStore
) -> None:
    emulator, source = await _start(emulator_factory, buyers)
    orders = await source.orders_by_phone("+79161234567", limit=2)
    assert [o.order_id for o in orders] == ["1102", "1103"]
    assert emulator.calls[1].json["variables"]["first"] == 2


async def test_several_customers_with_the_phone_are_asked_at_once(
    emulator_factory: Factory, buyers: ShopifyStore
) -> None:
    buyers.customers["gid://shopify/Customer/7005"] = "+79167654321"
    buyers.add(order(1107, customer="gid://shopify/Customer/7005"))
    emulator, source = await _start(emulator_factory, buyers)
    orders = await source.orders_by_phone("89167654321")
    assert sorted(o.order_id for o in orders) == ["1104", "1107"]
    assert emulator.calls[1].json["variables"]["q"] == (
        "customer_id:7002 OR customer_id:7005"
    )


async def test_a_phone_nobody_has_finds_nothing(
    emulator_factory: Factory, buyers: ShopifyStore
) -> None:
    emulator, source = await _start(emulator_factory, buyers)
    assert await source.orders_by_phone("+7 900 000-00-00") == []
    assert len(emulator.calls) == 1  # no orders query without a customer
    assert await source.orders_by_phone("12345") == []  # not a phone: no call
    assert len(emulator.calls) == 1


async def test_a_customer_whose_phone_does_not_match_is_not_the_buyer(
    emulator_factory: Factory, buyers: ShopifyStore
) -> None:
    # A looser search (Shopify's phone matching is not documented) names others.
    emulator, source = await _start(emulator_factory, buyers)
    emulator.fail_next(
        200,
        {
            "data": {
                "customers": {
                    "nodes": [
                        {"id": OTHER, "phone": "+79991112233"},
                        {"id": "gid://shopify/Customer/7004", "phone": None},
                    ]
                }
            }
        },
    )
    assert await source.orders_by_phone("+79161234567") == []
    assert len(emulator.calls) == 1


async def test_platform_errors_while_searching_are_order_source_errors(
    emulator_factory: Factory, buyers: ShopifyStore, caplog: pytest.LogCaptureFixture
) -> None:
    emulator, source = await _start(emulator_factory, buyers)
    emulator.fail_next(
        200,
        {
            "errors": [
                {
                    "message": "Access denied for customers field.",
                    "extensions": {"code": "ACCESS_DENIED"},
                }
            ],
            "data": None,
        },
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(OrderSourceError):
        await source.orders_by_phone("+79161234567")
    for _ in range(FAST.max_attempts):
        emulator.fail_next(500, {"errors": "Internal Server Error"})
    with caplog.at_level(logging.DEBUG), pytest.raises(OrderSourceError):
        await source.orders_by_phone("+79161234567")
    _, wrong = await _start(emulator_factory, buyers, token="shpat_wrong")
    with pytest.raises(OrderSourceError, match="401"):
        await wrong.orders_by_phone("+79161234567")
    for record in caplog.records:
        if record.name == "aiohttp.access":
            continue  # the emulator's own access log
        text = f"{record.getMessage()} {record.__dict__}"
        assert "9161234567" not in text


async def test_the_router_merges_shopify_with_the_demo_store(
    emulator_factory: Factory, buyers: ShopifyStore, tmp_path: Path
) -> None:
    from actions.integrations.demo_store import DemoStore, demo_phone
    from actions.integrations.router import RoutingOrderSource

    phone = demo_phone("A-10234")
    buyers.customers[ANNA] = "+" + "".join(c for c in phone if c.isdigit())
    emulator, source = await _start(emulator_factory, buyers)
    router = RoutingOrderSource([DemoStore(tmp_path / "demo.sqlite"), source])

    orders = await router.orders_by_phone(phone, limit=3)

    assert len(orders) == 3
    assert "A-10234" in [o.order_id for o in orders]
    times = [o.created_at for o in orders]
    assert times == sorted(times, reverse=True)
    for _ in range(FAST.max_attempts):
        emulator.fail_next(500, {"errors": "Internal Server Error"})
    assert [o.order_id for o in await router.orders_by_phone(phone)] == ["A-10234"]
