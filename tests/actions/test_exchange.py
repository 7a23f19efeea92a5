"""Exchanges against the seeded demo store: the offer, the form's questions, the
exchange itself, and sources that cannot exchange (like the marketplaces)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.integrations.base import (
    ExchangeRequest,
    OperationUnsupported,
    Order,
    OrderState,
    ReturnRequest,
)
from actions.integrations.demo_store import DemoStore
from actions.orders import ActionHandleOrderRequest
from actions.orders.exchange import (
    ActionAskExchangeItem,
    ActionAskExchangeVariant,
    ActionExchangeOffer,
    ValidateExchangeForm,
)
from actions.pending import ActionResolvePending
from actions.services import Services, configure, get_services
from actions.settings import Settings
from actions.support_log import SupportLog
from tests.conftest import entity, make_tracker, responses, slot, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
HOODIE_ORDER = "48213307-0051-1"  # delivered 3 days ago: hoodie M grey
TWO_ITEMS = "A-10241"  # delivered: sneakers 41 black, t-shirt M white


def events_slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def handle(
    order_id: str, text: str, entities: list[dict[str, Any]] | None = None
) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [user(text, "exchange_item", entities)],
        slots={
            "order_request": "exchange",
            "order_id": order_id,
            "verified_orders": [order_id],
        },
    )
    events = await ActionHandleOrderRequest().run(dispatcher, tracker, DOMAIN)
    return events_slots(events), dispatcher


async def confirm(pending: str, order_id: str, text: str = "да") -> list[str]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [slot("pending", pending), user(text, "affirm")],
        slots={"verified_orders": [order_id]},
    )
    events = await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
    return responses(dispatcher) + [
        f"pending={e['value']}" for e in events if e.get("name") == "pending"
    ]


class TestDemoStore:
    pytestmark = pytest.mark.usefixtures("services")

    async def test_size_in_the_message_is_offered_then_exchanged(
        self, store: DemoStore
    ) -> None:
        slots, dispatcher = await handle(
            HOODIE_ORDER, "хочу обменять худи на размер L", [entity("size", "L")]
        )
        assert responses(dispatcher) == ["utter_exchange_confirm"]
        offer = dispatcher.messages[0]
        assert (offer["current"], offer["wanted"]) == ("M, серый", "L, серый")
        assert slots["pending"] == f"exchange:{HOODIE_ORDER}|HOOD-OVR|L/grey"

        said = await confirm(slots["pending"], HOODIE_ORDER)
        assert said == ["utter_exchange_started", "pending=None"]
        returns = await store.get_returns(HOODIE_ORDER)
        assert [r.state.value for r in returns] == ["requested"]
        replacement = await store.get_order(_replacement(store))
        assert replacement is not None
        assert replacement.state is OrderState.PROCESSING and replacement.paid
        assert [(i.sku, i.size, i.color) for i in replacement.items] == [
            ("HOOD-OVR", "L", "grey")
        ]
        assert (
            replacement.customer_phone
            == (await store.get_order(HOODIE_ORDER)).customer_phone
        )

        # The exchange is a return: a second one is refused as for returns.
        _, again = await handle(HOODIE_ORDER, "хочу обменять худи на S")
        assert responses(again) == ["utter_return_exists_requested"]

    async def test_no_is_no_exchange(self, store: DemoStore) -> None:
        said = await confirm(f"exchange:{HOODIE_ORDER}|HOOD-OVR|L/grey", HOODIE_ORDER)
        assert said[:1] == ["utter_exchange_started"]
        other = f"exchange:{TWO_ITEMS}|TSH-BAS|L/white"
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            [slot("pending", other), user("нет", "deny")],
            slots={"verified_orders": [TWO_ITEMS]},
        )
        await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
        assert responses(dispatcher) == ["utter_exchange_kept"]
        assert await store.get_returns(TWO_ITEMS) == []

    async def test_one_size_up_out_of_stock_offers_what_there_is(self) -> None:
        # Sneakers 41 black -> 42 black, which the demo store has sold out.
        slots, dispatcher = await handle(
            TWO_ITEMS,
            "кроссовки малы, хочу обменять на размер больше",
            [entity("product", "кроссовки")],
        )
        assert responses(dispatcher) == ["utter_exchange_out_of_stock"]
        message = dispatcher.messages[0]
        assert message["wanted"] == "42, чёрный"
        titles = [b["title"] for b in message["buttons"]]
        assert titles[0] == "38, чёрный" and "41, чёрный" not in titles
        assert message["buttons"][0]["payload"] == (
            '/exchange_item{"exchange_item": "SNK-VIHR", "size": "38", '
            '"color": "black"}'
        )
        assert "pending" not in slots

    async def test_missing_item_and_size_start_the_form(self) -> None:
        slots, dispatcher = await handle(TWO_ITEMS, "хочу обмен")
        assert responses(dispatcher) == []
        assert slots == {
            "exchange_item": None,
            "exchange_variant": None,
            "exchange_asks": True,
        }

    async def test_the_form_asks_item_then_size_then_offers(self) -> None:
        form = ValidateExchangeForm()
        base = {"order_id": TWO_ITEMS, "verified_orders": [TWO_ITEMS]}
        first = user("хочу обмен", "exchange_item")

        ask = CollectingDispatcher()
        await ActionAskExchangeItem().run(ask, make_tracker([first], base), DOMAIN)
        assert [b["title"] for b in ask.messages[0]["buttons"]] == [
            "Кроссовки беговые «Вихрь» (41, чёрный)",
            "Футболка базовая (M, белый)",
        ]

        dispatcher = CollectingDispatcher()
        answer = make_tracker(
            [first, user("футболку", "inform", [entity("product", "футболку")])],
            {**base, "requested_slot": "exchange_item"},
            active_loop="exchange_form",
        )
        value = await form.extract_exchange_item(dispatcher, answer, DOMAIN)
        assert await form.validate_exchange_item(
            value["exchange_item"], dispatcher, answer, DOMAIN
        ) == {"exchange_item": "TSH-BAS"}

        chosen = {**base, "exchange_item": "TSH-BAS"}
        ask = CollectingDispatcher()
        await ActionAskExchangeVariant().run(ask, make_tracker([first], chosen), DOMAIN)
        assert ask.messages[0]["current"] == "M, белый"
        assert "L, белый" in ask.messages[0]["options"]

        for text, expected in (("M", None), ("на размер побольше", "L/")):
            tracker = make_tracker(
                [first, user(text, "inform")],
                {**chosen, "requested_slot": "exchange_variant"},
                active_loop="exchange_form",
            )
            dispatcher = CollectingDispatcher()
            value = await form.extract_exchange_variant(dispatcher, tracker, DOMAIN)
            result = await form.validate_exchange_variant(
                value["exchange_variant"], dispatcher, tracker, DOMAIN
            )
            assert result == {"exchange_variant": expected}
        assert responses(dispatcher) == []

        dispatcher = CollectingDispatcher()
        done = make_tracker([first], {**chosen, "exchange_variant": "L/"})
        events = await ActionExchangeOffer().run(dispatcher, done, DOMAIN)
        assert responses(dispatcher) == ["utter_exchange_confirm"]
        assert events_slots(events)["pending"] == (
            f"exchange:{TWO_ITEMS}|TSH-BAS|L/white"
        )

    async def test_a_colour_answer_and_a_same_size_answer(self) -> None:
        form = ValidateExchangeForm()
        slots = {
            "order_id": HOODIE_ORDER,
            "verified_orders": [HOODIE_ORDER],
            "exchange_item": "HOOD-OVR",
            "requested_slot": "exchange_variant",
        }
        for text, expected, said in (
            ("чёрный", "/black", []),
            ("серый", None, ["utter_exchange_same_variant"]),
            ("не знаю", None, ["utter_exchange_variant_unclear"]),
        ):
            tracker = make_tracker([user(text, "inform")], slots, "exchange_form")
            dispatcher = CollectingDispatcher()
            value = await form.extract_exchange_variant(dispatcher, tracker, DOMAIN)
            result = await form.validate_exchange_variant(
                value["exchange_variant"], dispatcher, tracker, DOMAIN
            )
            assert result == {"exchange_variant": expected}
            assert responses(dispatcher) == said

    async def test_a_request_for_a_human_is_not_a_size(self) -> None:
        tracker = make_tracker(
            [user("позовите оператора", "human_handoff")],
            {
                "order_id": HOODIE_ORDER,
                "exchange_item": "HOOD-OVR",
                "requested_slot": "exchange_variant",
            },  # fmt: skip
            "exchange_form",
        )
        form = ValidateExchangeForm()
        assert (
            await form.extract_exchange_variant(CollectingDispatcher(), tracker, DOMAIN)
            == {}
        )

    @pytest.mark.parametrize(
        ("order_id", "expected"),
        [
            ("45871", "utter_return_window_expired"),
            ("A-10234", "utter_return_not_delivered"),
            ("59120044-0007-1", "utter_return_exists_received"),
        ],
    )
    async def test_what_cannot_be_returned_cannot_be_exchanged(
        self, order_id: str, expected: str
    ) -> None:
        slots, dispatcher = await handle(order_id, "хочу обменять на размер L")
        assert responses(dispatcher) == [expected]
        assert "pending" not in slots

    async def test_an_unverified_yes_exchanges_nothing(self, store: DemoStore) -> None:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            [slot("pending", f"exchange:{HOODIE_ORDER}|HOOD-OVR|L/grey"),
             user("да", "affirm")]
        )  # fmt: skip
        await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
        assert responses(dispatcher) == ["utter_order_verification_failed"]
        assert await store.get_returns(HOODIE_ORDER) == []

    async def test_english_labels(self) -> None:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker(
            [user("can I exchange the hoodie for a black one", "exchange_item",
                  [entity("color", "black")])],
            slots={"order_request": "exchange", "order_id": HOODIE_ORDER,
                   "verified_orders": [HOODIE_ORDER]},
        )  # fmt: skip
        await ActionHandleOrderRequest().run(dispatcher, tracker, DOMAIN)
        assert responses(dispatcher) == ["utter_exchange_confirm"]
        assert dispatcher.messages[0]["wanted"] == "M, black"


def _replacement(store: DemoStore) -> str:
    with sqlite3.connect(store.path) as db:
        (order_id,) = db.execute(
            "SELECT order_id FROM orders WHERE order_id LIKE 'E-%'"
        ).fetchone()
    return str(order_id)


# --- sources that cannot exchange ------------------------------------------------


class ReturnsOnlyShop(DemoStore):
    """Starts returns but has no exchange in its API (like most shop platforms)."""

    name = "bitrix24"
    exchanges = False

    async def start_exchange(
        self, order_id: str, sku: str, size: str | None, color: str | None
    ) -> ExchangeRequest:
        raise self.unsupported("start_exchange")


class Marketplace(ReturnsOnlyShop):
    """Neither: the buyer returns in the app (Wildberries, Ozon)."""

    name = "wildberries"

    async def get_order(self, order_id: str) -> Order | None:
        order = await super().get_order(order_id)
        return replace(order, channel=self.name) if order else None

    async def start_return(self, order_id: str) -> ReturnRequest:
        raise OperationUnsupported(self.name, "start_return")

    async def get_returns(self, order_id: str) -> list[ReturnRequest]:
        raise OperationUnsupported(self.name, "get_returns")


@pytest.fixture
def use(tmp_path: Path) -> Iterator[Any]:
    def install(store: DemoStore) -> Services:
        settings = Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)})
        services = Services.from_settings(settings)
        services.orders = store
        services.support = SupportLog(tmp_path / "support.sqlite")
        configure(services)
        return services

    yield install
    configure(None)


async def test_a_shop_without_exchange_offers_a_return_and_starts_it_on_yes(
    use: Any, tmp_path: Path
) -> None:
    store = ReturnsOnlyShop(tmp_path / "store.sqlite")
    use(store)
    slots, dispatcher = await handle(
        TWO_ITEMS, "хочу обменять кроссовки на 43", [entity("size", "43")]
    )
    # The shopper hears it will be a return before agreeing to anything.
    assert responses(dispatcher) == ["utter_exchange_offer_return"]
    assert await store.get_returns(TWO_ITEMS) == []
    said = await confirm(slots["pending"], TWO_ITEMS)
    assert said == ["utter_exchange_as_return", "pending=None"]
    assert len(await store.get_returns(TWO_ITEMS)) == 1


async def test_a_marketplace_order_is_returned_in_its_app_or_by_an_operator(
    use: Any, tmp_path: Path
) -> None:
    services = use(Marketplace(tmp_path / "store.sqlite"))
    slots, dispatcher = await handle(
        HOODIE_ORDER, "хочу обменять худи на L", [entity("size", "L")]
    )
    # No "shall I exchange?" first: the marketplace's app is named at once.
    assert responses(dispatcher) == ["utter_exchange_in_marketplace"]
    summary = slots["pending"]
    assert summary == f"handoff:exchange {HOODIE_ORDER} HOOD-OVR -> L/grey"

    assert (await confirm(summary, HOODIE_ORDER))[0] == "utter_handoff"
    assert services.support.count("handoffs") == 1
    assert get_services() is services


async def test_a_return_for_the_fit_offers_an_exchange_first(
    services: Services, store: DemoStore
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [user("худи мала, хочу вернуть", "return_item")],
        slots={"order_request": "return", "order_id": HOODIE_ORDER,
               "verified_orders": [HOODIE_ORDER]},
    )  # fmt: skip
    events = await ActionHandleOrderRequest().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_return_or_exchange"]
    assert events_slots(events) == {"pending": f"return:{HOODIE_ORDER}"}
    assert await store.get_returns(HOODIE_ORDER) == []

    said = await confirm(f"return:{HOODIE_ORDER}", HOODIE_ORDER, "вернуть деньги")
    assert said == ["utter_return_started", "pending=None"]
    assert len(await store.get_returns(HOODIE_ORDER)) == 1
