"""The embedded default's SQLite stores, created from the project's endpoints.yml."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.stores.local_sqlite import LocalSQLEventBroker, LocalSQLTrackerStore

ROOT = Path(__file__).resolve().parents[3]


def project_endpoint(key: str, folder: Path) -> EndpointConfig:
    """The project's endpoint ``key`` with its SQLite file moved to ``folder``."""
    config = yaml.safe_load((ROOT / "endpoints.yml").read_text("utf-8"))[key]
    config["db"] = str(folder / Path(config["db"]).name)
    return EndpointConfig.from_dict(config)


def pragma(path: Path, name: str) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute(f"PRAGMA {name}").fetchone()[0])


@pytest.fixture
def domain() -> Domain:
    return Domain.from_dict({"slots": {"order_id": {"type": "text", "mappings": []}}})


def test_endpoints_yml_builds_the_wal_tracker_store(
    tmp_path: Path, domain: Domain
) -> None:
    # Rasa silently falls back to an in-memory store when a custom type does not
    # import: this would lose every conversation at the next restart.
    store = TrackerStore.create(project_endpoint("tracker_store", tmp_path), domain)
    assert isinstance(store, LocalSQLTrackerStore)

    tracker = DialogueStateTracker.from_events(
        "shopper-1",
        [
            ActionExecuted("action_listen"),
            UserUttered("где мой заказ 3728419056", {"name": "order_status"}),
            SlotSet("order_id", "3728419056"),
        ],
    )
    asyncio.run(store.save(tracker))
    assert pragma(tmp_path / "tracker.db", "journal_mode") == "wal"
    # The connection stays open between turns: closing the last one would
    # checkpoint and delete the log, and every turn would pay for it.
    assert (tmp_path / "tracker.db-wal").exists()

    reopened = TrackerStore.create(project_endpoint("tracker_store", tmp_path), domain)
    restored = asyncio.run(reopened.retrieve("shopper-1"))
    assert restored is not None
    assert restored.get_slot("order_id") == "3728419056"
    assert restored.latest_message.text == "где мой заказ 3728419056"


def test_every_connection_commits_without_waiting_for_the_disk(
    tmp_path: Path, domain: Domain
) -> None:
    store = TrackerStore.create(project_endpoint("tracker_store", tmp_path), domain)
    with store.engine.connect() as connection:  # type: ignore[attr-defined]
        # 1 = NORMAL (the SQLite default is 2 = FULL: an fsync per commit).
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000


def test_endpoints_yml_builds_the_wal_event_broker(tmp_path: Path) -> None:
    broker = asyncio.run(EventBroker.create(project_endpoint("event_broker", tmp_path)))
    assert isinstance(broker, LocalSQLEventBroker)
    broker.publish({"event": "user", "sender_id": "shopper-2", "text": "привет"})
    broker.publish({"event": "bot", "sender_id": "shopper-2", "text": "Здравствуйте!"})

    database = tmp_path / "events.db"
    assert pragma(database, "journal_mode") == "wal"
    # Rasa's own table and row format: what the api's ingestion reads.
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()
    assert [(s, json.loads(d)["text"]) for s, d in rows] == [
        ("shopper-2", "привет"),
        ("shopper-2", "Здравствуйте!"),
    ]


def broker_rows(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()
    return [(sender, json.loads(data)["event"]) for sender, data in rows]


def tracker_rows(database: Path) -> list[tuple[Any, ...]]:
    """The tracker store's rows, timestamps left out (each run makes new events)."""
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data"
            " FROM events ORDER BY id"
        ).fetchall()
    out = []
    for sender, kind, timestamp, intent, action, data in rows:
        event = json.loads(data)
        assert event.pop("timestamp") == timestamp
        out.append((sender, kind, intent, action, event))
    return out


def play_two_turns(store: TrackerStore, domain: Domain) -> None:
    first = [
        ActionExecuted("action_listen"),
        UserUttered("где мой заказ", {"name": "order_status"}),
    ]
    second = [
        SlotSet("order_id", "3728419056"),
        ActionExecuted("utter_ask_phone"),
        ActionExecuted("action_listen"),
    ]
    tracker = DialogueStateTracker.from_events("shopper-3", first, domain.slots)
    asyncio.run(store.save(tracker))
    tracker = asyncio.run(store.retrieve("shopper-3"))
    assert tracker is not None
    for event in second:
        tracker.update(event)
    asyncio.run(store.save(tracker))


def test_each_event_reaches_the_broker_once_as_with_rasas_stores(
    tmp_path: Path, domain: Domain
) -> None:
    streamed, stored = {}, {}
    for name, kind in (("rasa", "SQL"), ("ours", None)):
        folder = tmp_path / name
        folder.mkdir()
        broker_config = project_endpoint("event_broker", folder)
        store_config = project_endpoint("tracker_store", folder)
        if kind:
            broker_config.type = store_config.type = kind
        broker = asyncio.run(EventBroker.create(broker_config))
        store = TrackerStore.create(store_config, domain, event_broker=broker)
        play_two_turns(store, domain)
        streamed[name] = broker_rows(folder / "events.db")
        stored[name] = tracker_rows(folder / "tracker.db")

    assert streamed["ours"] == streamed["rasa"]
    # One INSERT of many rows per turn writes exactly the rows Rasa's store does.
    assert stored["ours"] == stored["rasa"] and len(stored["ours"]) == 5
    assert [event for _, event in streamed["ours"]] == [
        "action",
        "user",
        "slot",
        "action",
        "action",
    ]


def _open_broker(folder: str, start: Any, results: Any) -> None:
    start.wait()
    try:
        asyncio.run(EventBroker.create(project_endpoint("event_broker", Path(folder))))
        results.put("ok")
    except Exception as error:
        results.put(repr(error))


def test_two_workers_open_the_broker_on_a_new_file_at_once(tmp_path: Path) -> None:
    """Sanic forks every worker before each builds its broker; the one that loses
    the race to create the table must still start (half of the tries died)."""
    context = multiprocessing.get_context("fork")
    for attempt in range(10):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        start, results = context.Barrier(2), context.Queue()
        workers = [
            context.Process(target=_open_broker, args=(str(folder), start, results))
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [results.get(timeout=5) for _ in workers] == ["ok", "ok"]
