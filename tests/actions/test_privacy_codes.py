"""The e-mail code of order privacy in the order form, against a Shopify shop on
loopback (its orders carry an e-mail and no phone) and the file sender: attacks
first, then the owner.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import (
    ActionAskOneTimeCode,
    ActionHandleOrderRequest,
    ValidateOrderForm,
)
from actions.privacy import ORDER_LIMIT
from actions.services import Services, configure
from actions.settings import Providers, Settings
from tests.actions.integrations.shopify_store import (
    ShopifyStore,
    fulfilment,
    order,
)
from tests.conftest import make_tracker, responses, user

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
FORM_SLOTS = ["order_id", "phone_last4", "one_time_code", "delivery_address"]
EMAIL = "tanya@example.ru"
TOKEN = "shpat_codes_token"
ORDER = "1001"  # shipped, with a carrier and a tracking number
NO_EMAIL = "1002"


async def _services(
    factory: Callable[[Any], Any], tmp_path: Path, **extra: str
) -> Services:
    store = ShopifyStore(token=TOKEN)
    store.add(
        order(1001, fulfillment="FULFILLED", fulfillments=[fulfilment()], email=EMAIL)
    )
    store.add(order(1002))
    emulator = await factory(store)
    env = {
        "EASYFLOW_DATA_DIR": str(tmp_path),
        "EASYFLOW_ORDER_SOURCES": "shopify",
        "SHOPIFY_SHOP_URL": emulator.url,
        "SHOPIFY_ACCESS_TOKEN": TOKEN,
        **extra,
    }
    settings = Settings.from_env(env)
    return Services.from_settings(settings, Providers.from_env(settings, env))


@pytest.fixture
async def services(
    emulator_factory: Callable[[Any], Any], tmp_path: Path
) -> AsyncIterator[Services]:
    built = await _services(emulator_factory, tmp_path)
    configure(built)
    yield built
    configure(None)
    await built.orders.close()


def tracker(
    sender: str = "tg:owner",
    text: str = "где мой заказ",
    order_id: str = ORDER,
    request: str = "status",
    **slots: Any,
) -> Any:
    return make_tracker(
        [user(text, "inform")],
        slots={"order_id": order_id, "order_request": request, **slots},
        sender_id=sender,
    )


def mailbox(services: Services) -> list[dict[str, Any]]:
    path = services.settings.data_dir / "codes.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def required(t: Any) -> list[str]:
    return await ValidateOrderForm().required_slots(
        FORM_SLOTS, CollectingDispatcher(), t, DOMAIN
    )


async def ask(t: Any) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    await ActionAskOneTimeCode().run(dispatcher, t, DOMAIN)
    return dispatcher


async def answer(text: str, t: Any) -> tuple[dict, list[str]]:
    dispatcher = CollectingDispatcher()
    result = await ValidateOrderForm().validate_one_time_code(
        text, dispatcher, t, DOMAIN
    )
    return result, responses(dispatcher)


async def handle(t: Any) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    await ActionHandleOrderRequest().run(dispatcher, t, DOMAIN)
    return dispatcher


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def test_an_order_with_an_email_and_no_phone_asks_for_a_code(
    services: Services,
) -> None:
    assert await required(tracker()) == ["order_id", "one_time_code"]
    # No e-mail either: nothing to verify by, an operator decides (as before).
    assert await required(tracker(order_id=NO_EMAIL)) == ["order_id"]
    dispatcher = await handle(tracker(order_id=NO_EMAIL))
    assert responses(dispatcher) == [
        "utter_order_brief_processing",
        "utter_order_details_by_operator",
    ]


async def test_the_question_sends_a_code_and_says_where_masked(
    services: Services,
) -> None:
    dispatcher = await ask(tracker())

    [sent] = mailbox(services)
    assert sent["to"] == EMAIL and sent["order_id"] == ORDER
    assert sent["language"] == "ru"
    [message] = dispatcher.messages
    assert message["response"] == "utter_one_time_code_sent"
    assert (message["email"], message["minutes"]) == ("t***@e***.ru", 10)
    # Asked again (after a wrong answer): reminded, no second letter.
    again = await ask(tracker())
    assert responses(again) == ["utter_ask_order_form_one_time_code"]
    assert len(mailbox(services)) == 1
    assert EMAIL not in repr(dispatcher.messages + again.messages)


async def test_an_english_conversation_gets_an_english_letter(
    services: Services,
) -> None:
    await ask(tracker(text="where is my order"))
    assert mailbox(services)[0]["language"] == "en"


async def test_the_right_code_shows_the_details(services: Services) -> None:
    await ask(tracker())
    code = mailbox(services)[0]["code"]

    result, said = await answer(code, tracker())

    assert said == [] and result["verified_orders"] == [ORDER]
    assert result["one_time_code"] == "verified" and result["order_id_attempts"] == 0
    verified = tracker(verified_orders=[ORDER])
    assert await required(verified) == ["order_id"]
    dispatcher = await handle(verified)
    assert responses(dispatcher) == ["utter_order_status_shipped"]
    assert dispatcher.messages[0]["tracking"] == "1Z999AA10123456784"
    # One use: the same code again proves nothing.
    result, said = await answer(code, tracker())
    assert said == ["utter_one_time_code_expired"]
    assert "verified_orders" not in result


async def test_a_wrong_code_does_not_verify_and_counts(services: Services) -> None:
    await ask(tracker())
    code = mailbox(services)[0]["code"]

    result, said = await answer(wrong(code), tracker())

    assert said == ["utter_one_time_code_mismatch"]
    assert result == {"one_time_code": None, "order_id_attempts": 1}
    dispatcher = await handle(tracker())
    assert responses(dispatcher) == [
        "utter_order_brief_shipped",
        "utter_order_verification_failed",
    ]
    assert "1Z999AA10123456784" not in repr(dispatcher.messages)


async def test_digits_before_any_code_was_sent_are_not_an_attempt(
    services: Services,
) -> None:
    result, said = await answer("123456", tracker(sender="tg:early"))
    assert (result, said) == ({"one_time_code": None}, ["utter_one_time_code_expired"])


async def test_wrong_codes_lock_the_order_for_every_sender(
    services: Services,
) -> None:
    """Two attacker ids share the order's limit; after it the owner's right code
    is not even compared, and no code is sent to anyone."""
    await ask(tracker(sender="tg:attacker-1"))
    await ask(tracker(sender="tg:attacker-2"))
    first, second = (m["code"] for m in mailbox(services))
    for _ in range(ORDER_LIMIT - 1):
        _, said = await answer(wrong(first), tracker(sender="tg:attacker-1"))
        assert said == ["utter_one_time_code_mismatch"]
    result, said = await answer(wrong(second), tracker(sender="tg:attacker-2"))
    assert said == [] and result["order_id_attempts"] == 3  # the form ends

    # The second id, even with its own right code, stays locked.
    result, _ = await answer(second, tracker(sender="tg:attacker-2"))
    assert "verified_orders" not in result
    for sender in ("tg:attacker-2", "tg:owner"):
        assert await required(tracker(sender=sender)) == ["order_id"]
        dispatcher = await handle(tracker(sender=sender))
        assert responses(dispatcher) == [
            "utter_order_brief_shipped",
            "utter_order_verification_locked",
        ]
    assert len(mailbox(services)) == 2


async def test_sends_are_limited_per_order_for_every_conversation(
    services: Services,
) -> None:
    for number in range(3):
        await ask(tracker(sender=f"tg:{number}"))
    assert len(mailbox(services)) == 3

    flooder = tracker(sender="tg:flooder")
    assert await required(flooder) == ["order_id"]
    dispatcher = await handle(flooder)
    assert responses(dispatcher) == [
        "utter_order_brief_shipped",
        "utter_one_time_code_send_limit",
    ]
    # Asked anyway (a turn racing another): told, nothing sent.
    assert responses(await ask(flooder)) == ["utter_one_time_code_send_limit"]
    assert len(mailbox(services)) == 3
    # A conversation whose code still lives may still answer it.
    assert await required(tracker(sender="tg:0")) == ["order_id", "one_time_code"]


async def test_the_marker_an_earlier_order_left_is_not_an_answer(
    services: Services,
) -> None:
    result, said = await answer("verified", tracker(verified_orders=["999"]))
    assert (result, said) == ({"one_time_code": None}, [])


@pytest.mark.parametrize(
    ("text", "extracted"),
    [
        ("482913", True),
        ("код 482 913", True),
        ("позовите оператора", False),
        ("я не получил письмо", False),
        ("/affirm", False),
    ],
)
async def test_only_a_message_with_digits_answers_the_code_question(
    services: Services, text: str, extracted: bool
) -> None:
    t = make_tracker(
        [user(text, "inform")],
        slots={"order_id": ORDER, "requested_slot": "one_time_code"},
    )
    result = await ValidateOrderForm().extract_one_time_code(
        CollectingDispatcher(), t, DOMAIN
    )
    assert result == ({"one_time_code": text} if extracted else {})


async def test_without_a_sender_an_email_is_no_factor(
    emulator_factory: Callable[[Any], Any], tmp_path: Path
) -> None:
    built = await _services(emulator_factory, tmp_path, EASYFLOW_CODE_SENDER="none")
    configure(built)
    try:
        assert await required(tracker()) == ["order_id"]
        assert responses(await handle(tracker())) == [
            "utter_order_brief_shipped",
            "utter_order_details_by_operator",
        ]
    finally:
        configure(None)
        await built.orders.close()
