"""Bitrix24Source against a loopback Bitrix24 portal (incoming webhook REST)."""

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
)
from actions.integrations.bitrix24 import CANCEL_REASON, Bitrix24Config, Bitrix24Source
from actions.integrations.registry import build_sources, read_source_configs
from actions.integrations.router import RoutingOrderSource
from actions.settings import SettingsError
from common.http import RetryPolicy
from common.settings import Reader
from tests.actions.integrations.bitrix24_portal import (
    BitrixPortal,
    contact,
    deal,
    shipment,
    store_order,
)
from tests.emulators import Emulator

FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05)
Factory = Callable[[Callable[..., Any]], Any]


_OPEN: list[Bitrix24Source] = []


@pytest.fixture(autouse=True)
async def _close_sources() -> AsyncIterator[None]:
    yield
    while _OPEN:
        await _OPEN.pop().close()


def _track(source: Bitrix24Source) -> Bitrix24Source:
    _OPEN.append(source)
    return source


def local(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone().replace(tzinfo=None)


@pytest.fixture
def portal() -> BitrixPortal:
    portal = BitrixPortal()
    portal.add(
        store_order(
            236,
            "45871",
            status="P",
            payed=True,
            shipments=[shipment(deducted=True, status="DF", tracking="1234567890")],
        )
    )
    portal.add(store_order(237, "45872", status="N"))
    portal.add(store_order(238, "A10234", status="P", payed=True))
    portal.add(store_order(239, "45873", status="N", payed=True))
    portal.deals[5120] = deal(5120, "C1:WON", semantic="S")
    portal.deals[5130] = deal(5130, "PREPAYMENT_INVOICE")
    return portal


async def _start(
    factory: Factory, portal: BitrixPortal, entity: str = "order", **kwargs: Any
) -> tuple[Emulator, Bitrix24Source]:
    emulator = await factory(portal)
    source = _track(
        Bitrix24Source(portal.webhook(emulator.url), entity, retry=FAST, **kwargs)
    )
    return emulator, source


async def test_a_shipped_order_is_found_by_its_account_number(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal)

    order = await source.get_order("#45871")

    assert emulator.paths() == [
        "/rest/1/s3cr3tc0de/sale.order.list.json",
        "/rest/1/s3cr3tc0de/sale.order.get.json",
    ]
    assert [c.method for c in emulator.calls] == ["POST", "POST"]
    assert emulator.calls[0].json == {
        "select": ["id", "accountNumber"],
        "filter": {"@accountNumber": ["45871"]},
    }
    assert emulator.calls[1].json == {"id": 236}
    assert order == Order(
        order_id="45871",
        channel="bitrix24",
        state=OrderState.SHIPPED,
        created_at=local("2024-02-28T17:36:55+03:00"),
        expected_delivery=None,
        delivered_at=None,
        total=4980,
        currency="RUB",
        paid=True,
        address="Москва, ул. Тверская, д. 7, кв. 12",
        carrier="СДЭК",
        tracking_number="1234567890",
        customer_phone="+7 916 123-45-67",
        items=(
            OrderItem(
                "SNK-001", "Кроссовки Runner", "Кроссовки Runner", None, None, 1, 4480
            ),
        ),
    )


async def test_the_buyers_email_property_is_read(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    portal.add(store_order(240, "45880", phone=None, email="anna@example.ru"))
    portal.add(store_order(241, "45881", phone=None))
    emulator, source = await _start(emulator_factory, portal)

    by_email = await source.get_order("45880")
    neither = await source.get_order("45881")

    assert by_email is not None and neither is not None
    assert (by_email.customer_phone, by_email.customer_email) == (
        None,
        "anna@example.ru",
    )
    assert (neither.customer_phone, neither.customer_email) == (None, None)


@pytest.mark.parametrize(
    ("fields", "state", "paid"),
    [
        ({"status": "N"}, OrderState.AWAITING_PAYMENT, False),
        ({"status": "N", "payed": True}, OrderState.PROCESSING, True),
        ({"status": "P", "payed": True}, OrderState.PROCESSING, True),
        ({"status": "S", "payed": True}, OrderState.SHIPPED, True),
        (
            {"status": "P", "payed": True, "shipments": [shipment(deducted=True)]},
            OrderState.SHIPPED,
            True,
        ),
        (
            {"status": "P", "shipments": [shipment(deducted=True, canceled=True)]},
            OrderState.PROCESSING,
            False,
        ),
        ({"status": "F", "payed": True}, OrderState.DELIVERED, True),
        ({"status": "D"}, OrderState.CANCELLED, False),
        ({"status": "N", "canceled": True}, OrderState.CANCELLED, False),
        ({"status": "XX"}, OrderState.AWAITING_PAYMENT, False),
        ({"status": "XX", "payed": True}, OrderState.PROCESSING, True),
    ],
)
async def test_statuses_payment_and_shipments_map_to_states(
    emulator_factory: Factory, fields: dict[str, Any], state: OrderState, paid: bool
) -> None:
    portal = BitrixPortal()
    portal.add(store_order(900, "50001", **fields))
    _, source = await _start(emulator_factory, portal)

    order = await source.get_order("50001")

    assert order is not None
    assert (order.state, order.paid) == (state, paid)
    if state is OrderState.DELIVERED:
        assert order.delivered_at == local("2024-03-02T12:00:00+03:00")
    else:
        assert order.delivered_at is None


async def test_a_portal_status_map_adds_the_shops_own_statuses(
    emulator_factory: Factory,
) -> None:
    portal = BitrixPortal()
    portal.add(store_order(900, "50001", status="PP", payed=True))
    _, source = await _start(
        emulator_factory, portal, status_map={"PP": OrderState.READY_FOR_PICKUP}
    )
    order = await source.get_order("50001")
    assert order is not None and order.state is OrderState.READY_FOR_PICKUP


async def test_a_letter_code_is_looked_up_in_both_spellings(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal)

    order = await source.get_order("а-10234")  # Cyrillic "а", as shoppers type it

    assert emulator.calls[0].json["filter"] == {"@accountNumber": ["A-10234", "A10234"]}
    assert order is not None
    assert (order.order_id, order.state) == ("A-10234", OrderState.PROCESSING)


async def test_an_unknown_number_is_no_order(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal)
    assert await source.get_order("99999") is None
    assert emulator.paths() == ["/rest/1/s3cr3tc0de/sale.order.list.json"]
    assert await source.get_order("48213307-0051-1") is None  # an Ozon number
    assert len(emulator.calls) == 1


async def test_an_order_gone_between_list_and_get_is_no_order(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal)
    emulator.fail_next(200, {"result": {"orders": [{"id": 777, "accountNumber": "1"}]}})
    assert await source.get_order("77777") is None
    assert emulator.paths()[-1] == "/rest/1/s3cr3tc0de/sale.order.get.json"


async def test_a_wrong_webhook_code_fails_without_logging_it(
    emulator_factory: Factory, portal: BitrixPortal, caplog: pytest.LogCaptureFixture
) -> None:
    emulator = await emulator_factory(portal)
    source = _track(
        Bitrix24Source(portal.webhook(emulator.url, code="wr0ngc0de"), retry=FAST)
    )

    with caplog.at_level(logging.DEBUG), pytest.raises(OrderSourceError):
        await source.get_order("45871")

    assert len(emulator.calls) == 1  # a 401 is not retried
    failed = [r for r in caplog.records if r.getMessage() == "bitrix24.auth.failed"]
    assert failed and failed[0].error == "NO_AUTH_FOUND"
    assert failed[0].endpoint == f"{emulator.url}/rest/1/***/"
    for record in caplog.records:
        if record.name == "aiohttp.access":
            continue  # the emulator's own access log
        assert "wr0ngc0de" not in f"{record.getMessage()} {record.__dict__}"
    assert "wr0ngc0de" not in repr(source)


async def test_a_webhook_of_another_user_is_invalid_credentials(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator = await emulator_factory(portal)
    url = portal.webhook(emulator.url).replace("/rest/1/", "/rest/7/")
    source = _track(Bitrix24Source(url, retry=FAST))
    with pytest.raises(OrderSourceError, match="INVALID_CREDENTIALS"):
        await source.get_order("45871")


async def test_the_query_limit_is_waited_out(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal)
    emulator.fail_next(
        503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
    )

    order = await source.get_order("45871")

    assert order is not None and order.order_id == "45871"
    assert [p.rsplit("/", 1)[-1] for p in emulator.paths()] == [
        "sale.order.list.json",
        "sale.order.list.json",
        "sale.order.get.json",
    ]


async def test_a_server_that_keeps_failing_is_an_order_source_error(
    emulator_factory: Factory, portal: BitrixPortal, caplog: pytest.LogCaptureFixture
) -> None:
    emulator, source = await _start(emulator_factory, portal)
    for _ in range(FAST.max_attempts):
        emulator.fail_next(
            500, {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal"}
        )
    with caplog.at_level(logging.ERROR), pytest.raises(OrderSourceError):
        await source.get_order("45871")
    assert len(emulator.calls) == FAST.max_attempts
    assert "bitrix24.request.failed" in [r.getMessage() for r in caplog.records]


async def test_a_missing_scope_is_an_order_source_error(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal)
    emulator.fail_next(
        403, {"error": "insufficient_scope", "error_description": "Needs sale"}
    )
    with pytest.raises(OrderSourceError, match="insufficient_scope"):
        await source.get_order("45871")


async def test_deals_are_read_by_id_and_mapped_by_stage(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal, entity="deal")

    won = await source.get_order("#5120")
    unpaid = await source.get_order("5130")
    missing = await source.get_order("5140")
    code = await source.get_order("A-10234")

    assert emulator.paths() == ["/rest/1/s3cr3tc0de/crm.item.get.json"] * 3
    assert [c.json for c in emulator.calls] == [
        {"entityTypeId": 2, "id": 5120},
        {"entityTypeId": 2, "id": 5130},
        {"entityTypeId": 2, "id": 5140},
    ]
    assert won == Order(
        order_id="5120",
        channel="bitrix24",
        state=OrderState.DELIVERED,
        created_at=local("2024-07-22T18:00:08+03:00"),
        expected_delivery=None,
        delivered_at=local("2024-07-25T10:00:00+03:00"),
        total=15000,
        currency="RUB",
        paid=True,
        address="",
        carrier=None,
        tracking_number=None,
    )
    assert unpaid is not None
    assert (unpaid.state, unpaid.paid) == (OrderState.AWAITING_PAYMENT, False)
    assert missing is None and code is None


@pytest.mark.parametrize(
    ("stage", "semantic", "state"),
    [
        ("NEW", "P", OrderState.AWAITING_PAYMENT),
        ("C3:PREPARATION", "P", OrderState.AWAITING_PAYMENT),
        ("EXECUTING", "P", OrderState.PROCESSING),
        ("C3:UC_SHIPPING", "P", OrderState.PROCESSING),
        ("C3:WON", "S", OrderState.DELIVERED),
        ("LOSE", "F", OrderState.CANCELLED),
        ("C3:APOLOGY", "F", OrderState.CANCELLED),
    ],
)
async def test_deal_stages_map_to_states(
    emulator_factory: Factory, stage: str, semantic: str, state: OrderState
) -> None:
    portal = BitrixPortal()
    portal.deals[6000] = deal(6000, stage, semantic)
    _, source = await _start(emulator_factory, portal, entity="deal")
    order = await source.get_order("6000")
    assert order is not None and order.state is state


async def test_an_unpaid_order_is_cancelled_in_the_portal(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal)

    order = await source.cancel_order("45872")

    assert emulator.paths()[-1] == "/rest/1/s3cr3tc0de/sale.order.update.json"
    assert emulator.calls[-1].json == {
        "id": 237,
        "fields": {"canceled": "Y", "reasonCanceled": CANCEL_REASON},
    }
    assert (order.order_id, order.state) == ("45872", OrderState.CANCELLED)
    again = await source.get_order("45872")
    assert again is not None and again.state is OrderState.CANCELLED


async def test_paid_or_shipped_orders_are_not_cancelled_here(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal)
    with pytest.raises(OperationUnsupported):
        await source.cancel_order("45873")  # paid: the shop refunds it
    with pytest.raises(OrderNotChangeable) as refused:
        await source.cancel_order("45871")
    assert refused.value.state is OrderState.SHIPPED
    with pytest.raises(KeyError):
        await source.cancel_order("99999")
    assert "sale.order.update.json" not in "".join(emulator.paths())


async def test_what_the_staff_does_is_unsupported(
    emulator_factory: Factory, portal: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, portal)
    for call in (
        source.change_address("45872", "Москва, ул. Ленина, 1"),
        source.start_return("45871"),
        source.get_returns("45871"),
        source.get_refunds("45871"),
        source.mark_paid("45872"),
    ):
        with pytest.raises(OperationUnsupported) as error:
            await call
        assert error.value.source == "bitrix24"
    _, deals = await _start(emulator_factory, portal, entity="deal")
    with pytest.raises(OperationUnsupported):
        await deals.cancel_order("5130")
    assert await source.find_products("кроссовки") == []
    assert emulator.calls == []


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    url = "https://shop.bitrix24.ru/rest/1/s3cr3tc0de/"
    source = Bitrix24Source.from_config(
        Bitrix24Config.from_env(
            Reader(
                {
                    "BITRIX24_WEBHOOK_URL": url,
                    "BITRIX24_ENTITY": "Deal",
                    "BITRIX24_STATUS_MAP": "S=shipped, C1:UC_PICKUP=ready_for_pickup",
                }
            )
        )
    )
    assert source.entity == "deal"
    assert source.status_map == {
        "S": OrderState.SHIPPED,
        "C1:UC_PICKUP": OrderState.READY_FOR_PICKUP,
    }
    assert source.endpoint == "https://shop.bitrix24.ru/rest/1/***/"
    assert (
        Bitrix24Source.from_config(
            Bitrix24Config.from_env(Reader({"BITRIX24_WEBHOOK_URL": url}))
        ).entity
        == "order"
    )
    built, _ = build_sources(
        ("bitrix24",),
        tmp_path / "demo.sqlite",
        read_source_configs(("bitrix24",), Reader({"BITRIX24_WEBHOOK_URL": url})),
    )
    assert isinstance(built, Bitrix24Source)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "BITRIX24_WEBHOOK_URL"),
        (
            {"BITRIX24_WEBHOOK_URL": "https://shop.bitrix24.ru/s3cr3t"},
            "BITRIX24_WEBHOOK_URL",
        ),
        (
            {
                "BITRIX24_WEBHOOK_URL": "https://shop.bitrix24.ru/rest/1/s3cr3t/",
                "BITRIX24_ENTITY": "lead",
            },
            "BITRIX24_ENTITY",
        ),
        (
            {
                "BITRIX24_WEBHOOK_URL": "https://shop.bitrix24.ru/rest/1/s3cr3t/",
                "BITRIX24_STATUS_MAP": "S=sent",
            },
            "BITRIX24_STATUS_MAP",
        ),
    ],
)
def test_bad_settings_name_the_variable_but_not_the_secret(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError) as error:
        Bitrix24Source.from_config(Bitrix24Config.from_env(Reader(env)))
    assert str(error.value).startswith(variable)
    assert "s3cr3t" not in str(error.value)


async def test_the_router_sends_shop_numbers_to_the_portal(
    emulator_factory: Factory, portal: BitrixPortal, tmp_path: Path
) -> None:
    from actions.integrations.demo_store import DemoStore

    _, source = await _start(emulator_factory, portal)
    demo = DemoStore(tmp_path / "demo.sqlite")
    router = RoutingOrderSource([demo, source])
    assert router.candidates("#45871") == [demo, source]
    assert router.candidates("3728419056") == [demo]
    order = await router.get_order("45872")
    assert order is not None and order.channel == "bitrix24"


# --- «мои заказы»: orders by the buyer's verified phone ------------------------

BUYER = "79161234567"


@pytest.fixture
def crm() -> BitrixPortal:
    """Three buyers: Anna (two deals, two store orders), Boris (whose phone the
    CRM keeps with an 8), and someone else."""
    portal = BitrixPortal()
    portal.contacts[7] = contact(7, "+7 (916) 123-45-67")
    portal.contacts[8] = contact(8, "+7 903 000-00-01", "8 916 765-43-21")
    portal.contacts[9] = contact(9, "+7 999 111-22-33")
    for deal_id, contact_id, created in (
        (5201, 7, "2024-07-01T10:00:00+03:00"),
        (5202, 7, "2024-08-01T10:00:00+03:00"),
        (5203, 8, "2024-06-01T10:00:00+03:00"),
        (5204, 9, "2024-09-01T10:00:00+03:00"),
    ):
        portal.deals[deal_id] = deal(
            deal_id, "EXECUTING", contact_id=contact_id, created=created
        )
    for order_id, number, created, deal_id in (
        (301, "46001", "2024-07-01T10:05:00+03:00", 5201),
        (302, "46002", "2024-08-01T10:05:00+03:00", 5202),
        (303, "46003", "2024-06-01T10:05:00+03:00", 5203),
        (304, "46004", "2024-09-01T10:05:00+03:00", 5204),
    ):
        portal.add(store_order(order_id, number, created=created, status="P"))
        portal.bindings.append((order_id, deal_id))
    return portal


def methods(emulator: Emulator) -> list[str]:
    return [p.rsplit("/", 1)[-1].removesuffix(".json") for p in emulator.paths()]


@pytest.mark.parametrize(
    "phone",
    [BUYER, "+7 916 123-45-67", "8 (916) 123 45 67", "89161234567", "9161234567"],
)
async def test_deals_are_found_by_the_buyers_phone_in_any_spelling(
    emulator_factory: Factory, crm: BitrixPortal, phone: str
) -> None:
    emulator, source = await _start(emulator_factory, crm, entity="deal")

    orders = await source.orders_by_phone(phone)

    assert [o.order_id for o in orders] == ["5202", "5201"]  # newest first
    assert {o.channel for o in orders} == {"bitrix24"}
    assert orders[0].state is OrderState.PROCESSING
    # A deal has no phone: it carries the contact's (the privacy factor).
    assert {o.customer_phone for o in orders} == {"+7 (916) 123-45-67"}
    assert methods(emulator) == [
        "crm.duplicate.findbycomm",
        "crm.contact.list",
        "crm.item.list",
    ]
    find = emulator.calls[0].json
    assert (find["entity_type"], find["type"]) == ("CONTACT", "PHONE")
    assert {"+79161234567", "79161234567", "89161234567"} <= set(find["values"])
    assert emulator.calls[1].json == {"filter": {"@ID": [7]}, "select": ["ID", "PHONE"]}
    listed = emulator.calls[2].json
    assert listed["entityTypeId"] == 2
    assert listed["filter"] == {"@contactId": [7]}
    assert listed["order"] == {"createdTime": "DESC"}


async def test_a_phone_the_crm_keeps_with_an_8_is_the_same_phone(
    emulator_factory: Factory, crm: BitrixPortal
) -> None:
    _, source = await _start(emulator_factory, crm, entity="deal")
    orders = await source.orders_by_phone("+79167654321")
    assert [o.order_id for o in orders] == ["5203"]


async def test_store_orders_bound_to_the_buyers_deals_newest_first(
    emulator_factory: Factory, crm: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, crm)

    orders = await source.orders_by_phone(BUYER)

    assert [o.order_id for o in orders] == ["46002", "46001"]
    assert orders[0].created_at == local("2024-08-01T10:05:00+03:00")
    assert orders[0].customer_phone == "+7 916 123-45-67"
    assert methods(emulator) == [
        "crm.duplicate.findbycomm",
        "crm.contact.list",
        "crm.item.list",
        "crm.orderentity.list",
        "sale.order.get",
        "sale.order.get",
    ]
    assert emulator.calls[3].json == {
        "select": ["orderId", "ownerId"],
        "filter": {"=ownerTypeId": 2, "@ownerId": [5202, 5201]},
        "order": {"orderId": "desc"},
    }
    assert [c.json for c in emulator.calls[4:]] == [{"id": 302}, {"id": 301}]


async def test_the_limit_keeps_the_newest_and_reads_no_more(
    emulator_factory: Factory, crm: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, crm)
    orders = await source.orders_by_phone(BUYER, limit=1)
    assert [o.order_id for o in orders] == ["46002"]
    assert methods(emulator).count("sale.order.get") == 1

    _, deals = await _start(emulator_factory, crm, entity="deal")
    assert [o.order_id for o in await deals.orders_by_phone(BUYER, limit=1)] == ["5202"]


async def test_a_phone_nobody_has_finds_nothing(
    emulator_factory: Factory, crm: BitrixPortal
) -> None:
    emulator, source = await _start(emulator_factory, crm)
    assert await source.orders_by_phone("+7 900 000-00-00") == []
    assert methods(emulator) == ["crm.duplicate.findbycomm"]
    assert await source.orders_by_phone("12345") == []  # not a phone: no call
    assert len(emulator.calls) == 1


async def test_a_contact_whose_own_phones_do_not_match_is_not_the_buyer(
    emulator_factory: Factory, crm: BitrixPortal
) -> None:
    # A looser duplicate index (or a stale one) names someone else's contact.
    crm.methods["crm.duplicate.findbycomm"] = lambda _: {"result": {"CONTACT": [9]}}
    emulator, source = await _start(emulator_factory, crm)
    assert await source.orders_by_phone(BUYER) == []
    assert methods(emulator) == ["crm.duplicate.findbycomm", "crm.contact.list"]


async def test_a_buyer_without_deals_or_bound_orders_has_none(
    emulator_factory: Factory, crm: BitrixPortal
) -> None:
    crm.contacts[10] = contact(10, "+7 926 555-44-33")
    crm.bindings = [(301, 5201)]
    crm.deals[5205] = deal(5205, "NEW", contact_id=8)
    _, source = await _start(emulator_factory, crm)
    assert await source.orders_by_phone("+7 926 555-44-33") == []
    # Boris's deals have no store order bound any more.
    assert await source.orders_by_phone("+79167654321") == []


async def test_platform_errors_while_searching_are_order_source_errors(
    emulator_factory: Factory, crm: BitrixPortal, caplog: pytest.LogCaptureFixture
) -> None:
    emulator, source = await _start(emulator_factory, crm)
    for _ in range(FAST.max_attempts):
        emulator.fail_next(500, {"error": "ERROR_CORE", "error_description": "x"})
    with caplog.at_level(logging.DEBUG), pytest.raises(OrderSourceError):
        await source.orders_by_phone(BUYER)

    emulator.fail_next(
        403, {"error": "insufficient_scope", "error_description": "Needs crm"}
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(OrderSourceError):
        await source.orders_by_phone(BUYER)

    wrong = _track(
        Bitrix24Source(crm.webhook(emulator.url, code="wr0ngc0de"), retry=FAST)
    )
    with pytest.raises(OrderSourceError, match="NO_AUTH_FOUND"):
        await wrong.orders_by_phone(BUYER)
    for record in caplog.records:
        if record.name == "aiohttp.access":
            continue  # the emulator's own access log
        text = f"{record.getMessage()} {record.__dict__}"
        assert "9161234567" not in text and "916 123" not in text


async def test_the_router_lists_the_other_sources_when_the_portal_fails(
    emulator_factory: Factory, crm: BitrixPortal, tmp_path: Path
) -> None:
    from actions.integrations.demo_store import DemoStore, demo_phone

    emulator, source = await _start(emulator_factory, crm)
    demo = DemoStore(tmp_path / "demo.sqlite")
    router = RoutingOrderSource([demo, source])
    phone = demo_phone("A-10234")
    for _ in range(FAST.max_attempts):
        emulator.fail_next(503, {"error": "ERROR_CORE", "error_description": "x"})

    orders = await router.orders_by_phone(phone)

    assert [o.order_id for o in orders] == ["A-10234"]
    assert methods(emulator) == ["crm.duplicate.findbycomm"] * FAST.max_attempts
    # Both answering: merged newest first, each order routed to its source.
    crm.contacts[11] = contact(11, phone)
    crm.deals[5301] = deal(
        5301, "NEW", contact_id=11, created="2099-01-01T00:00:00+03:00"
    )
    crm.add(store_order(401, "47001", created="2099-01-01T00:05:00+03:00"))
    crm.bindings.append((401, 5301))
    merged = await router.orders_by_phone(phone)
    assert [o.order_id for o in merged] == ["47001", "A-10234"]
    cancelled = await router.cancel_order("47001")
    assert cancelled.channel == "bitrix24"
    # Only the portal searching, and failing: the shopper hears it is down.
    router.replace([source])
    for _ in range(FAST.max_attempts):
        emulator.fail_next(503, {"error": "ERROR_CORE", "error_description": "x"})
    with pytest.raises(OrderSourceError):
        await router.orders_by_phone(phone)
