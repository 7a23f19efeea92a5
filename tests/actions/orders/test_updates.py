"""Order updates in the dialog: the offer, the yes, the update, "стоп".

Against the real demo store and followers on temporary files; the update's
notices go to a Rasa emulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.integrations.base import OrderState
from actions.integrations.demo_store import DemoStore
from actions.orders import ActionHandleOrderRequest
from actions.orders.updates import ActionOrderUpdate, ActionStopOrderUpdates
from actions.pending import ActionResolvePending
from actions.services import Services, configure
from actions.settings import Settings
from tests.conftest import bot, entity, make_tracker, responses, slot, user
from tests.emulators import Emulator

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "domain.yml").read_text()
)
SHIPPED = "A-10234"  # shipped, with a tracking number
OPEN = "3728419056"  # processing
DELIVERED = "48213307-0051-1"
TELEGRAM = "telegram:555"


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


@pytest.fixture
def services(tmp_path: Path, rasa: Emulator) -> Any:
    settings = Settings.from_env(
        {
            "EASYFLOW_DATA_DIR": str(tmp_path),
            "EASYFLOW_RASA_URL": rasa.url,
            "EASYFLOW_QUIET_HOURS": "off",
        }
    )
    built = Services.from_settings(settings)
    configure(built)
    yield built
    configure(None)


def said_on(channel: str | None, text: str, intent: str) -> dict[str, Any]:
    event = user(text, intent)
    if channel:
        event["input_channel"] = channel
    return event


async def status(
    order_id: str, channel: str | None = "telegram", earlier: list | None = None
) -> tuple[list, list[str]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [*(earlier or []), said_on(channel, f"где заказ {order_id}", "order_status")],
        slots={
            "order_request": "status",
            "order_id": order_id,
            "verified_orders": [order_id],
        },
        sender_id=TELEGRAM,
    )
    events = await ActionHandleOrderRequest().run(dispatcher, tracker, DOMAIN)
    return events, responses(dispatcher)


async def answer(
    pending: str, text: str, intent: str, verified: list[str], sender: str = TELEGRAM
) -> list[str]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            slot("pending", pending),
            bot("utter_offer_order_updates"),
            said_on("telegram", text, intent),
        ],
        slots={"verified_orders": verified},
        sender_id=sender,
    )
    await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
    return responses(dispatcher)


async def update(
    order_id: str, state: str, verified: list[str], sender: str = TELEGRAM
) -> tuple[list, list[str], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            user(
                "/EXTERNAL_order_status_changed",
                "EXTERNAL_order_status_changed",
                [entity("order_id", order_id), entity("order_state", state)],
            )
        ],
        slots={"verified_orders": verified},
        sender_id=sender,
    )
    events = await ActionOrderUpdate().run(dispatcher, tracker, DOMAIN)
    return events, responses(dispatcher), dispatcher


def pending_of(events: list) -> str | None:
    values = [e["value"] for e in events if e.get("name") == "pending"]
    return values[-1] if values else None


async def test_a_moving_order_is_offered_updates_once_on_a_messenger(
    services: Services,
) -> None:
    events, said = await status(OPEN)
    assert said == ["utter_order_status_processing", "utter_offer_order_updates"]
    assert pending_of(events) == f"follow:|{OPEN}"

    earlier = [slot("pending", f"follow:|{OPEN}"), user("нет", "deny")]
    _, again = await status(OPEN, earlier=earlier)
    assert again == ["utter_order_status_processing"]  # asked once is enough


@pytest.mark.parametrize("channel", ["rest", "alice", None])
async def test_no_offer_where_the_bot_cannot_write_first(
    services: Services, channel: str | None
) -> None:
    _, said = await status(OPEN, channel=channel)
    assert said == ["utter_order_status_processing"]


async def test_no_offer_for_a_delivered_order(services: Services) -> None:
    _, said = await status(DELIVERED)
    assert said == ["utter_order_status_delivered"]


async def test_yes_follows_the_order_and_no_does_not(services: Services) -> None:
    followers = services.order_updates.followers
    assert await answer(f"follow:|{OPEN}", "нет", "deny", [OPEN]) == [
        "utter_how_can_help"
    ]
    assert not await followers.follows(TELEGRAM, OPEN)

    said = await answer(f"follow:|{OPEN}", "да", "affirm", [OPEN])
    assert said == ["utter_order_updates_on"]
    assert await followers.follows(TELEGRAM, OPEN)
    _, later = await status(OPEN)
    assert later == ["utter_order_status_processing"]  # already following


async def test_a_forged_pending_yes_follows_nothing(services: Services) -> None:
    """The pending slot is the tracker's word: an attacker's tracker that names
    someone else's order without having verified it follows nothing."""
    said = await answer(f"follow:|{OPEN}", "да", "affirm", verified=[])
    assert said == ["utter_how_can_help"]
    assert not await services.order_updates.followers.follows(TELEGRAM, OPEN)
    said = await answer("follow:|A-00000", "да", "affirm", verified=["A-00000"])
    assert said == ["utter_how_can_help"]


async def test_the_update_tells_a_verified_follower_the_details(
    services: Services,
) -> None:
    demo: DemoStore = services.orders  # type: ignore[assignment]
    await demo.set_state(OPEN, OrderState.SHIPPED, "TRACK-77")
    events, said, dispatcher = await update(OPEN, "shipped", verified=[OPEN])
    assert said == ["utter_order_status_shipped", "utter_order_updates_stop_hint"]
    assert dispatcher.messages[0]["tracking"] == "TRACK-77"
    assert pending_of(events) == f"updates:{OPEN}"

    _, coarse, details = await update(OPEN, "shipped", verified=[], sender="vk:9")
    assert coarse == ["utter_order_brief_shipped", "utter_order_updates_stop_hint"]
    assert "TRACK-77" not in str(details.messages)


async def test_an_update_overtaken_by_a_newer_state_says_nothing(
    services: Services,
) -> None:
    demo: DemoStore = services.orders  # type: ignore[assignment]
    await demo.set_state(OPEN, OrderState.DELIVERED)
    events, said, _ = await update(OPEN, "shipped", verified=[OPEN])
    assert said == [] and events == []
    _, unknown, _ = await update("A-00000", "shipped", verified=[])
    assert unknown == []


async def test_stop_after_an_update_and_stop_any_time(services: Services) -> None:
    followers = services.order_updates.followers
    await followers.follow(TELEGRAM, OPEN)
    await followers.follow(TELEGRAM, SHIPPED)
    # "стоп" (a deny) right after an update
    said = await answer(f"updates:{OPEN}", "стоп", "deny", [OPEN])
    assert said == ["utter_order_updates_stopped"]
    assert not await followers.follows(TELEGRAM, SHIPPED)

    await followers.follow(TELEGRAM, OPEN)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [user("не присылайте уведомления", "stop_updates")], sender_id=TELEGRAM
    )
    await ActionStopOrderUpdates().run(dispatcher, tracker, DOMAIN)
    assert responses(dispatcher) == ["utter_order_updates_stopped"]
    assert not await followers.follows(TELEGRAM, OPEN)


async def test_a_cancel_tells_the_other_followers_not_the_canceller(
    services: Services, rasa: Emulator
) -> None:
    followers = services.order_updates.followers
    await followers.follow(TELEGRAM, OPEN)
    await followers.follow("viber:7", OPEN)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [
            slot("pending", f"cancel:{OPEN}"),
            bot("utter_confirm_cancel"),
            user("да", "affirm"),
        ],
        slots={"verified_orders": [OPEN]},
        sender_id=TELEGRAM,
    )
    await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
    told = [c.raw_path for c in rasa.calls if c.raw_path.endswith("trigger_intent")]
    assert told == ["/conversations/viber:7/trigger_intent"]
