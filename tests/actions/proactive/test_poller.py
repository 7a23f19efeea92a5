"""Polling followed orders: a Wildberries order (the marketplace emulator) that
moves on is told once, even across a restart of the action server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.demo_store import DemoStore
from actions.integrations.router import RoutingOrderSource
from actions.integrations.wildberries import WildberriesSource
from actions.proactive.notifier import RasaNotifier
from actions.proactive.order_updates import Followers, OrderUpdates
from actions.proactive.poller import OrderPoller
from actions.proactive.queue import NoticeQueue
from common.http import RetryPolicy
from tests.emulators import Emulator
from tests.marketplace_emulators import WildberriesApi, wb_task

TOKEN = "wb-poll-token"
NOW = datetime(2026, 5, 20, 12, 0, 0, tzinfo=timezone.utc)
TASK = 13833711


@pytest.fixture
def api() -> WildberriesApi:
    wb = WildberriesApi(TOKEN)
    wb.add(wb_task(TASK, NOW - timedelta(days=3)), "confirm", "waiting")
    return wb


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


@pytest.fixture
async def wildberries(
    emulator_factory: Any, api: WildberriesApi
) -> AsyncIterator[tuple[WildberriesSource, Emulator]]:
    emulator = await emulator_factory(api)
    source = WildberriesSource(
        TOKEN,
        marketplace_url=emulator.url,
        retry=RetryPolicy(max_attempts=2, base_delay_s=0.01),
        clock=lambda: NOW,
    )
    yield source, emulator
    await source.close()


class Process:
    """One action-server process's poller over the shared files."""

    def __init__(self, tmp_path: Path, orders: Any, rasa: Emulator) -> None:
        self.notifier = RasaNotifier(rasa.url)
        queue = NoticeQueue(tmp_path / "notices.sqlite", self.notifier)
        self.updates = OrderUpdates(Followers(tmp_path / "followers.sqlite"), queue)
        self.poller = OrderPoller(orders, self.updates)


def told(rasa: Emulator) -> list[tuple[str, str]]:
    return [
        (c.raw_path.split("/")[2], c.json["entities"]["order_state"])
        for c in rasa.calls
        if c.raw_path.endswith("/trigger_intent")
    ]


async def test_a_new_status_is_told_once_even_after_a_restart(
    tmp_path: Path,
    wildberries: tuple[WildberriesSource, Emulator],
    api: WildberriesApi,
    rasa: Emulator,
) -> None:
    source, _ = wildberries
    first = Process(tmp_path, source, rasa)
    await first.updates.followers.follow(
        "telegram:1", str(TASK), "wildberries", state="processing"
    )
    assert await first.poller.poll_once() == 0  # nothing new
    api.statuses[TASK] = ("complete", "sent_to_carrier")

    assert await first.poller.poll_once() == 1
    assert told(rasa) == [("telegram:1", "shipped")]
    restarted = Process(tmp_path, source, rasa)  # a new process, same database
    assert await restarted.poller.poll_once() == 0
    assert told(rasa) == [("telegram:1", "shipped")]

    api.statuses[TASK] = ("complete", "sold")
    assert await restarted.poller.poll_once() == 1
    assert told(rasa)[-1] == ("telegram:1", "delivered")
    # Delivered is final: the order is no longer followed nor polled.
    assert await restarted.updates.followers.watched(10) == []
    await first.notifier.close()
    await restarted.notifier.close()


async def test_a_crash_between_telling_and_recording_tells_nobody_twice(
    tmp_path: Path,
    wildberries: tuple[WildberriesSource, Emulator],
    api: WildberriesApi,
    rasa: Emulator,
) -> None:
    source, _ = wildberries
    process = Process(tmp_path, source, rasa)
    followers = process.updates.followers
    await followers.follow("vk:5", str(TASK), "wildberries", state="processing")
    api.statuses[TASK] = ("complete", "waiting")
    order = await source.get_order(str(TASK))
    assert order is not None
    await process.updates.changed(order, "wildberries")  # told, then "crashed"

    assert await process.poller.poll_once() == 1  # seen as new: not yet recorded
    assert told(rasa) == [("vk:5", "shipped")]  # but the queue's key held
    await process.notifier.close()


async def test_an_unreachable_marketplace_skips_the_round_and_tries_again(
    tmp_path: Path,
    wildberries: tuple[WildberriesSource, Emulator],
    api: WildberriesApi,
    rasa: Emulator,
) -> None:
    source, emulator = wildberries
    process = Process(tmp_path, source, rasa)
    await process.updates.followers.follow(
        "telegram:1", str(TASK), "wildberries", state="processing"
    )
    api.statuses[TASK] = ("complete", "sorted")
    for _ in range(2):  # both of the source's tries in this round
        emulator.fail_next(503, {"title": "unavailable"})
    assert await process.poller.poll_once() == 0
    assert told(rasa) == []
    assert await process.poller.poll_once() == 1
    assert told(rasa) == [("telegram:1", "shipped")]
    await process.notifier.close()


async def test_a_router_polls_each_follow_at_its_own_source(
    tmp_path: Path,
    wildberries: tuple[WildberriesSource, Emulator],
    api: WildberriesApi,
    rasa: Emulator,
) -> None:
    demo = DemoStore(tmp_path / "demo.sqlite")
    demo.ensure_ready()
    router = RoutingOrderSource([demo, wildberries[0]])
    process = Process(tmp_path, router, rasa)
    followers = process.updates.followers
    await followers.follow("telegram:1", str(TASK), "wildberries", state="processing")
    await followers.follow("telegram:2", "A-10240", "", state="awaiting_payment")
    api.statuses[TASK] = ("complete", "ready_for_pickup")

    assert await process.poller.poll_once() == 1
    assert told(rasa) == [("telegram:1", "ready_for_pickup")]
    await process.notifier.close()
