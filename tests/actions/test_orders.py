"""Order form validation and order requests against the seeded demo store.

Requests here come from a shopper who verified the order (``verified_orders``);
what an unverified one gets is in test_privacy.py.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.integrations.base import OrderState, RefundState
from actions.integrations.demo_store import DemoStore
from actions.orders import ActionHandleOrderRequest, ValidateOrderForm
from actions.pending import ActionResolvePending
from actions.services import get_services
from tests.conftest import bot, make_tracker, responses, slot, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)

pytestmark = pytest.mark.usefixtures("services")


async def _validate(
    text: str, intent: str = "inform", **slots: Any
) -> tuple[dict, list]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [user(text, intent)],
        slots={"requested_slot": "order_id", **slots},
        active_loop="order_form",
    )
    form = ValidateOrderForm()
    value = await form.extract_order_id(dispatcher, tracker, DOMAIN)
    value = value.get("order_id", slots.get("order_id"))
    result = await form.validate_order_id(value, dispatcher, tracker, DOMAIN)
    return result, responses(dispatcher)


async def _handle(
    request: str, order_id: str | None, text: str = "где мой заказ", **slots: Any
) -> tuple[list, list[str], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    # Verified as the form does it: under the number the source knows the order by.
    order = await get_services().orders.get_order(order_id) if order_id else None
    tracker = make_tracker(
        [user(text, "order_status")],
        slots={
            "order_request": request,
            "order_id": order_id,
            "verified_orders": [order.order_id] if order else [],
            **slots,
        },
    )
    events = await ActionHandleOrderRequest().run(dispatcher, tracker, DOMAIN)
    return events, responses(dispatcher), dispatcher


async def test_known_order_number_is_accepted() -> None:
    result, said = await _validate("3728419056", order_id="3728419056")
    assert result == {
        "order_id": "3728419056",
        "order_id_attempts": 0,
        "phone_last4": None,
        "one_time_code": None,
        "order_source": None,
    }
    assert said == []


async def test_bare_short_shop_number_is_taken_when_asked() -> None:
    result, said = await _validate("номер 45871")
    assert result["order_id"] == "45871"


async def test_malformed_number_is_explained_and_counted() -> None:
    result, said = await _validate("A-12", order_id_attempts=1)
    assert result == {"order_id": None, "order_id_attempts": 2}
    assert said == ["utter_order_id_invalid"]


async def test_unknown_number_is_reported() -> None:
    result, said = await _validate("9999999999", order_id="9999999999")
    assert result["order_id"] is None and result["order_id_attempts"] == 1
    assert said == ["utter_order_not_found"]


async def test_message_without_digits_is_left_to_other_intents() -> None:
    tracker = make_tracker(
        [user("а как оплатить?", "payment_methods")],
        slots={"requested_slot": "order_id"},
    )
    assert (
        await ValidateOrderForm().extract_order_id(
            CollectingDispatcher(), tracker, DOMAIN
        )
        == {}
    )


async def test_after_three_failures_the_form_ends_and_a_human_is_offered() -> None:
    tracker = make_tracker([user("A-1", "inform")], slots={"order_id_attempts": 3})
    assert (
        await ValidateOrderForm().required_slots(
            ["order_id", "delivery_address"], CollectingDispatcher(), tracker, DOMAIN
        )
        == []
    )
    events, said, _ = await _handle("status", None)
    assert said == ["utter_order_id_give_up"]
    assert {
        "event": "slot",
        "name": "order_id_attempts",
        "value": 0,
        "timestamp": None,
    } in events


@pytest.mark.parametrize(
    ("order_id", "expected"),
    [
        ("A-10234", "utter_order_status_shipped"),
        ("48213307-0051-1", "utter_order_status_delivered"),
        ("48213307-0051", "utter_order_status_delivered"),
        ("3728419056", "utter_order_status_processing"),
        ("A-10240", "utter_order_status_awaiting_payment"),
        ("A-10235", "utter_order_status_cancelled"),
        ("A-10236", "utter_order_status_ready_for_pickup"),
    ],
)
async def test_status_of_every_state(order_id: str, expected: str) -> None:
    _, said, dispatcher = await _handle("status", order_id)
    assert said == [expected]
    assert dispatcher.messages[0]["order_id"].startswith(order_id)


async def test_status_dates_follow_the_language() -> None:
    _, _, ru = await _handle("status", "A-10234", text="где заказ")
    _, _, en = await _handle("status", "A-10234", text="where is my order")
    assert ru.messages[0]["eta"].count(".") == 2  # 01.12.2026
    assert "," in en.messages[0]["eta"]  # Dec 01, 2026


async def test_cancel_asks_first_then_cancels_on_yes(store: DemoStore) -> None:
    events, said, _ = await _handle("cancel", "3728419056", text="отмените заказ")
    assert said == ["utter_confirm_cancel"]
    pending = {
        "event": "slot",
        "name": "pending",
        "value": "cancel:3728419056",
        "timestamp": None,
    }
    assert pending in events
    assert (await store.get_order("3728419056")).state is OrderState.PROCESSING

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            user("отмените заказ", "cancel_order"),
            slot("pending", "cancel:3728419056"),
            bot("utter_confirm_cancel"),
            user("да", "affirm"),
        ],
        slots={"verified_orders": ["3728419056"]},
    )
    await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_order_cancelled_refund"]
    assert (await store.get_order("3728419056")).state is OrderState.CANCELLED
    refunds = await store.get_refunds("3728419056")
    assert refunds[0].state is RefundState.PENDING


async def test_no_keeps_the_order(store: DemoStore) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker([slot("pending", "cancel:3728419056"), user("нет", "deny")])
    await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_cancel_kept"]
    assert (await store.get_order("3728419056")).state is OrderState.PROCESSING


async def test_a_late_yes_never_cancels(store: DemoStore) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            slot("pending", "cancel:3728419056"),
            user("а какие способы оплаты", "payment_methods"),
            user("да", "affirm"),
        ]
    )
    await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_how_can_help"]
    assert (await store.get_order("3728419056")).state is OrderState.PROCESSING


async def test_shipped_order_cannot_be_cancelled() -> None:
    events, said, _ = await _handle("cancel", "A-10234")
    assert said == ["utter_cancel_refused"] and events == []


async def test_change_delivery_asks_address_only_when_possible(
    store: DemoStore,
) -> None:
    form = ValidateOrderForm()
    domain_slots = ["order_id", "delivery_address"]

    async def required(order_id: str) -> list[str]:
        tracker = make_tracker(
            [user("смените адрес", "change_delivery")],
            slots={
                "order_request": "change_delivery",
                "order_id": order_id,
                "verified_orders": [order_id],
            },
        )
        return await form.required_slots(
            domain_slots, CollectingDispatcher(), tracker, DOMAIN
        )

    assert await required("3728419056") == ["order_id", "delivery_address"]
    assert await required("A-10234") == ["order_id"]

    _, said, _ = await _handle(
        "change_delivery",
        "3728419056",
        delivery_address="Казань, ул. Баумана, д. 1, кв. 2",
    )
    assert said == ["utter_delivery_changed"]
    assert (await store.get_order("3728419056")).address.startswith(
        "Казань, ул. Баумана"
    )
    _, said, _ = await _handle("change_delivery", "A-10234")
    assert said == ["utter_change_delivery_refused"]


@pytest.mark.parametrize(
    ("address", "ok"), [("дом", False), ("Москва, Тверская 7", True)]
)
async def test_address_needs_a_street_and_a_number(address: str, ok: bool) -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateOrderForm().validate_delivery_address(
        address, dispatcher, make_tracker([user(address, "inform")]), DOMAIN
    )
    assert (result["delivery_address"] is not None) is ok
    assert responses(dispatcher) == ([] if ok else ["utter_address_invalid"])


async def test_return_within_window_is_started(store: DemoStore) -> None:
    _, said, dispatcher = await _handle(
        "return", "48213307-0051-1", text="хочу вернуть"
    )
    assert said == ["utter_return_started"]
    return_id = dispatcher.messages[0]["return_id"]
    assert [r.return_id for r in await store.get_returns("48213307-0051-1")] == [
        return_id
    ]
    _, said, _ = await _handle("return", "48213307-0051-1")
    assert said == ["utter_return_exists_requested"]


@pytest.mark.parametrize(
    ("order_id", "expected"),
    [
        ("45871", "utter_return_window_expired"),
        ("A-10234", "utter_return_not_delivered"),
        ("59120044-0007-1", "utter_return_exists_received"),
    ],
)
async def test_return_refusals(order_id: str, expected: str) -> None:
    _, said, _ = await _handle("return", order_id)
    assert said == [expected]


@pytest.mark.parametrize(
    ("order_id", "expected"),
    [
        ("A-10235", "utter_refund_pending"),
        ("59120044-0007-1", "utter_refund_completed"),
        ("A-10234", "utter_refund_none"),
    ],
)
async def test_refund_status(order_id: str, expected: str) -> None:
    _, said, _ = await _handle("refund", order_id)
    assert said == [expected]


async def test_refund_waits_for_the_returned_item() -> None:
    await _handle("return", "48213307-0051-1")
    _, said, _ = await _handle("refund", "48213307-0051-1")
    assert said == ["utter_refund_after_return"]


async def test_order_deleted_between_turns_is_reported(store: DemoStore) -> None:
    _, said, _ = await _handle("status", "B-99999")
    assert said == ["utter_order_not_found"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("terrible service, my order is 10 days late", "complaint"),
        ("ужас, жду уже 12 дней, позовите оператора", "human_handoff"),
        ("ставлю 5 из 5", "rate_conversation"),
    ],
)
async def test_digits_in_another_request_are_no_order_number(
    text: str, intent: str
) -> None:
    """Found by the dialogue fuzzer: asked for a number, a complaint about "10
    days" was read as order "10" and the shopper got four messages."""
    tracker = make_tracker([user(text, intent)], slots={"requested_slot": "order_id"})
    assert (
        await ValidateOrderForm().extract_order_id(
            CollectingDispatcher(), tracker, DOMAIN
        )
        == {}
    )


async def test_a_bare_number_answer_is_still_taken() -> None:
    tracker = make_tracker(
        [user("это 45871", "inform")], slots={"requested_slot": "order_id"}
    )
    assert await ValidateOrderForm().extract_order_id(
        CollectingDispatcher(), tracker, DOMAIN
    ) == {"order_id": "45871"}
