"""Followers and the updates they get (real SQLite, the Rasa emulator)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.base import OrderState
from actions.integrations.demo_store import DemoStore
from actions.proactive.notifier import ORDER_STATUS_INTENT, RasaNotifier
from actions.proactive.order_updates import MAX_PER_SENDER, Followers, OrderUpdates
from actions.proactive.queue import NoticeQueue
from actions.proactive.quiet_hours import QuietHours
from actions.settings import Settings
from common.settings import SettingsError
from tests.databases import fresh_postgres
from tests.emulators import Emulator


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def rasa(emulator_factory: Any) -> Emulator:
    return await emulator_factory(lambda call: {"tracker": {}, "messages": []})


def updates_at(
    tmp_path: Path, rasa: Emulator, clock: Clock, **kwargs: Any
) -> OrderUpdates:
    queue = NoticeQueue(
        tmp_path / "notices.sqlite", RasaNotifier(rasa.url), clock=clock
    )
    return OrderUpdates(Followers(tmp_path / "followers.sqlite"), queue, **kwargs)


def triggered(rasa: Emulator) -> list[tuple[str, dict[str, Any]]]:
    """(conversation, body) of every trigger_intent Rasa took."""
    return [
        (c.raw_path.split("/")[2], c.json)
        for c in rasa.calls
        if c.raw_path.endswith("/trigger_intent")
    ]


async def test_follow_is_kept_once_and_stop_removes_every_follow(
    tmp_path: Path,
) -> None:
    followers = Followers(tmp_path / "f.sqlite")
    assert await followers.follow("telegram:1", "A-10240", "demo")
    assert not await followers.follow("telegram:1", "A-10240", "demo")  # again
    assert await followers.follow("telegram:1", "A-10241")
    assert await followers.follows("telegram:1", "A-10240")

    assert await followers.unfollow_all("telegram:1") == 2
    assert not await followers.follows("telegram:1", "A-10240")
    assert await followers.followers("A-10240", "demo") == []


async def test_a_follow_on_another_source_is_not_told(tmp_path: Path) -> None:
    followers = Followers(tmp_path / "f.sqlite")
    await followers.follow("telegram:1", "1001", "shopify")
    await followers.follow("telegram:2", "1001", "bitrix24")
    await followers.follow("telegram:3", "1001")  # never had to say where

    assert await followers.followers("1001", "shopify") == ["telegram:1", "telegram:3"]
    assert await followers.followers("1001", None) == [
        "telegram:1",
        "telegram:2",
        "telegram:3",
    ]


async def test_a_flood_of_yes_cannot_grow_the_table(tmp_path: Path) -> None:
    followers = Followers(tmp_path / "f.sqlite")
    for n in range(MAX_PER_SENDER):
        assert await followers.follow("telegram:1", f"A-{n}")
    assert not await followers.follow("telegram:1", "A-99999")
    assert await followers.follow("telegram:2", "A-99999")  # others are not limited


async def test_each_follower_hears_of_each_state_once(
    tmp_path: Path, rasa: Emulator, store: DemoStore
) -> None:
    updates = updates_at(tmp_path, rasa, Clock())
    await updates.followers.follow("telegram:1", "A-10240", "demo")
    await updates.followers.follow("vk:2", "A-10240")
    order = await store.set_state("A-10240", OrderState.SHIPPED, "TRACK-1")

    assert await updates.changed(order, "demo") == 2
    assert await updates.changed(order, "demo") == 0  # the shop reports it again
    assert await updates.changed(order, "demo", exclude="vk:2") == 0

    calls = triggered(rasa)
    assert sorted(sender for sender, _ in calls) == ["telegram:1", "vk:2"]
    _, body = calls[0]
    assert body == {
        "name": ORDER_STATUS_INTENT,
        "entities": {"order_id": "A-10240", "order_state": "shipped"},
    }
    delivered = await store.set_state("A-10240", OrderState.DELIVERED)
    assert await updates.changed(delivered, "demo", exclude="vk:2") == 1
    assert triggered(rasa)[-1][0] == "telegram:1"


async def test_an_update_rasa_refused_is_retried_and_sent_once(
    tmp_path: Path, rasa: Emulator, store: DemoStore
) -> None:
    clock = Clock()
    updates = updates_at(tmp_path, rasa, clock)
    await updates.followers.follow("telegram:1", "A-10240")
    for _ in range(3):  # the notifier's own three tries
        rasa.fail_next(503, {"message": "loading"}, {"Retry-After": "0"})
    order = await store.set_state("A-10240", OrderState.SHIPPED)

    assert await updates.changed(order, "demo") == 0
    clock.now += 5
    assert await updates.queue.retry_due() == 1
    clock.now += 3600
    assert await updates.queue.retry_due() == 0
    assert [s for s, _ in triggered(rasa)].count("telegram:1") == 4  # 3 refused


async def test_an_update_at_night_waits_for_the_morning(
    tmp_path: Path, rasa: Emulator, store: DemoStore
) -> None:
    moscow = QuietHours.parse("22-9", "Europe/Moscow")
    night = datetime(2026, 12, 6, 20, 30, tzinfo=timezone.utc)  # 23:30 in Moscow
    clock = Clock()
    clock.now = night.timestamp()
    updates = updates_at(tmp_path, rasa, clock, quiet=moscow, now=lambda: night)
    await updates.followers.follow("telegram:1", "A-10240")
    order = await store.set_state("A-10240", OrderState.SHIPPED)

    assert await updates.changed(order, "demo") == 0
    clock.now += 3600
    assert await updates.queue.retry_due() == 0  # 00:30: still quiet
    assert triggered(rasa) == []
    clock.now = datetime(2026, 12, 7, 6, 0, tzinfo=timezone.utc).timestamp()  # 09:00
    assert await updates.queue.retry_due() == 1


def test_quiet_hours_cross_midnight_and_within_a_day() -> None:
    moscow = QuietHours.parse("22-9", "Europe/Moscow")
    assert moscow is not None
    utc = timezone.utc
    end = moscow.until(datetime(2026, 12, 6, 20, 0, tzinfo=utc))  # 23:00 MSK
    assert end is not None and end.isoformat() == "2026-12-07T09:00:00+03:00"
    early = moscow.until(datetime(2026, 12, 7, 3, 0, tzinfo=utc))  # 06:00 MSK
    assert early is not None and early.isoformat() == "2026-12-07T09:00:00+03:00"
    assert moscow.until(datetime(2026, 12, 7, 6, 0, tzinfo=utc)) is None  # 09:00
    lunch = QuietHours.parse("13-14", "UTC")
    assert lunch is not None
    assert lunch.until(datetime(2026, 12, 7, 12, 59, tzinfo=utc)) is None
    assert lunch.until(datetime(2026, 12, 7, 13, 0, tzinfo=utc)) is not None
    assert QuietHours.parse("off", "UTC") is None


@pytest.mark.parametrize(
    ("window", "zone"),
    [("22", "UTC"), ("9-9", "UTC"), ("25-3", "UTC"), ("22-9", "Mars/Olympus")],
)
def test_bad_quiet_hours_are_refused(window: str, zone: str) -> None:
    with pytest.raises(ValueError):
        QuietHours.parse(window, zone)


def test_the_settings_name_a_bad_window() -> None:
    with pytest.raises(SettingsError, match="EASYFLOW_QUIET_HOURS"):
        Settings.from_env({"EASYFLOW_QUIET_HOURS": "all night"})
    assert Settings.from_env({"EASYFLOW_QUIET_HOURS": "off"}).quiet_hours == "off"


async def test_followers_and_states_on_the_production_database() -> None:
    """The same store on PostgreSQL, as replicas share it in production."""
    with fresh_postgres("easyflow_followers_test") as url:
        followers = Followers(url)
        try:
            assert await followers.follow("t:1", "A-1", "demo", state="processing")
            assert not await followers.follow("t:1", "A-1", "demo", state="shipped")
            await followers.follow("t:2", "A-2", "")
            assert await followers.watched(10) == [
                ("", "A-2", None),
                ("demo", "A-1", "processing"),
            ]
            await followers.known("demo", "A-1", "shipped")
            assert ("demo", "A-1", "shipped") in await followers.watched(10)
            await followers.forget("A-1", "demo")
            assert await followers.watched(10) == [("", "A-2", None)]
            assert await followers.unfollow_all("t:2") == 1
        finally:
            followers.engine.dispose()
