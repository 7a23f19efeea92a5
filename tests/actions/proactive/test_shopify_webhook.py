"""Shopify order webhooks: signed calls tell the followers once, forged ones
change nothing (a loopback Shopify Admin API, real followers and queue, the Rasa
emulator)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sanic import Sanic

from actions.access import PUBLIC_ROUTES
from actions.integrations.shopify import ShopifySource
from actions.proactive.notifier import RasaNotifier
from actions.proactive.order_updates import Followers, OrderUpdates
from actions.proactive.queue import NoticeQueue
from actions.proactive.shopify_webhook import shopify_webhook_blueprint, signature
from tests.actions.integrations.shopify_store import (
    TOKEN,
    ShopifyStore,
    fulfilment,
    order,
)
from tests.emulators import Emulator

SECRET = "shpss_test_webhook_secret"
URL = "/orders/shopify/webhook"


@pytest.fixture
async def shop(emulator_factory: Any) -> tuple[ShopifyStore, Emulator]:
    store = ShopifyStore()
    store.add(order(1001))  # paid, not yet fulfilled: processing
    return store, await emulator_factory(store)


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


@pytest.fixture
async def app(
    tmp_path: Path, shop: tuple[ShopifyStore, Emulator], rasa: Emulator
) -> AsyncIterator[tuple[Sanic, OrderUpdates]]:
    source = ShopifySource(shop[1].url, TOKEN, webhook_secret=SECRET)
    notifier = RasaNotifier(rasa.url)
    updates = OrderUpdates(
        Followers(tmp_path / "followers.sqlite"),
        NoticeQueue(tmp_path / "notices.sqlite", notifier),
    )
    await updates.followers.follow("telegram:1", "1001", "shopify")
    app = Sanic(f"shopify_webhook_{id(source)}")
    app.blueprint(shopify_webhook_blueprint(source, updates))
    yield app, updates
    await source.close()
    await notifier.close()


def told(rasa: Emulator) -> list[dict[str, Any]]:
    return [c.json for c in rasa.calls if c.raw_path.endswith("/trigger_intent")]


def signed(body: bytes, topic: str = "orders/updated", secret: str = SECRET) -> dict:
    return {
        "X-Shopify-Hmac-Sha256": signature(secret, body),
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "Content-Type": "application/json",
    }


async def post(app: Sanic, body: bytes, headers: dict[str, str]) -> Any:
    _, answer = await app.asgi_client.post(URL, content=body, headers=headers)
    return answer


def ship(store: ShopifyStore) -> None:
    store.add(order(1001, fulfillment="FULFILLED", fulfillments=[fulfilment()]))


async def test_a_signed_update_tells_the_follower_once_however_often_it_comes(
    app: tuple[Sanic, OrderUpdates], shop: tuple[ShopifyStore, Emulator], rasa: Emulator
) -> None:
    ship(shop[0])
    body = json.dumps({"id": 450789470001, "name": "#1001"}).encode()
    first = await post(app[0], body, signed(body))
    retry = await post(app[0], body, signed(body))  # Shopify's retry
    assert (first.status, first.json["told"]) == (200, 1), first.text
    assert (retry.status, retry.json["told"]) == (200, 0)
    assert told(rasa) == [
        {
            "name": "EXTERNAL_order_status_changed",
            "entities": {"order_id": "1001", "order_state": "shipped"},
        }
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no signature
        {"X-Shopify-Hmac-Sha256": "AAAA"},
        {"X-Shopify-Hmac-Sha256": signature("another-secret", b"{}")},
    ],
)
async def test_a_forged_call_changes_nothing(
    app: tuple[Sanic, OrderUpdates],
    shop: tuple[ShopifyStore, Emulator],
    rasa: Emulator,
    headers: dict[str, str],
) -> None:
    ship(shop[0])
    body = json.dumps({"name": "#1001"}).encode()
    answer = await post(app[0], body, {"X-Shopify-Topic": "orders/updated", **headers})
    assert answer.status == 401
    assert told(rasa) == [] and shop[1].calls == []  # not even read


async def test_a_signature_for_another_body_is_refused(
    app: tuple[Sanic, OrderUpdates], shop: tuple[ShopifyStore, Emulator], rasa: Emulator
) -> None:
    ship(shop[0])
    genuine = json.dumps({"name": "#1002"}).encode()
    tampered = json.dumps({"name": "#1001"}).encode()
    answer = await post(app[0], tampered, signed(genuine))
    assert answer.status == 401 and told(rasa) == []


async def test_the_body_is_only_a_hint_the_api_decides(
    app: tuple[Sanic, OrderUpdates], shop: tuple[ShopifyStore, Emulator], rasa: Emulator
) -> None:
    """A signed body that claims fulfilment for an order the shop has not shipped
    tells the follower the state the shop reports (processing), once."""
    body = json.dumps({"name": "#1001", "fulfillment_status": "fulfilled"}).encode()
    answer = await post(app[0], body, signed(body))
    assert answer.status == 200
    [call] = told(rasa)
    assert call["entities"]["order_state"] == "processing"


async def test_other_topics_unknown_orders_and_bad_bodies(
    app: tuple[Sanic, OrderUpdates], rasa: Emulator
) -> None:
    body = json.dumps({"name": "#1001"}).encode()
    ignored = await post(app[0], body, signed(body, topic="products/update"))
    assert ignored.status == 200 and ignored.json == {"ignored": "products/update"}
    unknown = json.dumps({"name": "#7777"}).encode()
    assert (await post(app[0], unknown, signed(unknown))).json == {
        "ignored": "unknown order"
    }
    for bad in (b"not json", b"[]", b'{"name": ""}'):
        assert (await post(app[0], bad, signed(bad))).status == 400
    assert told(rasa) == []


async def test_an_unreachable_shop_asks_shopify_to_retry(
    app: tuple[Sanic, OrderUpdates], shop: tuple[ShopifyStore, Emulator], rasa: Emulator
) -> None:
    for _ in range(5):
        shop[1].fail_next(503, {"errors": "Service Unavailable"})
    body = json.dumps({"name": "#1001"}).encode()
    answer = await post(app[0], body, signed(body))
    assert answer.status == 503 and told(rasa) == []


def test_the_route_is_public_because_shopify_signs_it() -> None:
    assert "shopify_orders.receive" in PUBLIC_ROUTES
    with pytest.raises(ValueError):
        shopify_webhook_blueprint(ShopifySource("https://x", TOKEN), None)  # type: ignore[arg-type]
