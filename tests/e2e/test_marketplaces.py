"""Marketplace order sources end to end: platform emulator → real action server →
trained agent, in a dialog as the shopper writes it.

Needs the trained model (``make test`` trains it first). Each provider has one test
function that starts its own emulator, action server (configured only with that
provider) and agent; loading the agent takes ~20 s. Nothing is shared at module
level, so tests for other providers can be added as further functions.

Order privacy is on (the default): Wildberries, Ozon and a Shopify order without an
e-mail give no factor, so the shopper gets the coarse state and an operator for
details; a Bitrix24 order with a phone is verified in the dialog and then answered
in full (Shopify's e-mail code: tests/e2e/test_privacy_code_dialogue.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.emulators import Emulator
from tests.marketplace_emulators import (
    UTC,
    OzonApi,
    WildberriesApi,
    ozon_posting,
    wb_task,
)
from tests.servers import action_server, agent_for, say

Factory = Callable[[Any], Awaitable[Emulator]]


async def test_wildberries_order_status_in_the_dialog(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    token = "wb-e2e-token"
    task = 13833711
    api = WildberriesApi(token)
    api.add(wb_task(task, datetime.now(UTC) - timedelta(days=2)), "complete", "sorted")
    emulator = await emulator_factory(api)
    env = {
        "EASYFLOW_ORDER_SOURCES": "wildberries",
        "WB_API_TOKEN": token,
        "WB_MARKETPLACE_URL": emulator.url,
    }
    with action_server(tmp_path, env=env) as url:
        agent = await asyncio.to_thread(agent_for, url)
        asked = await say(agent, "wb-shopper", "где мой заказ")
        reply = await say(agent, "wb-shopper", str(task))
    assert "номер заказа" in asked
    assert f"Заказ {task} в пути." in reply, reply
    assert "(Wildberries" not in reply and "может только оператор" in reply, reply
    assert {c.headers.get("Authorization") for c in emulator.calls} == {token}
    assert emulator.paths()[:2] == ["/api/v3/orders/status", "/api/v3/orders"]


async def test_ozon_order_status_in_the_dialog(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    posting = "48213307-0051-1"
    api = OzonApi("836120", "ozon-e2e-key")
    api.fbs[posting] = ozon_posting(
        posting, "delivering", "posting_on_way_to_city", tracking="0200000000012"
    )
    emulator = await emulator_factory(api)
    env = {
        "EASYFLOW_ORDER_SOURCES": "ozon",
        "OZON_CLIENT_ID": "836120",
        "OZON_API_KEY": "ozon-e2e-key",
        "OZON_API_URL": emulator.url,
    }
    with action_server(tmp_path, env=env) as url:
        agent = await asyncio.to_thread(agent_for, url)
        asked = await say(agent, "ozon-shopper", "где мой заказ")
        reply = await say(agent, "ozon-shopper", posting)
    assert "номер заказа" in asked
    assert f"Заказ {posting} в пути." in reply, reply
    assert "0200000000012" not in reply and "Ozon Логистика" not in reply, reply
    assert set(emulator.paths()) == {"/v3/posting/fbs/get"}


# --- Bitrix24 and Shopify (shop platforms) ---------------------------------------
# Their emulators live with the client tests, in tests/actions/integrations/.


async def test_bitrix24_order_status_in_the_dialog(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    from tests.actions.integrations.bitrix24_portal import (
        BitrixPortal,
        shipment,
        store_order,
    )

    portal = BitrixPortal(user_id="1", code="e2es3cr3t")
    portal.add(
        store_order(
            236,
            "45871",
            status="P",
            payed=True,
            shipments=[shipment(deducted=True, status="DF", tracking="1234567890")],
        )
    )
    emulator = await emulator_factory(portal)
    env = {
        "EASYFLOW_ORDER_SOURCES": "bitrix24",
        "BITRIX24_WEBHOOK_URL": portal.webhook(emulator.url),
    }
    with action_server(tmp_path, env=env) as url:
        agent = await asyncio.to_thread(agent_for, url)
        asked = await say(agent, "bitrix-shopper", "где мой заказ")
        check = await say(agent, "bitrix-shopper", "#45871")
        reply = await say(agent, "bitrix-shopper", "4567")  # +7 916 123-45-67
    assert "номер заказа" in asked
    assert "последние 4 цифры телефона" in check and "1234567890" not in check
    assert "Заказ 45871 в пути (СДЭК, трек-номер 1234567890)" in reply, reply
    assert set(emulator.paths()) == {
        "/rest/1/e2es3cr3t/sale.order.list.json",
        "/rest/1/e2es3cr3t/sale.order.get.json",
    }
    assert "e2es3cr3t" not in (tmp_path / "actions.log").read_text()


async def test_shopify_order_status_in_the_dialog(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    from tests.actions.integrations.shopify_store import (
        ShopifyStore,
        fulfilment,
        order,
    )

    store = ShopifyStore(token="shpat_e2e_token")
    store.add(order(1001, fulfillment="FULFILLED", fulfillments=[fulfilment()]))
    emulator = await emulator_factory(store)
    env = {
        "EASYFLOW_ORDER_SOURCES": "shopify",
        "SHOPIFY_SHOP_URL": emulator.url,
        "SHOPIFY_ACCESS_TOKEN": "shpat_e2e_token",
    }
    with action_server(tmp_path, env=env) as url:
        agent = await asyncio.to_thread(agent_for, url)
        asked = await say(agent, "shopify-shopper", "где мой заказ")
        reply = await say(agent, "shopify-shopper", "#1001")
    assert "номер заказа" in asked
    assert "Заказ 1001 в пути." in reply, reply
    assert "1Z999AA10123456784" not in reply and "СДЭК" not in reply, reply
    assert set(emulator.paths()) == {"/admin/api/2025-01/graphql.json"}
    assert {c.json["variables"]["q"] for c in emulator.calls} == {"name:#1001"}


async def test_ambiguous_number_is_asked_with_buttons_then_answered(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    """Wildberries and a Shopify shop both have 13833711: the shopper picks one."""
    from tests.actions.integrations.shopify_store import (
        ShopifyStore,
        fulfilment,
        order,
    )

    number = "13833711"
    wb_api = WildberriesApi("wb-e2e-token")
    wb_api.add(wb_task(int(number), datetime.now(UTC) - timedelta(days=1)),
               "confirm", "waiting")  # fmt: skip
    wb = await emulator_factory(wb_api)
    store = ShopifyStore(token="shpat_e2e_token")
    store.add(order(int(number), fulfillment="FULFILLED", fulfillments=[fulfilment()]))
    shop = await emulator_factory(store)
    env = {
        "EASYFLOW_ORDER_SOURCES": "wildberries,shopify",
        "WB_API_TOKEN": "wb-e2e-token",
        "WB_MARKETPLACE_URL": wb.url,
        "SHOPIFY_SHOP_URL": shop.url,
        "SHOPIFY_ACCESS_TOKEN": "shpat_e2e_token",
    }
    with action_server(tmp_path, env=env) as url:
        agent = await asyncio.to_thread(agent_for, url)
        await say(agent, "both-shopper", "где мой заказ")
        question = await agent.handle_text(number, sender_id="both-shopper")
        buttons = [b for reply in question or [] for b in reply.get("buttons") or []]
        payload = next(b["payload"] for b in buttons if b["title"] == "Shopify")
        reply = await say(agent, "both-shopper", payload)
        typed = await say(agent, "other-shopper", f"где мой заказ {number}")
        typed_reply = await say(agent, "other-shopper", "на вайлдберриз")
    texts = "\n".join(r.get("text") or "" for r in question or [])
    assert f"Заказ с номером {number} есть в нескольких местах" in texts, texts
    assert [b["title"] for b in buttons] == ["Wildberries", "Shopify"]
    assert payload == '/inform{"order_source":"shopify"}'
    assert f"Заказ {number} в пути." in reply, reply  # Shopify's: no phone
    assert "1Z999AA10123456784" not in reply, reply
    assert "Где вы его оформили?" in typed
    assert f"Заказ {number}" in typed_reply and "собирается" in typed_reply, typed_reply
