"""An order number that two configured sources both have (Wildberries and a
Shopify shop): the assistant asks where it was bought, with buttons, and goes on
with the answer. Real sources against their emulators, routed by the router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.integrations.router import RoutingOrderSource
from actions.integrations.shopify import ShopifyConfig, ShopifySource
from actions.integrations.wildberries import WildberriesSource
from actions.orders import (
    ActionAskOrderSource,
    ActionHandleOrderRequest,
    ValidateOrderForm,
    pick_source,
)
from actions.services import Services, configure
from actions.settings import Settings
from actions.support_log import SupportLog
from common.settings import Reader
from tests.actions.integrations.shopify_store import ShopifyStore, fulfilment, order
from tests.conftest import make_tracker, responses, user
from tests.emulators import Emulator
from tests.marketplace_emulators import UTC, WildberriesApi, wb_task

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
NUMBER = "13833711"
Factory = Callable[[Any], Awaitable[Emulator]]


@pytest.fixture
async def both(
    emulator_factory: Factory, tmp_path: Path
) -> AsyncIterator[tuple[Emulator, Emulator]]:
    wb_api = WildberriesApi("wb-token")
    wb_api.add(wb_task(int(NUMBER), datetime.now(UTC) - timedelta(days=1)),
               "confirm", "waiting")  # fmt: skip
    wb = await emulator_factory(wb_api)
    store = ShopifyStore(token="shpat_both")
    store.add(order(int(NUMBER), fulfillment="FULFILLED", fulfillments=[fulfilment()]))
    shop = await emulator_factory(store)
    sources = [
        WildberriesSource("wb-token", marketplace_url=wb.url),
        ShopifySource.from_config(
            ShopifyConfig.from_env(
                Reader(
                    {"SHOPIFY_SHOP_URL": shop.url, "SHOPIFY_ACCESS_TOKEN": "shpat_both"}
                )
            )
        ),
    ]
    settings = Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)})
    plain = Services.from_settings(settings)
    configure(
        Services(settings, RoutingOrderSource(sources), plain.payments,
                 SupportLog(settings.support_log_path))
    )  # fmt: skip
    yield wb, shop
    configure(None)
    for source in sources:
        await source.close()


def tracker(text: str, **slots: Any) -> Any:
    return make_tracker(
        [user(text, "order_status")],
        slots={"order_request": "status", **slots},
        active_loop="order_form",
    )


@pytest.mark.usefixtures("both")
async def test_the_shopper_is_asked_where_and_answered_from_there() -> None:
    form = ValidateOrderForm()
    dispatcher = CollectingDispatcher()
    validated = await form.validate_order_id(
        NUMBER, dispatcher, tracker(NUMBER), DOMAIN
    )
    assert validated["order_id"] == NUMBER and validated["order_source"] is None
    assert dispatcher.messages == []  # the question comes from the ask action

    asked = tracker(NUMBER, order_id=NUMBER, requested_slot="order_id")
    needed = await form.required_slots(
        ["order_id", "order_source", "phone_last4", "delivery_address"],
        dispatcher, asked, DOMAIN,
    )  # fmt: skip
    assert needed == ["order_id", "order_source"]

    ask = CollectingDispatcher()
    await ActionAskOrderSource().run(ask, asked, DOMAIN)
    (question,) = ask.messages
    assert question["response"] == "utter_ask_order_source"
    assert question["sources"] == "Wildberries, Shopify"
    assert question["buttons"] == [
        {"title": "Wildberries", "payload": '/inform{"order_source":"wildberries"}'},
        {"title": "Shopify", "payload": '/inform{"order_source":"shopify"}'},
    ]

    chosen = await form.validate_order_source(
        "shopify", CollectingDispatcher(), asked, DOMAIN
    )
    assert chosen == {"order_source": "shopify"}
    done = tracker(NUMBER, order_id=NUMBER, order_source="shopify")
    assert await form.required_slots(
        ["order_id", "order_source", "phone_last4", "delivery_address"],
        dispatcher, done, DOMAIN,
    ) == ["order_id", "order_source"]  # both filled: nothing more to ask  # fmt: skip

    # Neither source gives a phone to verify by: the coarse state of the chosen
    # source's order (Shopify's shipped, not WB's processing), details by operator.
    answer = CollectingDispatcher()
    await ActionHandleOrderRequest().run(answer, done, DOMAIN)
    assert responses(answer) == [
        "utter_order_brief_shipped",
        "utter_order_details_by_operator",
    ]
    assert "1Z999AA10123456784" not in repr(answer.messages)

    from_wb = CollectingDispatcher()
    await ActionHandleOrderRequest().run(
        from_wb, tracker(NUMBER, order_id=NUMBER, order_source="wildberries"), DOMAIN
    )
    assert responses(from_wb) == [
        "utter_order_brief_processing",
        "utter_order_details_by_operator",
    ]


@pytest.mark.usefixtures("both")
async def test_typed_answers_and_unclear_ones() -> None:
    form = ValidateOrderForm()
    asked = tracker("на сайте", order_id=NUMBER, requested_slot="order_source")
    for typed, source in [
        ("на вайлдберриз", "wildberries"),
        ("WB", "wildberries"),
        ("на сайте магазина", "shopify"),
        ("в озоне", None),  # not one of the two
        ("не помню", None),
    ]:
        result = await form.validate_order_source(
            typed, CollectingDispatcher(), asked, DOMAIN
        )
        assert result == {"order_source": source}, typed
    extracted = await form.extract_order_source(
        CollectingDispatcher(), tracker("на вб", requested_slot="order_source"), DOMAIN
    )
    assert extracted == {"order_source": "на вб"}


def test_pick_source_needs_one_match() -> None:
    assert pick_source("магазин", ["wildberries", "bitrix24", "shopify"]) is None
    assert pick_source("bitrix24", ["wildberries", "bitrix24"]) == "bitrix24"
    assert pick_source("Ozon", ["ozon", "demo"]) == "ozon"


@pytest.mark.usefixtures("both")
async def test_unambiguous_numbers_are_not_asked(
    both: tuple[Emulator, Emulator],
) -> None:
    wb, _ = both
    form = ValidateOrderForm()
    result = await form.validate_order_id(
        "#1001", CollectingDispatcher(), tracker("#1001"), DOMAIN
    )
    assert result["order_id"] is None  # not in the shop: not found, no question
    assert not await form.extract_order_source(
        CollectingDispatcher(), tracker(NUMBER, requested_slot="order_id"), DOMAIN
    )


@pytest.mark.usefixtures("both")
async def test_the_form_validation_action_takes_a_typed_answer() -> None:
    """What rasa_sdk runs for the form: extraction, validation, next slot."""
    typed = make_tracker(
        [user("на вайлдберриз", "inform")],
        slots={"order_request": "status", "order_id": NUMBER,
               "requested_slot": "order_source"},
        active_loop="order_form",
    )  # fmt: skip
    events = await ValidateOrderForm().run(CollectingDispatcher(), typed, DOMAIN)
    sets = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert sets.get("order_source") == "wildberries", events
    assert sets.get("requested_slot") is None
