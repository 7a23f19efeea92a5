"""The verified phone and «мои заказы»: what links a phone and what does not
(attacks first), against the seeded demo store."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import ActionLinkContact, ActionMyOrders
from actions.integrations.demo_store import demo_phone
from actions.orders import ActionHandleOrderRequest
from actions.services import Services
from tests.conftest import make_tracker, responses, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
PHONE = re.sub(r"\D", "", demo_phone("A-10234"))
LISTED = [
    "utter_my_orders_header",
    "utter_order_brief_shipped",
    "utter_my_orders_footer",
]

pytestmark = pytest.mark.usefixtures("services")


def shared(
    channel: str | None,
    sender: str = "telegram:555",
    own: Any = True,
    phone: str = PHONE,
    media_channel: str = "telegram",
) -> dict[str, Any]:
    event = user("/shopper_sent_contact", "shopper_sent_contact")
    event["input_channel"] = channel
    event["metadata"] = {
        "media": [
            {
                "kind": "contact",
                "channel": media_channel,
                "phone_number": phone,
                "user_id": 555,
                "own": own,
            }
        ]
    }
    return {"event": event, "sender": sender}


async def link(case: dict[str, Any]) -> tuple[list, list[str]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([case["event"]], sender_id=case["sender"])
    events = await ActionLinkContact().run(dispatcher, tracker, DOMAIN)
    return events, responses(dispatcher)


def slot_value(events: list, name: str) -> Any:
    values = [e["value"] for e in events if e.get("name") == name]
    return values[-1] if values else None


async def test_the_shoppers_own_contact_links_the_phone_and_lists_orders() -> None:
    events, said = await link(shared("telegram"))
    assert said == ["utter_contact_linked", *LISTED]
    assert slot_value(events, "linked_phone") == PHONE
    assert slot_value(events, "verified_orders") == ["A-10234"]


@pytest.mark.parametrize(
    "case",
    [
        shared("telegram", own=False),  # someone else's contact card
        shared("telegram", own="true"),  # not the connector's boolean
        shared("rest", sender="rest:555"),  # REST metadata is the caller's word
        shared("rest", sender="telegram:555"),  # a Telegram id over another door
        shared("socketio", sender="webchat:abc"),
        shared("telegram", media_channel="vk"),
        shared("telegram", phone="12345"),  # not a phone
    ],
    ids=["not-own", "string-own", "rest", "rest-as-telegram", "webchat", "vk", "short"],
)
async def test_nothing_else_links_a_phone(case: dict[str, Any]) -> None:
    events, said = await link(case)
    assert said == ["utter_contact_not_own"]
    assert events == []


async def my_orders(
    channel: str, sender: str, slots: dict[str, Any] | None = None
) -> list[str]:
    event = user("мои заказы", "my_orders")
    event["input_channel"] = channel
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([event], slots=slots, sender_id=sender)
    await ActionMyOrders().run(dispatcher, tracker, DOMAIN)
    return responses(dispatcher)


async def test_my_orders_asks_how_to_know_the_shopper() -> None:
    assert await my_orders("telegram", "telegram:1") == ["utter_ask_share_contact"]
    assert await my_orders("socketio", "webchat:x") == ["utter_my_orders_need_number"]
    assert await my_orders("rest", "rest:x") == ["utter_my_orders_need_number"]


async def test_a_linked_or_whatsapp_phone_lists_that_buyers_orders() -> None:
    linked = await my_orders("telegram", "telegram:1", {"linked_phone": PHONE})
    assert linked == LISTED
    assert await my_orders("whatsapp", f"whatsapp:{PHONE}") == LISTED
    # The same sender id typed over REST proves nothing.
    assert await my_orders("rest", f"whatsapp:{PHONE}") == [
        "utter_my_orders_need_number"
    ]
    assert await my_orders(
        "telegram", "telegram:1", {"linked_phone": "79000000000"}
    ) == ["utter_my_orders_none"]


async def test_the_linked_phone_is_a_privacy_factor_for_that_buyer_only() -> None:
    async def status(order_id: str, phone: str) -> list[str]:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            [user(f"где заказ {order_id}", "order_status")],
            slots={
                "order_request": "status",
                "order_id": order_id,
                "linked_phone": phone,
            },
            sender_id="telegram:1",
        )
        await ActionHandleOrderRequest().run(dispatcher, tracker, DOMAIN)
        return responses(dispatcher)

    assert await status("A-10234", PHONE) == ["utter_order_status_shipped"]
    other = await status("A-10240", PHONE)  # not this buyer's order
    assert "utter_order_status_awaiting_payment" not in other


async def test_marketplaces_alone_cannot_search_by_phone(services: Services) -> None:
    from actions.integrations.wildberries import WildberriesSource

    services.orders = WildberriesSource("token", marketplace_url="http://127.0.0.1:9")
    assert await my_orders("whatsapp", f"whatsapp:{PHONE}") == [
        "utter_my_orders_no_contacts"
    ]
    await services.orders.close()


async def test_my_orders_come_from_shopify_beside_the_demo_store(
    services: Services, emulator_factory: Any
) -> None:
    """A WhatsApp shopper's orders from the shop's Shopify and the demo store,
    newest first, while the Bitrix24 portal fails (a wrong webhook); the listed
    Shopify order then needs no digit question."""
    from actions.integrations.bitrix24 import Bitrix24Source
    from actions.integrations.router import RoutingOrderSource
    from actions.integrations.shopify import ShopifySource
    from common.http import RetryPolicy
    from tests.actions.integrations.bitrix24_portal import BitrixPortal
    from tests.actions.integrations.shopify_store import TOKEN, ShopifyStore, order

    fast = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.02)
    shop = ShopifyStore()
    shop.customers = {"gid://shopify/Customer/42": f"+{PHONE}"}
    shop.add(
        order(
            1001,
            financial="PENDING",
            customer="gid://shopify/Customer/42",
            created_at="2099-01-01T09:00:00Z",
        )
    )
    shop.add(order(1002, created_at="2099-01-02T09:00:00Z"))  # a guest's
    shopify = ShopifySource((await emulator_factory(shop)).url, TOKEN, retry=fast)
    portal = BitrixPortal()
    portal_url = (await emulator_factory(portal)).url
    bitrix = Bitrix24Source(portal.webhook(portal_url, code="wr0ng"), retry=fast)
    demo = services.orders
    services.orders = RoutingOrderSource([demo, shopify, bitrix])
    try:
        event = user("мои заказы", "my_orders")
        event["input_channel"] = "whatsapp"
        dispatcher = CollectingDispatcher()
        tracker = make_tracker([event], sender_id=f"whatsapp:{PHONE}")
        events = await ActionMyOrders().run(dispatcher, tracker, DOMAIN)

        assert responses(dispatcher) == [
            "utter_my_orders_header",
            "utter_order_brief_awaiting_payment",
            "utter_order_brief_shipped",
            "utter_my_orders_footer",
        ]
        assert dispatcher.messages[0]["count"] == 2
        assert [m.get("order_id") for m in dispatcher.messages[1:3]] == [
            "1001",
            "A-10234",
        ]
        verified = slot_value(events, "verified_orders")
        assert verified == ["1001", "A-10234"]

        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            [user("где заказ 1001", "order_status")],
            slots={
                "order_request": "status",
                "order_id": "1001",
                "verified_orders": verified,
            },
            sender_id=f"whatsapp:{PHONE}",
        )
        await ActionHandleOrderRequest().run(dispatcher, tracker, DOMAIN)
        assert responses(dispatcher) == ["utter_order_status_awaiting_payment"]
    finally:
        services.orders = demo
        await shopify.close()
        await bitrix.close()
