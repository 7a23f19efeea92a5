"""Ingestion from a real SQL broker table (SQLite in Rasa's schema) and a real
RabbitMQ queue: exactly-once counting under replays, restarts and redelivery."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
import uuid
from pathlib import Path

import aio_pika
import pytest
from sqlalchemy import func, select

from easyflow_api.core.metrics import EVENTS_INGESTED
from easyflow_api.db import Database
from easyflow_api.models import Conversation, Event, IngestCheckpoint
from easyflow_api.seed import ConversationScript, demo_events, write_rasa_sql_broker
from easyflow_api.services import analytics
from easyflow_api.services.ingest import RabbitIngestor, SqlBrokerIngestor
from easyflow_api.services.projection import Projector
from tests.conftest import (
    BASE_DAY,
    app_client,
    database_url_of,
    login_admin,
    make_settings,
)

RABBITMQ_URL = os.environ.get(
    "EASYFLOW_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"
)
EXPECTED = {"conversations": 10, "messages": 23, "payments_paid": 1, "csat_count": 5}


def _figures(db: Database) -> dict[str, object]:
    with db.session() as session:
        body = analytics.overview(session, analytics.Filters())
    return {k: body[k] for k in EXPECTED}


def _event_rows(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def _late_conversation() -> list[dict]:
    script = ConversationScript("late-sender", time.time() - 30, "rest")
    script.turn("hello", "greet", 0.97, action="utter_greet", reply="Hi!")
    return script.events


def test_sql_broker_checkpoint_restart_and_replay(db: Database, tmp_path: Path) -> None:
    events_db = tmp_path / "events.db"
    seed = demo_events(BASE_DAY)
    write_rasa_sql_broker(events_db, seed)
    with sqlite3.connect(events_db) as conn:  # a row that is not an event
        conn.execute("INSERT INTO events (sender_id, data) VALUES ('x', 'not json')")
    url = f"sqlite:///{events_db}"
    before = EVENTS_INGESTED.labels(source="sql")._value.get()

    first = SqlBrokerIngestor(db, url, Projector(0.6), batch=50)
    assert first.run_once() == len(seed)
    assert first.position() == len(seed) + 1
    assert EVENTS_INGESTED.labels(source="sql")._value.get() - before == len(seed)
    assert first.run_once() == 0
    assert _figures(db) == EXPECTED
    first.close()

    # "restart": a new process state; only rows after the checkpoint are read
    late = _late_conversation()
    write_rasa_sql_broker(events_db, late)
    restarted_db = Database(database_url_of(db))
    second = SqlBrokerIngestor(restarted_db, url, Projector(0.6), batch=50)
    assert second.position() == len(seed) + 1
    assert second.run_once() == len(late)
    assert _figures(db)["conversations"] == 11

    # a lost checkpoint replays everything: the hashes keep every count
    with restarted_db.session() as session:
        session.get(IngestCheckpoint, second.checkpoint_key).position = 0
        session.commit()
    rows = _event_rows(db)
    assert second.run_once() == 0
    assert _event_rows(db) == rows
    assert _figures(db) == {**EXPECTED, "conversations": 11, "messages": 24}
    second.close()
    restarted_db.dispose()


def test_missing_broker_file_is_not_created(db: Database, tmp_path: Path) -> None:
    ingestor = SqlBrokerIngestor(
        db, f"sqlite:///{tmp_path / 'none.db'}", Projector(0.6)
    )
    assert ingestor.run_once() == 0
    assert not (tmp_path / "none.db").exists()


def test_background_task_ingests_while_serving(db: Database, tmp_path: Path) -> None:
    events_db = tmp_path / "events.db"
    settings = make_settings(
        database_url_of(db),
        tmp_path,
        api_ingest="sql",
        events_database_url=f"sqlite:///{events_db}",
        api_ingest_interval_s=0.1,
    )
    with app_client(settings) as client:
        admin = login_admin(client)
        write_rasa_sql_broker(events_db, demo_events(BASE_DAY))
        deadline = time.time() + 20
        overview = {}
        while time.time() < deadline:
            overview = client.get("/api/analytics/overview", headers=admin).json()
            if overview["conversations"] == 10:
                break
            time.sleep(0.1)
        assert overview["conversations"] == 10
        assert overview["messages"] == 23
        broker = client.get("/api/health/detailed", headers=admin).json()["checks"][
            "broker"
        ]
        assert broker["ok"] is True and broker["detail"].startswith(
            "sql broker, checkpoint"
        )
        metrics = client.get("/metrics").text
        assert 'easyflow_events_ingested_total{source="sql"}' in metrics
        assert "easyflow_ingest_lag_seconds" in metrics


def test_cli_ingest_once(db: Database, tmp_path: Path, monkeypatch, capsys) -> None:
    from easyflow_api.__main__ import main

    events_db = tmp_path / "events.db"
    write_rasa_sql_broker(events_db, demo_events(BASE_DAY))
    monkeypatch.setenv("EASYFLOW_API_DATABASE_URL", database_url_of(db))
    monkeypatch.setenv("EASYFLOW_EVENTS_DATABASE_URL", f"sqlite:///{events_db}")
    monkeypatch.setenv("EASYFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EASYFLOW_ENV", "development")
    assert main(["ingest", "--once", "--source", "sql"]) == 0
    assert main(["ingest", "--once", "--source", "sql"]) == 0
    out = capsys.readouterr().out
    assert f"ingested {len(demo_events(BASE_DAY))} new events from sql" in out
    assert "ingested 0 new events from sql" in out
    assert _figures(db) == EXPECTED


# RabbitMQ ----------------------------------------------------------------------


async def _publish(queue: str, events: list[dict]) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue, durable=True)
        for event in events:
            await channel.default_exchange.publish(
                aio_pika.Message(
                    json.dumps(event).encode(),
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=queue,
            )


async def _queue_depth(queue: str) -> int:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True, passive=True)
        return declared.declaration_result.message_count or 0


async def _delete(queue: str) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)


@pytest.fixture
def queue() -> str:
    name = f"easyflow_api_test_{uuid.uuid4().hex[:10]}"
    yield name
    asyncio.run(_delete(name))


def test_rabbitmq_exactly_once(db: Database, queue: str) -> None:
    seed = demo_events(BASE_DAY)
    ingestor = RabbitIngestor(db, RABBITMQ_URL, queue, Projector(0.6))
    asyncio.run(_publish(queue, [*seed, {"not": "an event"}]))
    assert asyncio.run(ingestor.run_once()) == len(seed)
    assert asyncio.run(_queue_depth(queue)) == 0  # all acknowledged
    assert _figures(db) == EXPECTED

    # the broker delivers the same events again (e.g. Rasa retried a publish)
    rows = _event_rows(db)
    asyncio.run(_publish(queue, seed[:40]))
    assert asyncio.run(ingestor.run_once()) == 0
    assert _event_rows(db) == rows
    assert _figures(db) == EXPECTED


def test_rabbitmq_redelivery_after_commit_before_ack(db: Database, queue: str) -> None:
    """A consumer that committed but died before acking: RabbitMQ redelivers
    the message and the next run acknowledges it without counting it twice."""
    events = _late_conversation()
    ingestor = RabbitIngestor(db, RABBITMQ_URL, queue, Projector(0.6))
    asyncio.run(_publish(queue, events))

    async def commit_without_ack() -> None:
        connection = await aio_pika.connect(RABBITMQ_URL)
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True)
        for _ in events:
            message = await declared.get(no_ack=False)
            assert await asyncio.to_thread(ingestor._store, message.body) is True
        await connection.close()  # unacked messages go back to the queue

    asyncio.run(commit_without_ack())
    assert asyncio.run(_queue_depth(queue)) == len(events)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1
        turns_before = session.scalar(select(Conversation.turns))
    assert asyncio.run(ingestor.run_once()) == 0  # redelivered, all duplicates
    assert asyncio.run(_queue_depth(queue)) == 0
    with db.session() as session:
        assert session.scalar(select(Conversation.turns)) == turns_before == 1
