"""Order details only after the shopper proves the order is theirs: attacks first.

Against the real demo store on the default settings (``phone_last4``): an attacker
knows order numbers (they are sequential) but not the buyer's phone.
"""

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.integrations.base import OrderState
from actions.integrations.demo_store import DemoStore, demo_phone
from actions.orders import ActionHandleOrderRequest, ValidateOrderForm
from actions.pending import ActionResolvePending
from actions.privacy import (
    ORDER_LIMIT,
    SENDER_LIMIT,
    AttemptLimiter,
    SqliteFailureStore,
)
from actions.services import Services, configure
from actions.settings import Settings
from tests.conftest import bot, make_tracker, responses, slot, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
FORM_SLOTS = ["order_id", "phone_last4", "delivery_address"]
ORDER = "A-10234"  # shipped, with a carrier and a tracking number
OPEN = "3728419056"  # processing: can still be cancelled or re-addressed


# Keys every CollectingDispatcher message has; anything else is a template value.
_STANDARD = {
    "text",
    "buttons",
    "elements",
    "custom",
    "template",
    "response",
    "image",
    "attachment",
}


def last4(order_id: str) -> str:
    return re.sub(r"\D", "", demo_phone(order_id))[-4:]


def wrong(order_id: str) -> str:
    return "0000" if last4(order_id) != "0000" else "1111"


def tracker(
    order_id: str = ORDER,
    request: str = "status",
    sender: str = "tg:1",
    channel: str | None = None,
    **slots: Any,
) -> Any:
    event = user("где мой заказ", "order_status")
    if channel:
        event["input_channel"] = channel
    return make_tracker(
        [event],
        slots={"order_id": order_id, "order_request": request, **slots},
        sender_id=sender,
    )


async def required(t: Any) -> list[str]:
    return await ValidateOrderForm().required_slots(
        FORM_SLOTS, CollectingDispatcher(), t, DOMAIN
    )


async def handle(t: Any) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await ActionHandleOrderRequest().run(dispatcher, t, DOMAIN)
    return events, dispatcher


async def answer(digits: str, t: Any) -> tuple[dict, list[str]]:
    dispatcher = CollectingDispatcher()
    result = await ValidateOrderForm().validate_phone_last4(
        digits, dispatcher, t, DOMAIN
    )
    return result, responses(dispatcher)


def assert_no_details(dispatcher: CollectingDispatcher, order_id: str) -> None:
    """Nothing but the order number reaches a template, and no template shows more."""
    for message in dispatcher.messages:
        assert set(message) - _STANDARD <= {"order_id", "ticket"}, message
        assert message.get("order_id") in (None, order_id)
        for variation in DOMAIN["responses"][message["response"]]:
            fields = set(re.findall(r"{(\w+)}", variation["text"]))
            assert fields <= {"order_id", "ticket"}, (message["response"], fields)


def forget_phone(store: DemoStore, order_id: str) -> None:
    """The order as Shopify, Ozon or Wildberries give it: no buyer phone."""
    store.ensure_ready()
    with sqlite3.connect(store.path) as db:
        db.execute(
            "UPDATE orders SET customer_phone = NULL WHERE order_id = ?", (order_id,)
        )


def test_privacy_is_on_by_default(tmp_path: Path) -> None:
    settings = Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)})
    assert settings.order_privacy == "phone_last4"
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    assert "\nEASYFLOW_ORDER_PRIVACY=phone_last4\n" in example


async def test_unsafe_opt_out_asks_nothing(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"EASYFLOW_DATA_DIR": str(tmp_path), "EASYFLOW_ORDER_PRIVACY": "none"}
    )
    configure(Services.from_settings(settings))
    try:
        assert await required(tracker()) == ["order_id"]
    finally:
        configure(None)


pytestmark = pytest.mark.usefixtures("services")


async def test_the_last_four_digits_are_asked() -> None:
    assert await required(tracker()) == ["order_id", "phone_last4"]


@pytest.mark.parametrize(
    ("order_id", "state"),
    [
        ("A-10234", OrderState.SHIPPED),
        ("48213307-0051-1", OrderState.DELIVERED),
        ("3728419056", OrderState.PROCESSING),
        ("A-10240", OrderState.AWAITING_PAYMENT),
        ("A-10235", OrderState.CANCELLED),
        ("A-10236", OrderState.READY_FOR_PICKUP),
    ],
)
async def test_unverified_status_is_the_coarse_state_only(
    order_id: str, state: OrderState, store: DemoStore
) -> None:
    events, dispatcher = await handle(tracker(order_id))
    assert responses(dispatcher) == [
        f"utter_order_brief_{state.value}",
        "utter_order_verification_failed",
    ]
    assert_no_details(dispatcher, order_id)
    order = await store.get_order(order_id)
    assert order is not None
    shown = repr(dispatcher.messages)
    for secret in (order.address, order.tracking_number, order.carrier):
        assert not secret or secret not in shown


async def test_unverified_cancel_does_nothing(store: DemoStore) -> None:
    events, dispatcher = await handle(tracker(OPEN, "cancel"))
    assert responses(dispatcher) == ["utter_order_verification_failed"]
    assert not [e for e in events if e.get("name") == "pending"]
    # A forged "cancel?" question answered "yes" is refused too.
    dispatcher = CollectingDispatcher()
    forged = make_tracker(
        [
            user("отмените", "cancel_order"),
            slot("pending", f"cancel:{OPEN}"),
            bot("utter_confirm_cancel"),
            user("да", "affirm"),
        ]
    )
    await ActionResolvePending().run(dispatcher, forged, DOMAIN)
    assert responses(dispatcher) == ["utter_order_verification_failed"]
    order = await store.get_order(OPEN)
    assert order is not None and order.state is OrderState.PROCESSING


async def test_unverified_address_change_does_nothing(store: DemoStore) -> None:
    before = await store.get_order(OPEN)
    change = tracker(OPEN, "change_delivery", delivery_address="Москва, Тверская 7")
    assert "delivery_address" not in await required(change)
    _, dispatcher = await handle(change)
    assert responses(dispatcher) == ["utter_order_verification_failed"]
    after = await store.get_order(OPEN)
    assert before is not None and after is not None
    assert after.address == before.address
    # The refusal for a shipped order used to quote the current address.
    _, dispatcher = await handle(tracker(ORDER, "change_delivery"))
    assert_no_details(dispatcher, ORDER)


@pytest.mark.parametrize("request_kind", ["return", "refund", "pay"])
async def test_unverified_returns_refunds_and_payment_links_are_refused(
    request_kind: str, store: DemoStore
) -> None:
    order_id = {"return": "48213307-0051-1", "refund": "A-10235", "pay": "A-10240"}
    events, dispatcher = await handle(tracker(order_id[request_kind], request_kind))
    assert responses(dispatcher) == ["utter_order_verification_failed"]
    assert not [e for e in events if e.get("name") == "payment_link"]
    assert await store.get_returns("48213307-0051-1") == []


async def test_source_without_a_phone_routes_changes_to_a_human(
    store: DemoStore, services: Services
) -> None:
    forget_phone(store, OPEN)
    # Never verified, whatever digits are given; nothing to ask.
    assert await required(tracker(OPEN)) == ["order_id"]
    result, said = await answer("", tracker(OPEN))
    assert result["phone_last4"] is None and "verified_orders" not in result

    _, dispatcher = await handle(tracker(OPEN))
    assert responses(dispatcher) == [
        "utter_order_brief_processing",
        "utter_order_details_by_operator",
    ]
    assert_no_details(dispatcher, OPEN)

    events, dispatcher = await handle(tracker(OPEN, "cancel"))
    assert responses(dispatcher) == ["utter_order_change_by_operator", "utter_handoff"]
    assert {"event": "slot", "name": "handoff", "value": "requested"} in [
        {k: e[k] for k in ("event", "name", "value")} for e in events
    ]
    assert services.support.count("handoffs") == 1
    order = await store.get_order(OPEN)
    assert order is not None and order.state is OrderState.PROCESSING
    # A "yes" to the offer in a status answer starts the handoff too.
    dispatcher = CollectingDispatcher()
    offer = make_tracker([bot("utter_order_details_by_operator"), user("да", "affirm")])
    events = await ActionResolvePending().run(dispatcher, offer, DOMAIN)
    assert responses(dispatcher) == ["utter_handoff"]


async def test_brute_force_locks_the_order_for_every_sender() -> None:
    digits = wrong(ORDER)
    for attempt in range(ORDER_LIMIT - 1):
        result, said = await answer(digits, tracker(sender=f"tg:attacker-{attempt}"))
        assert said == ["utter_phone_mismatch"]
    result, said = await answer(digits, tracker(sender="tg:attacker-last"))
    assert said == [] and result["order_id_attempts"] == 3  # the form ends

    # A fresh sender id with the right digits is not even checked.
    fresh = tracker(sender="tg:owner")
    assert await required(fresh) == ["order_id"]
    result, said = await answer(last4(ORDER), fresh)
    assert "verified_orders" not in result
    _, dispatcher = await handle(fresh)
    assert responses(dispatcher) == [
        "utter_order_brief_shipped",
        "utter_order_verification_locked",
    ]
    assert_no_details(dispatcher, ORDER)
    # Other orders stay open to that sender.
    assert await required(tracker(OPEN, sender="tg:owner")) == [
        "order_id",
        "phone_last4",
    ]


async def test_brute_force_across_orders_locks_the_sender() -> None:
    orders = ["A-10240", "45871", "A-10236"]
    spent = 0
    for order_id in orders:
        for _ in range(min(ORDER_LIMIT - 1, SENDER_LIMIT - spent)):
            await answer(wrong(order_id), tracker(order_id, sender="tg:walker"))
            spent += 1
    assert spent == SENDER_LIMIT
    locked = tracker(OPEN, sender="tg:walker")
    result, _ = await answer(last4(OPEN), locked)
    assert "verified_orders" not in result
    _, dispatcher = await handle(locked)
    assert responses(dispatcher)[-1] == "utter_order_verification_locked"
    # Someone else is not locked out of the same order.
    assert await required(tracker(OPEN, sender="tg:other")) == [
        "order_id",
        "phone_last4",
    ]


async def test_counters_are_shared_by_processes_on_one_host(tmp_path: Path) -> None:
    path = tmp_path / "verification.sqlite"
    first, second = (
        AttemptLimiter(SqliteFailureStore(path)),
        AttemptLimiter(SqliteFailureStore(path)),
    )
    store = DemoStore(tmp_path / "store.sqlite")
    order = await store.get_order(ORDER)
    assert order is not None
    for number in range(ORDER_LIMIT):
        await first.failed(order, f"tg:{number}")
    assert await second.locked(order, "tg:new")


async def test_verified_path_end_to_end(store: DemoStore) -> None:
    t = tracker(OPEN, "status")
    assert await required(t) == ["order_id", "phone_last4"]
    result, said = await answer(last4(OPEN), t)
    assert said == [] and result["verified_orders"] == [OPEN]
    assert result["phone_last4"] == "verified"

    t = tracker(ORDER, verified_orders=[ORDER])
    assert await required(t) == ["order_id"]
    _, dispatcher = await handle(t)
    assert responses(dispatcher) == ["utter_order_status_shipped"]
    order = await store.get_order(ORDER)
    assert order is not None
    assert dispatcher.messages[0]["tracking"] == order.tracking_number

    events, dispatcher = await handle(tracker(OPEN, "cancel", verified_orders=[OPEN]))
    assert responses(dispatcher) == ["utter_confirm_cancel"]
    dispatcher = CollectingDispatcher()
    confirm = make_tracker(
        [
            user("отмените", "cancel_order"),
            slot("pending", f"cancel:{OPEN}"),
            bot("utter_confirm_cancel"),
            user("да", "affirm"),
        ],
        slots={"verified_orders": [OPEN]},
    )
    await ActionResolvePending().run(dispatcher, confirm, DOMAIN)
    assert responses(dispatcher) == ["utter_order_cancelled_refund"]
    cancelled = await store.get_order(OPEN)
    assert cancelled is not None and cancelled.state is OrderState.CANCELLED


async def test_whatsapp_phone_counts_only_from_the_whatsapp_connector() -> None:
    phone = re.sub(r"\D", "", demo_phone(ORDER))
    sender = f"whatsapp:{phone}"
    assert await required(tracker(sender=sender, channel="whatsapp")) == ["order_id"]
    # The same sender id through another channel proves nothing.
    assert await required(tracker(sender=sender, channel="rest")) == [
        "order_id",
        "phone_last4",
    ]
    assert await required(
        tracker(sender="whatsapp:79991112233", channel="whatsapp")
    ) == ["order_id", "phone_last4"]


async def test_verifying_one_order_does_not_open_another() -> None:
    other = tracker(verified_orders=[OPEN])
    assert await required(other) == ["order_id", "phone_last4"]


async def test_the_marker_an_earlier_order_left_is_not_a_wrong_answer() -> None:
    """Found building the mobile app: after verifying one order, asking about
    another made Rasa validate the slot's old "verified" against the new order,
    which said «Цифры не совпадают» and counted a failure towards its lock."""
    for _ in range(ORDER_LIMIT + 1):
        result, said = await answer(
            "verified", tracker(sender="tg:owner", verified_orders=[OPEN])
        )
        assert (result, said) == ({"phone_last4": None}, [])
    result, said = await answer(last4(ORDER), tracker(sender="tg:owner"))
    assert ORDER in result["verified_orders"]  # nothing was counted: not locked


@pytest.mark.parametrize(
    ("text", "extracted"),
    [
        ("6199", True),
        ("последние цифры 6199", True),
        ("12", True),  # a wrong answer is still an answer: it counts as a failure
        ("+7 916 123-61-99", True),
        ("позовите оператора", False),
        ("а где мой возврат?", False),
        ("👍", False),
        ("/affirm", False),
    ],
)
async def test_only_a_message_with_digits_answers_the_digit_question(
    text: str, extracted: bool
) -> None:
    t = make_tracker(
        [user(text, "inform")],
        slots={"order_id": ORDER, "requested_slot": "phone_last4"},
    )
    result = await ValidateOrderForm().extract_phone_last4(
        CollectingDispatcher(), t, DOMAIN
    )
    assert result == ({"phone_last4": text} if extracted else {})


async def test_digits_are_not_taken_for_another_question() -> None:
    t = make_tracker(
        [user("6199", "inform")],
        slots={"order_id": ORDER, "requested_slot": "delivery_address"},
    )
    assert (
        await ValidateOrderForm().extract_phone_last4(CollectingDispatcher(), t, DOMAIN)
        == {}
    )


async def test_a_thread_keeps_its_connection_and_others_see_its_writes(
    tmp_path: Path,
) -> None:
    store = SqliteFailureStore(tmp_path / "verification.sqlite")
    assert store._connect() is store._connect()
    now = time.time()
    await store.add(["order:A-1"], now)  # in a pool thread, on its own connection
    await store.add(["order:A-1"], now)
    assert await store.count("order:A-1", now - 1) == 2
    assert SqliteFailureStore(store.path)._connect().execute(
        "SELECT COUNT(*) FROM failures"
    ).fetchone() == (2,)
