"""The worker-local tracker cache, on SQLite and on the local PostgreSQL: what it
hands out is what the database holds, and a write from elsewhere is seen."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.stores.local_sqlite import LocalSQLTrackerStore
from bot.stores.tracker_store import StrictSQLTrackerStore

POSTGRES_ADMIN_DSN = os.environ.get(
    "EASYFLOW_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DOMAIN = Domain.from_dict(
    {
        "intents": ["greet", "order_status"],
        "slots": {"order_id": {"type": "text", "mappings": []}},
    }
)
_clock = count(1_800_000_000)


def at(event: Event) -> Event:
    """``event`` with its own later timestamp (events made together tie)."""
    event.timestamp = float(next(_clock))
    return event


def first_turn(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    for event in (
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        UserUttered("привет", {"name": "greet", "confidence": 1.0}),
        BotUttered("Здравствуйте!"),
        ActionExecuted("action_listen"),
    ):
        tracker.update(at(event))
    return tracker


def second_turn(tracker: DialogueStateTracker) -> None:
    for event in (
        UserUttered("где A-10234", {"name": "order_status", "confidence": 1.0}),
        SlotSet("order_id", "A-10234"),
        BotUttered("В пути"),
        ActionExecuted("action_listen"),
    ):
        tracker.update(at(event))


def as_json(tracker: DialogueStateTracker | None) -> Any:
    assert tracker is not None
    return json.loads(json.dumps(tracker.current_state(), default=str))


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Opens stores (workers) on one database; the cache size is the argument."""
    opened: list[SQLTrackerStore] = []
    if request.param == "sqlite":

        def sqlite(size: int = 512) -> SQLTrackerStore:
            store = LocalSQLTrackerStore(
                domain=DOMAIN,
                dialect="sqlite",
                db=str(tmp_path / "tracker.db"),
                tracker_cache_size=size,
            )
            opened.append(store)
            return store

        yield sqlite
    else:
        name = f"easyflow_tracker_test_{uuid.uuid4().hex[:12]}"
        admin = psycopg2.connect(POSTGRES_ADMIN_DSN)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        url = f"{POSTGRES_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"

        def postgresql(size: int = 512) -> SQLTrackerStore:
            store = StrictSQLTrackerStore(
                domain=DOMAIN, host=url, tracker_cache_size=size
            )
            opened.append(store)
            return store

        yield postgresql
        for store in opened:
            store.engine.dispose()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    for store in opened:
        store.engine.dispose()


async def test_a_saved_conversation_comes_back_from_the_cache_as_stored(
    open_store: Any,
) -> None:
    worker, plain = open_store(), open_store(0)
    await worker.save(first_turn("shopper"))

    cached = await worker.retrieve("shopper")

    assert worker.hits == 1 and worker.misses == 0
    assert as_json(cached) == as_json(await plain.retrieve("shopper"))


async def test_later_turns_store_each_event_once(open_store: Any) -> None:
    """The turn's tracker holds the action_session_start before the session;
    the database view does not. Cached as the turn had it, Rasa's save would
    count one stored event too few and store the last one again."""
    worker, plain = open_store(), open_store(0)
    await worker.save(first_turn("shopper"))
    tracker = await worker.retrieve("shopper")
    assert tracker is not None
    second_turn(tracker)
    await worker.save(tracker)

    stored = await plain.retrieve("shopper")

    assert stored is not None
    assert [e.type_name for e in stored.events] == [
        "session_started",
        "action",
        "user",
        "bot",
        "action",
        "user",
        "slot",
        "bot",
        "action",
    ]
    assert stored.get_slot("order_id") == "A-10234"
    assert as_json(await worker.retrieve("shopper")) == as_json(stored)


async def test_a_write_by_another_worker_is_read_from_the_database(
    open_store: Any,
) -> None:
    this, other = open_store(), open_store()
    await this.save(first_turn("shopper"))
    assert await this.retrieve("shopper") is not None  # cached here

    theirs = await other.retrieve("shopper")
    assert theirs is not None
    second_turn(theirs)
    await other.save(theirs)

    seen = await this.retrieve("shopper")
    assert seen is not None and seen.get_slot("order_id") == "A-10234"
    # Only the other worker's rows were read, on top of the cached copy.
    assert (this.misses, this.caught_up) == (0, 1)
    assert as_json(seen) == as_json(await open_store(0).retrieve("shopper"))


async def test_two_workers_taking_turns_hand_out_what_the_database_holds(
    open_store: Any,
) -> None:
    """Behind a round-robin balancer each turn of a conversation lands on the
    other worker: each catches up with the other's rows, across a new session,
    and hands out what a store without the cache reads."""
    first, second, plain = open_store(), open_store(), open_store(0)
    await first.save(first_turn("shopper"))
    turns = [second_turn, third_turn_in_a_new_session, second_turn]
    for number, next_turn in enumerate(turns):
        worker = (second, first)[number % 2]
        tracker = await worker.retrieve("shopper")
        assert as_json(tracker) == as_json(await plain.retrieve("shopper"))
        assert tracker is not None
        next_turn(tracker)
        await worker.save(tracker)
    for worker in (first, second):
        latest = await worker.retrieve("shopper")
        assert as_json(latest) == as_json(await plain.retrieve("shopper"))
    # The second worker read the whole session once, at its first look.
    assert (first.misses, first.caught_up) == (0, 2)
    assert (second.misses, second.caught_up) == (1, 1)
    rows = await stored_rows(plain, "shopper")
    assert len(rows) == 6 + 4 + 7 + 4
    assert [r[0] for r in rows].count("session_started") == 2


async def test_rows_older_than_the_cached_turn_are_read_as_rasa_reads_them(
    open_store: Any,
) -> None:
    """A row written elsewhere with an earlier timestamp (another host's clock)
    would sort before the cached events in Rasa's query: the session is read
    again from the database instead of appended to."""
    this, other = open_store(), open_store()
    await this.save(first_turn("skewed"))
    assert await this.retrieve("skewed") is not None
    theirs = await other.retrieve("skewed")
    assert theirs is not None
    late = SlotSet("order_id", "A-10234")
    late.timestamp = theirs.events[0].timestamp + 0.5  # before the last event
    theirs.update(late)
    await other.save(theirs)

    seen = await this.retrieve("skewed")
    assert (this.misses, this.caught_up) == (1, 0)
    assert as_json(seen) == as_json(await open_store(0).retrieve("skewed"))


async def test_what_is_handed_out_is_a_copy(open_store: Any) -> None:
    worker = open_store()
    await worker.save(first_turn("shopper"))
    handed = await worker.retrieve("shopper")
    assert handed is not None
    handed.update(SlotSet("order_id", "changed, never saved"))

    again = await worker.retrieve("shopper")

    assert again is not None and again.get_slot("order_id") is None


async def test_the_cache_keeps_the_most_recent_conversations(open_store: Any) -> None:
    worker, off = open_store(2), open_store(0)
    for sender in ("a", "b", "c"):
        await worker.save(first_turn(sender))
    for sender in ("c", "b", "a"):
        assert await worker.retrieve(sender) is not None
    assert (worker.hits, worker.misses) == (2, 1)  # "a" was pushed out

    await off.save(first_turn("d"))
    assert await off.retrieve("d") is not None and off.hits == 0


async def test_an_unknown_conversation_is_none(open_store: Any) -> None:
    assert await open_store().retrieve("nobody") is None


def third_turn_in_a_new_session(tracker: DialogueStateTracker) -> None:
    for event in (
        ActionExecuted("action_session_start"),
        SessionStarted(),
        SlotSet("order_id", "A-10234"),
        ActionExecuted("action_listen"),
        UserUttered("привет", {"name": "greet", "confidence": 1.0}),
        BotUttered("Здравствуйте!"),
        ActionExecuted("action_listen"),
    ):
        tracker.update(at(event))


async def stored_rows(store: SQLTrackerStore, sender: str) -> list[tuple[Any, ...]]:
    event = store.SQLEvent
    with store.session_scope() as session:
        rows = (
            session.query(
                event.type_name, event.intent_name, event.action_name, event.data
            )
            .filter(event.sender_id == sender)
            .order_by(event.id)
            .all()
        )
    return [
        (
            kind,
            intent,
            action,
            {k: v for k, v in json.loads(data).items() if k != "timestamp"},
        )
        for kind, intent, action, data in rows
    ]


async def test_three_turns_and_a_new_session_store_the_rows_rasa_stores(
    open_store: Any,
) -> None:
    """The cached count of stored events stands in for Rasa's count query: the
    rows match those a store without the cache writes, turn after turn, across
    a new session."""
    worker, plain = open_store(), open_store(0)
    for store, sender in ((worker, "cached"), (plain, "plain")):
        await store.save(first_turn(sender))
        for next_turn in (second_turn, third_turn_in_a_new_session):
            tracker = await store.retrieve(sender)
            assert tracker is not None
            next_turn(tracker)
            await store.save(tracker)

    assert worker.hits == 2
    rows = await stored_rows(worker, "cached")
    assert rows == await stored_rows(plain, "plain")
    assert len(rows) == 6 + 4 + 7
    assert [r[0] for r in rows].count("session_started") == 2


async def test_a_new_conversation_is_saved_without_counting_its_rows(
    open_store: Any,
) -> None:
    worker = open_store()
    assert await worker.retrieve("new") is None  # remembered as empty
    counted: list[str] = []
    original = worker._event_query

    def counting(session: Any, sender_id: str, **kwargs: Any) -> Any:
        counted.append(sender_id)
        return original(session, sender_id, **kwargs)

    worker._event_query = counting
    await worker.save(first_turn("new"))

    assert counted == []
    assert len(await stored_rows(worker, "new")) == 6


async def test_rasas_empty_new_tracker_is_remembered_as_nothing_stored(
    open_store: Any,
) -> None:
    """``get_or_create_tracker``, as the processor calls it, looks up a new
    sender and saves an empty tracker; neither that nor the turn that follows
    reads or counts rows."""
    worker = open_store()
    read: list[str] = []
    original = worker._event_query

    def reading(session: Any, sender_id: str, **kwargs: Any) -> Any:
        read.append(sender_id)
        return original(session, sender_id, **kwargs)

    worker._event_query = reading
    created = await worker.get_or_create_tracker("fresh", append_action_listen=False)
    # The first look finds no newest row, so the events query is not built.
    assert not created.events and read == []
    assert await worker.retrieve("fresh") is None
    await worker.save(first_turn("fresh"))
    assert read == []
    assert len(await stored_rows(worker, "fresh")) == 6


async def test_a_conversation_started_elsewhere_meanwhile_is_counted(
    open_store: Any,
) -> None:
    this, other = open_store(), open_store()
    assert await this.retrieve("raced") is None
    await other.save(first_turn("raced"))  # another worker got there first

    tracker = await other.retrieve("raced")
    assert tracker is not None
    second_turn(tracker)
    await this.save(tracker)  # the remembered "empty" no longer holds

    assert len(await stored_rows(this, "raced")) == 6 + 4
