import asyncio
import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from rasa.core.lock_store import LockStore
from rasa.core.utils import number_of_sanic_workers
from rasa.utils.endpoints import EndpointConfig

from bot.stores.local_lock_store import SQLiteLockStore

STORE = "bot.stores.local_lock_store.SQLiteLockStore"


def _store(path: Path) -> SQLiteLockStore:
    store = LockStore.create(EndpointConfig(type=STORE, db=str(path)))
    assert isinstance(store, SQLiteLockStore)
    return store


def test_rasa_builds_it_from_endpoints_and_allows_several_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "var" / "locks.db")
    assert store.path == tmp_path / "var" / "locks.db"
    monkeypatch.setenv("SANIC_WORKERS", "2")
    assert number_of_sanic_workers(EndpointConfig(type=STORE)) == 2
    assert number_of_sanic_workers(EndpointConfig(type="in_memory")) == 1


def test_a_second_process_waits_for_the_first(tmp_path: Path) -> None:
    one, other = _store(tmp_path / "locks.db"), _store(tmp_path / "locks.db")

    async def scenario() -> list[str]:
        order: list[str] = []

        async def turn(store: SQLiteLockStore, name: str, hold_s: float) -> None:
            async with store.lock("c1", wait_time_in_seconds=0.01):
                order.append(f"{name} in")
                await asyncio.sleep(hold_s)
                order.append(f"{name} out")

        first = asyncio.create_task(turn(one, "first", 0.2))
        await asyncio.sleep(0.05)
        await turn(other, "second", 0.0)
        await first
        return order

    order = asyncio.run(scenario())
    assert order == ["first in", "first out", "second in", "second out"]
    assert one.get_lock("c1") is None  # cleaned up once no one waits


def test_cleanup_keeps_the_lock_while_someone_waits(tmp_path: Path) -> None:
    store = _store(tmp_path / "locks.db")
    first = store.issue_ticket("c1")
    second = store.issue_ticket("c1")
    store.cleanup("c1", first)
    lock = store.get_lock("c1")
    assert lock is not None and not lock.is_locked(second)
    store.cleanup("c1", second)
    assert store.get_lock("c1") is None


def _issue(path: str, count: int, out: "multiprocessing.Queue[list[int]]") -> None:
    store = SQLiteLockStore(EndpointConfig(type=STORE, db=path))
    out.put([store.issue_ticket("shared", lock_lifetime=600) for _ in range(count)])


def _critical_section(path: str, counter: str, rounds: int) -> None:
    store = SQLiteLockStore(EndpointConfig(type=STORE, db=path))

    async def run() -> None:
        for _ in range(rounds):
            async with store.lock("shared", wait_time_in_seconds=0.005):
                value = int(Path(counter).read_text())
                time.sleep(0.002)  # widen the window a lost update needs
                Path(counter).write_text(str(value + 1))

    asyncio.run(run())


def test_tickets_are_unique_across_processes(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[list[int]] = context.Queue()
    path = str(tmp_path / "locks.db")
    SQLiteLockStore(EndpointConfig(type=STORE, db=path))  # create the table once
    workers = [context.Process(target=_issue, args=(path, 100, out)) for _ in range(4)]
    for worker in workers:
        worker.start()
    tickets = [ticket for _ in workers for ticket in out.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=10)
    assert sorted(tickets) == list(range(400))


def test_turns_of_one_conversation_never_overlap_across_processes(
    tmp_path: Path,
) -> None:
    context = multiprocessing.get_context("fork")
    path = str(tmp_path / "locks.db")
    counter = tmp_path / "counter"
    counter.write_text("0")
    SQLiteLockStore(EndpointConfig(type=STORE, db=path))
    workers = [
        context.Process(target=_critical_section, args=(path, str(counter), 25))
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert counter.read_text() == "100"


def _take_ticket_and_die(path: str) -> None:
    SQLiteLockStore(EndpointConfig(type=STORE, db=path)).issue_ticket("c1", 600)
    os._exit(0)  # killed mid-turn: no cleanup


def test_a_ticket_left_by_a_dead_process_does_not_hold_the_conversation(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "locks.db")
    store = SQLiteLockStore(EndpointConfig(type=STORE, db=path))
    dead = multiprocessing.get_context("fork").Process(
        target=_take_ticket_and_die, args=(path,)
    )
    dead.start()
    dead.join(timeout=30)
    assert dead.exitcode == 0
    raw = store._db.execute("SELECT lock FROM conversation_locks").fetchone()[0]
    assert len(json.loads(raw)["tickets"]) == 1  # the dead worker's ticket is there

    async def next_turn() -> float:
        started = time.monotonic()
        async with store.lock("c1", wait_time_in_seconds=0.5):
            return time.monotonic() - started

    # Served at once, not after the dead ticket's 600 s lifetime.
    assert asyncio.run(asyncio.wait_for(next_turn(), 5)) < 0.5
    assert store.get_lock("c1") is None


def test_a_live_processes_ticket_still_holds_the_conversation(tmp_path: Path) -> None:
    one, other = _store(tmp_path / "locks.db"), _store(tmp_path / "locks.db")
    held = one.issue_ticket("c1")
    waiting = other.issue_ticket("c1")
    lock = other.get_lock("c1")
    assert lock is not None and lock.is_locked(waiting) and not lock.is_locked(held)
