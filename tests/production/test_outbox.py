"""The outbox relay against the shared PostgreSQL and RabbitMQ (own database, own
queue): commit order, uncommitted gaps, rolled-back gaps, one active relay."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

from outbox.relay import OutboxRelay, RelayConfig
from tests.production.services import QueueReader

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def database() -> Iterator[str]:
    name = f"easyflow_outbox_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        # The columns the relay reads, as Rasa's SQLTrackerStore creates them.
        cursor.execute(
            "CREATE TABLE events (id serial PRIMARY KEY, sender_id varchar(255), "
            "type_name varchar(255), timestamp float, intent_name varchar(255), "
            "action_name varchar(255), data text)"
        )
    yield url
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        cursor.execute(f"DROP DATABASE {name}")
    admin.close()


@pytest.fixture
def queue_name() -> Iterator[str]:
    name = f"easyflow_outbox_test_{uuid.uuid4().hex[:10]}"
    yield name
    reader = QueueReader(RABBITMQ_URL, name)
    reader.drain()

    async def delete() -> None:
        import aio_pika

        connection = await aio_pika.connect(RABBITMQ_URL)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(name)

    asyncio.run(delete())


def insert(connection: Any, sender: str, text: str) -> None:
    data = {"event": "user", "text": text, "timestamp": 1.0}
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO events (sender_id, type_name, data) VALUES (%s, 'user', %s)",
            (sender, json.dumps(data)),
        )


def relay_once(relay: OutboxRelay) -> int:
    async def once() -> int:
        relay._connect_db()
        try:
            return await relay.relay_once()
        finally:
            await relay._close_amqp()

    return asyncio.run(once())


def texts(reader: QueueReader) -> list[str]:
    reader.drain()
    return [body["text"] for _, body in reader.received]


def test_publishes_committed_events_in_order_with_row_ids(
    database: str, queue_name: str
) -> None:
    with psycopg2.connect(database) as connection:
        for n in range(5):
            insert(connection, "a", f"m{n}")
    relay = OutboxRelay(RelayConfig(database, RABBITMQ_URL, queue_name))
    assert relay_once(relay) == 5
    assert relay_once(relay) == 0, "the cursor is stored: nothing twice"
    reader = QueueReader(RABBITMQ_URL, queue_name)
    assert texts(reader) == ["m0", "m1", "m2", "m3", "m4"]
    assert [i for i, _ in reader.received] == [1, 2, 3, 4, 5]
    assert reader.received[0][1]["sender_id"] == "a"
    relay._close_db()


def test_waits_for_an_open_transaction_and_skips_a_rolled_back_id(
    database: str, queue_name: str
) -> None:
    relay = OutboxRelay(RelayConfig(database, RABBITMQ_URL, queue_name))
    reader = QueueReader(RABBITMQ_URL, queue_name)
    slow = psycopg2.connect(database)
    insert(slow, "slow", "first")  # id 1, not committed yet
    with psycopg2.connect(database) as fast:
        insert(fast, "fast", "second")  # id 2, committed
    assert relay_once(relay) == 0, "id 2 waits: id 1 may still commit"
    slow.commit()
    assert relay_once(relay) == 2
    assert texts(reader) == ["first", "second"]

    doomed = psycopg2.connect(database)
    insert(doomed, "doomed", "never")  # id 3
    with psycopg2.connect(database) as fast:
        insert(fast, "fast", "third")  # id 4
    assert relay_once(relay) == 0
    doomed.rollback()
    doomed.close()
    slow.close()

    async def until_published() -> None:
        relay._connect_db()
        for _ in range(50):
            if await relay.relay_once():
                break
            await asyncio.sleep(0.1)
        await relay._close_amqp()

    asyncio.run(until_published())
    assert texts(reader) == ["first", "second", "third"]
    assert [i for i, _ in reader.received] == [1, 2, 4]
    relay._close_db()


def test_only_one_relay_is_active(database: str, queue_name: str) -> None:
    first = OutboxRelay(RelayConfig(database, RABBITMQ_URL, queue_name))
    second = OutboxRelay(RelayConfig(database, RABBITMQ_URL, queue_name))
    assert first._connect_db() is True
    assert second._connect_db() is False
    first._close_db()
    deadline = time.monotonic() + 10  # the server frees the lock as the session ends
    while not second._connect_db():
        assert time.monotonic() < deadline, "the standby never took over"
        time.sleep(0.1)
    second._close_db()


def test_a_cursor_that_could_not_be_stored_is_not_published_again(
    database: str, queue_name: str
) -> None:
    with psycopg2.connect(database) as connection:
        for n in range(3):
            insert(connection, "a", f"m{n}")
    relay = OutboxRelay(RelayConfig(database, RABBITMQ_URL, queue_name))
    store = relay._store_cursor
    failing = {"on": True}

    def store_or_fail(last_id: int) -> None:
        if failing["on"]:
            raise psycopg2.OperationalError("server closed the connection")
        store(last_id)

    relay._store_cursor = store_or_fail  # type: ignore[method-assign]
    with pytest.raises(psycopg2.OperationalError):
        relay_once(relay)
    failing["on"] = False
    with psycopg2.connect(database) as connection:
        insert(connection, "a", "m3")
    assert relay_once(relay) == 1
    reader = QueueReader(RABBITMQ_URL, queue_name)
    assert texts(reader) == ["m0", "m1", "m2", "m3"]
    relay._close_db()
