"""Event sources: Rasa's SQL event broker table and a RabbitMQ queue.

Both deliver at least once and the projector (services/projection) dedupes by
event hash, so every event is counted exactly once:
- SQL broker: rows after the stored checkpoint (last processed `events.id`) are
  projected and the checkpoint advanced in the same transaction.
- RabbitMQ: a message is acknowledged only after its transaction committed; a
  crash in between redelivers it and the hash makes the replay a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import aio_pika
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from easyflow_api.core.metrics import EVENTS_DUPLICATE, EVENTS_INGESTED, INGEST_LAG
from easyflow_api.db import Database
from easyflow_api.models import IngestCheckpoint
from easyflow_api.services.projection import Projector

logger = logging.getLogger(__name__)


def parse_event(
    raw: str | bytes, sender_id: str | None = None
) -> dict[str, Any] | None:
    """The event dict from a broker payload, or None when it is not an event."""
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(event, dict) or "event" not in event:
        return None
    if sender_id and not event.get("sender_id"):
        event["sender_id"] = sender_id
    return event


class SqlBrokerIngestor:
    """Reads Rasa's SQL event broker table `events(id, sender_id, data)`."""

    def __init__(
        self, db: Database, events_url: str, projector: Projector, batch: int = 500
    ) -> None:
        self.db = db
        self.events_url = events_url
        self.projector = projector
        self.batch = batch
        digest = hashlib.sha256(events_url.encode()).hexdigest()[:16]
        self.checkpoint_key = f"sql:{digest}"
        self._engine: Engine | None = None

    def events_engine(self) -> Engine | None:
        if self._engine is None:
            url = make_url(self.events_url)
            if url.get_backend_name() == "sqlite" and (
                not url.database or not Path(url.database).exists()
            ):
                return None
            self._engine = create_engine(self.events_url, pool_pre_ping=True)
        return self._engine

    def position(self) -> int:
        with self.db.session() as session:
            checkpoint = session.get(IngestCheckpoint, self.checkpoint_key)
            return checkpoint.position if checkpoint else 0

    def run_once(self) -> int:
        """Ingests everything after the checkpoint; returns the events stored."""
        engine = self.events_engine()
        if engine is None:
            INGEST_LAG.set(0)
            return 0
        total = 0
        while True:
            with self.db.session() as session:
                checkpoint = session.get(IngestCheckpoint, self.checkpoint_key)
                after = checkpoint.position if checkpoint else 0
                try:
                    with engine.connect() as conn:
                        rows = conn.execute(
                            text(
                                "SELECT id, sender_id, data FROM events "
                                "WHERE id > :after ORDER BY id LIMIT :limit"
                            ),
                            {"after": after, "limit": self.batch},
                        ).all()
                except SQLAlchemyError as exc:
                    logger.warning(
                        "ingest.sql.unavailable", extra={"error": str(exc)[:300]}
                    )
                    return total
                if not rows:
                    INGEST_LAG.set(0)
                    return total
                stored = duplicates = 0
                newest = 0.0
                for row_id, sender_id, data in rows:
                    event = parse_event(data or "", sender_id)
                    if event is None:
                        logger.warning("ingest.sql.invalid_row", extra={"id": row_id})
                        continue
                    result = self.projector.apply(session, event, "sql")
                    if result.stored:
                        stored += 1
                        newest = max(newest, float(event["timestamp"]))
                    else:
                        duplicates += 1
                position = rows[-1][0]
                if checkpoint is None:
                    session.add(
                        IngestCheckpoint(
                            source=self.checkpoint_key,
                            position=position,
                            updated_at=time.time(),
                        )
                    )
                else:
                    checkpoint.position = position
                    checkpoint.updated_at = time.time()
                session.commit()
            EVENTS_INGESTED.labels(source="sql").inc(stored)
            EVENTS_DUPLICATE.labels(source="sql").inc(duplicates)
            if newest:
                INGEST_LAG.set(max(0.0, time.time() - newest))
            total += stored
            logger.info(
                "ingest.sql.batch",
                extra={
                    "stored": stored,
                    "duplicates": duplicates,
                    "position": position,
                },
            )

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


class RabbitIngestor:
    """Consumes Rasa's Pika broker queue; acks each message after its commit."""

    def __init__(
        self, db: Database, url: str, queue: str, projector: Projector
    ) -> None:
        self.db = db
        self.url = url
        self.queue_name = queue
        self.projector = projector

    def _store(self, body: bytes) -> bool | None:
        """Projects one message in its own transaction; None if not an event."""
        event = parse_event(body)
        if event is None:
            return None
        with self.db.session() as session:
            result = self.projector.apply(session, event, "rabbitmq")
            session.commit()
        if result.stored:
            EVENTS_INGESTED.labels(source="rabbitmq").inc()
            INGEST_LAG.set(max(0.0, time.time() - float(event["timestamp"])))
        else:
            EVENTS_DUPLICATE.labels(source="rabbitmq").inc()
        return result.stored

    async def drain(self, channel: aio_pika.abc.AbstractChannel) -> int:
        queue = await channel.declare_queue(self.queue_name, durable=True)
        stored = 0
        while True:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                INGEST_LAG.set(0)
                return stored
            try:
                result = await asyncio.to_thread(self._store, message.body)
            except Exception:
                await message.nack(requeue=True)
                raise
            if result is None:
                logger.warning(
                    "ingest.rabbitmq.invalid_message",
                    extra={"message_id": message.message_id},
                )
            elif result:
                stored += 1
            await message.ack()

    async def run_once(self) -> int:
        connection = await aio_pika.connect(self.url, timeout=10)
        async with connection:
            channel = await connection.channel()
            return await self.drain(channel)

    async def run_forever(self, interval_s: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                connection = await aio_pika.connect(self.url, timeout=10)
                async with connection:
                    channel = await connection.channel()
                    while not stop.is_set():
                        await self.drain(channel)
                        await _sleep_or_stop(stop, interval_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("ingest.rabbitmq.error", extra={"error": str(exc)[:300]})
                await _sleep_or_stop(stop, max(interval_s, 2.0))


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def run_sql_forever(
    ingestor: SqlBrokerIngestor, interval_s: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(ingestor.run_once)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("ingest.sql.error", extra={"error": str(exc)[:300]})
        await _sleep_or_stop(stop, interval_s)
