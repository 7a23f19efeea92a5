"""Bitrix24 outbound events: a call with the portal's application token tells the
order's followers once; a forged one changes nothing (a loopback Bitrix24 portal,
real followers and queue, the Rasa emulator)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sanic import Sanic

from actions.access import PUBLIC_ROUTES
from actions.integrations.bitrix24 import Bitrix24Source
from actions.proactive.bitrix24_events import bitrix24_events_blueprint
from actions.proactive.notifier import RasaNotifier
from actions.proactive.order_updates import Followers, OrderUpdates
from actions.proactive.queue import NoticeQueue
from common.http import RetryPolicy
from tests.actions.integrations.bitrix24_portal import (
    BitrixPortal,
    deal,
    shipment,
    store_order,
)
from tests.emulators import Emulator

TOKEN = "b24-application-token-7f3a"
URL = "/orders/bitrix24/events"
FAST = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.02)


@pytest.fixture
async def portal(emulator_factory: Any) -> tuple[BitrixPortal, Emulator]:
    portal = BitrixPortal()
    portal.add(store_order(45871, "45871", status="P", payed=True))  # processing
    return portal, await emulator_factory(portal)


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


@pytest.fixture
async def app(
    tmp_path: Path, portal: tuple[BitrixPortal, Emulator], rasa: Emulator
) -> AsyncIterator[Sanic]:
    source = Bitrix24Source(
        portal[0].webhook(portal[1].url), retry=FAST, event_token=TOKEN
    )
    notifier = RasaNotifier(rasa.url)
    updates = OrderUpdates(
        Followers(tmp_path / "followers.sqlite"),
        NoticeQueue(tmp_path / "notices.sqlite", notifier),
    )
    await updates.followers.follow("vk:7", "45871", "bitrix24")
    app = Sanic(f"bitrix24_events_{id(source)}")
    app.blueprint(bitrix24_events_blueprint(source, updates))
    yield app
    await source.close()
    await notifier.close()


def event(
    order_id: Any = 45871, token: str = TOKEN, name: str = "ONSALEORDERSAVED"
) -> bytes:
    return urlencode(
        {
            "event": name,
            "data[FIELDS][ID]": str(order_id),
            "ts": "1733500000",
            "auth[domain]": "shop.bitrix24.ru",
            "auth[application_token]": token,
        }
    ).encode()


async def post(app: Sanic, body: bytes) -> Any:
    _, answer = await app.asgi_client.post(
        URL, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    return answer


def told(rasa: Emulator) -> list[dict[str, Any]]:
    return [c.json for c in rasa.calls if c.raw_path.endswith("/trigger_intent")]


def ship(portal: BitrixPortal) -> None:
    portal.add(
        store_order(
            45871,
            "45871",
            status="P",
            payed=True,
            shipments=[shipment(deducted=True, tracking="CDEK-1")],
        )
    )


async def test_the_portals_event_tells_the_follower_once(
    app: Sanic, portal: tuple[BitrixPortal, Emulator], rasa: Emulator
) -> None:
    ship(portal[0])
    first = await post(app, event())
    again = await post(app, event())  # the portal calls again
    assert (first.status, first.json["told"]) == (200, 1), first.text
    assert (again.status, again.json["told"]) == (200, 0)
    assert told(rasa) == [
        {
            "name": "EXTERNAL_order_status_changed",
            "entities": {"order_id": "45871", "order_state": "shipped"},
        }
    ]


@pytest.mark.parametrize(
    "body",
    [
        event(token="wrong"),
        event(token=""),
        event(token=TOKEN + "x"),
        b"event=ONSALEORDERSAVED&data[FIELDS][ID]=45871",  # no auth at all
        b"\xff\xfe not a form",
    ],
    ids=["wrong", "empty", "longer", "missing", "garbage"],
)
async def test_a_forged_call_changes_nothing(
    app: Sanic, portal: tuple[BitrixPortal, Emulator], rasa: Emulator, body: bytes
) -> None:
    ship(portal[0])
    answer = await post(app, body)
    assert answer.status == 401
    assert told(rasa) == [] and portal[1].calls == []  # not even read


async def test_other_events_unknown_orders_and_bad_ids(
    app: Sanic, portal: tuple[BitrixPortal, Emulator], rasa: Emulator
) -> None:
    other = await post(app, event(name="ONCRMDEALUPDATE"))  # a store-order portal
    assert other.json == {"ignored": "ONCRMDEALUPDATE"}
    assert (await post(app, event(99999))).json == {"ignored": "unknown order"}
    for bad in ("", "12a", "-5", "9" * 19):
        assert (await post(app, event(bad))).status == 400
    assert told(rasa) == []


async def test_an_unreachable_portal_answers_503(
    app: Sanic, portal: tuple[BitrixPortal, Emulator], rasa: Emulator
) -> None:
    for _ in range(4):
        portal[1].fail_next(503, {"error": "QUERY_LIMIT_EXCEEDED"})
    assert (await post(app, event())).status == 503
    assert told(rasa) == []


def test_the_route_is_public_because_the_token_is_checked() -> None:
    assert "bitrix24_orders.receive" in PUBLIC_ROUTES
    with pytest.raises(ValueError):
        bitrix24_events_blueprint(
            Bitrix24Source("https://x.bitrix24.ru/rest/1/code/"),
            None,  # type: ignore[arg-type]
        )


async def test_a_deal_portal_listens_to_deal_updates(
    tmp_path: Path, portal: tuple[BitrixPortal, Emulator], rasa: Emulator
) -> None:
    portal[0].deals[731] = deal(731, "WON", semantic="S")  # delivered
    source = Bitrix24Source(
        portal[0].webhook(portal[1].url), "deal", retry=FAST, event_token=TOKEN
    )
    notifier = RasaNotifier(rasa.url)
    updates = OrderUpdates(
        Followers(tmp_path / "f.sqlite"), NoticeQueue(tmp_path / "n.sqlite", notifier)
    )
    await updates.followers.follow("telegram:9", "731", "")
    app = Sanic(f"bitrix24_deals_{id(source)}")
    app.blueprint(bitrix24_events_blueprint(source, updates))
    try:
        ignored = await post(app, event(731))  # a store-order event
        answer = await post(app, event(731, name="ONCRMDEALUPDATE"))
    finally:
        await source.close()
        await notifier.close()
    assert ignored.json == {"ignored": "ONSALEORDERSAVED"}
    assert (answer.status, answer.json["told"]) == (200, 1)
    assert told(rasa)[0]["entities"] == {"order_id": "731", "order_state": "delivered"}
