"""Order details only after the shopper proves the order is theirs."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.integrations.demo_store import demo_phone
from actions.orders import ActionHandleOrderRequest, ValidateOrderForm
from actions.services import Services, configure
from actions.settings import Settings
from tests.conftest import make_tracker, responses, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
FORM_SLOTS = ["order_id", "phone_last4", "delivery_address"]
ORDER = "A-10234"
LAST4 = demo_phone(ORDER)[-5:].replace("-", "")


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[Services]:
    settings = Settings.from_env(
        {"EASYFLOW_DATA_DIR": str(tmp_path), "EASYFLOW_ORDER_PRIVACY": "phone_last4"}
    )
    services = Services.from_settings(settings)
    configure(services)
    yield services
    configure(None)


def tracker(text: str = "где мой заказ", sender: str = "tg:1", **slots: Any) -> Any:
    return make_tracker(
        [user(text, "order_status")],
        slots={"order_id": ORDER, "order_request": "status", **slots},
        sender_id=sender,
    )


async def required(t: Any) -> list[str]:
    return await ValidateOrderForm().required_slots(
        FORM_SLOTS, CollectingDispatcher(), t, DOMAIN
    )


@pytest.mark.usefixtures("services")
async def test_no_policy_asks_nothing_more() -> None:
    assert await required(tracker()) == ["order_id"]


@pytest.mark.usefixtures("strict")
async def test_policy_asks_for_the_last_four_digits() -> None:
    assert await required(tracker()) == ["order_id", "phone_last4"]


@pytest.mark.usefixtures("strict")
async def test_right_digits_verify_the_order_for_the_conversation() -> None:
    dispatcher = CollectingDispatcher()
    result = await ValidateOrderForm().validate_phone_last4(
        LAST4, dispatcher, tracker(LAST4), DOMAIN
    )
    assert result == {
        "phone_last4": "verified",
        "verified_orders": [ORDER],
        "order_id_attempts": 0,
    }
    verified = tracker(verified_orders=[ORDER])
    assert await required(verified) == ["order_id"]
    dispatcher = CollectingDispatcher()
    await ActionHandleOrderRequest().run(dispatcher, verified, DOMAIN)
    assert responses(dispatcher) == ["utter_order_status_shipped"]


@pytest.mark.usefixtures("strict")
async def test_wrong_digits_are_refused_and_counted() -> None:
    wrong = "0000" if LAST4 != "0000" else "1111"
    dispatcher = CollectingDispatcher()
    result = await ValidateOrderForm().validate_phone_last4(
        wrong, dispatcher, tracker(wrong, order_id_attempts=1), DOMAIN
    )
    assert result == {"phone_last4": None, "order_id_attempts": 2}
    assert responses(dispatcher) == ["utter_phone_mismatch"]


@pytest.mark.usefixtures("strict")
async def test_unverified_order_details_are_never_shown() -> None:
    assert await required(tracker(order_id_attempts=3)) == []
    dispatcher = CollectingDispatcher()
    await ActionHandleOrderRequest().run(dispatcher, tracker(), DOMAIN)
    assert responses(dispatcher) == ["utter_order_verification_failed"]
    assert "eta" not in dispatcher.messages[0]


@pytest.mark.usefixtures("strict")
async def test_whatsapp_sender_with_the_order_phone_needs_no_digits() -> None:
    phone = "".join(ch for ch in demo_phone(ORDER) if ch.isdigit())
    assert await required(tracker(sender=f"whatsapp:{phone}")) == ["order_id"]
    assert await required(tracker(sender="whatsapp:79991112233")) == [
        "order_id",
        "phone_last4",
    ]


@pytest.mark.usefixtures("strict")
async def test_verifying_one_order_does_not_open_another() -> None:
    other = tracker(verified_orders=["3728419056"])
    assert await required(other) == ["order_id", "phone_last4"]
