"""Outbox relay: every event committed to the tracker store reaches RabbitMQ.

Rasa's in-process Pika broker publishes a turn's events *before* the tracker store
commits them and keeps unpublished events only in the replica's memory, so a
database error leaves phantom events on the queue and a replica that dies during a
broker outage loses them. The production profile therefore configures no Rasa
event broker; instead this relay reads the ``events`` table of the tracker store
(PostgreSQL, the source of truth) in id order and publishes each row to RabbitMQ
with publisher confirms, then stores how far it got in ``easyflow_outbox``.

Guarantee: every event committed to the tracker store is published at least once,
in commit order per conversation; a message's ``message_id`` is the event's row id,
so a consumer drops the rare redelivery (a confirm lost when the broker or the relay
died) by id. The message body is what Rasa's Pika broker sends
(``{"sender_id": ..., **event}``) to the fanout exchange ``rasa-exchange`` and the
durable queue ``EASYFLOW_RABBITMQ_QUEUE``.

Rows become visible out of id order when replicas commit concurrently, so the relay
publishes only a gap-free prefix; a gap is skipped once every transaction that was
running when it was first seen has ended (then the id belongs to a rolled-back
insert and will never appear).

One relay is active at a time (a PostgreSQL advisory lock); start more as standbys.
Run: ``python -m outbox`` with ``EASYFLOW_DATABASE_URL``,
``EASYFLOW_RABBITMQ_URL`` and ``EASYFLOW_RABBITMQ_QUEUE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

import aio_pika
import psycopg2

from common.logging import configure_logging
from common.settings import environment

logger = logging.getLogger("outbox.relay")

EXCHANGE = "rasa-exchange"
LOCK_KEY = 7_202_611  # pg advisory lock id of the active relay
GAP_MIN_AGE_S = 1.0


@dataclass(frozen=True)
class RelayConfig:
    database_url: str
    rabbitmq_url: str
    queue: str = "rasa_events"
    name: str = "rabbitmq"
    batch: int = 500
    poll_s: float = 0.2
    retry_s: float = 1.0

    @classmethod
    def from_env(cls, env: dict[str, str]) -> RelayConfig:
        missing = [
            name
            for name in ("EASYFLOW_DATABASE_URL", "EASYFLOW_RABBITMQ_URL")
            if not env.get(name)
        ]
        if missing:
            raise ValueError(f"{', '.join(missing)}: required by the outbox relay")
        return cls(
            database_url=env["EASYFLOW_DATABASE_URL"],
            rabbitmq_url=env["EASYFLOW_RABBITMQ_URL"],
            queue=env.get("EASYFLOW_RABBITMQ_QUEUE") or "rasa_events",
            poll_s=float(env.get("EASYFLOW_OUTBOX_POLL_S") or 0.2),
        )


@dataclass
class _Gap:
    first_missing: int
    xmax: int  # transactions below this id were running or done when first seen
    seen_at: float


class OutboxRelay:
    def __init__(self, config: RelayConfig) -> None:
        self.config = config
        self._db: Any = None
        self._amqp: aio_pika.abc.AbstractConnection | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._gap: _Gap | None = None
        self._locked = False
        self._unsaved = 0  # last confirmed id, kept in memory until stored
        self.published = 0

    # -- PostgreSQL ------------------------------------------------------------
    def _connect_db(self) -> bool:
        """Connects and takes the relay lock; False while another relay holds it."""
        if self._db is not None and not self._db.closed and self._locked:
            return True
        if self._db is None or self._db.closed:
            self._locked = False
            self._db = psycopg2.connect(self.config.database_url, connect_timeout=3)
            self._db.autocommit = True
            with self._db.cursor() as cur:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS easyflow_outbox "
                    "(name text PRIMARY KEY, last_id bigint NOT NULL)"
                )
        with self._db.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,))
            self._locked = bool(cur.fetchone()[0])
        return self._locked

    def _cursor(self) -> int:
        with self._db.cursor() as cur:
            cur.execute(
                "SELECT last_id FROM easyflow_outbox WHERE name = %s",
                (self.config.name,),
            )
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def _store_cursor(self, last_id: int) -> None:
        with self._db.cursor() as cur:
            cur.execute(
                "INSERT INTO easyflow_outbox (name, last_id) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET last_id = EXCLUDED.last_id",
                (self.config.name, last_id),
            )

    def _snapshot(self) -> tuple[int, int]:
        with self._db.cursor() as cur:
            cur.execute(
                "SELECT txid_snapshot_xmin(txid_current_snapshot()), "
                "txid_snapshot_xmax(txid_current_snapshot())"
            )
            xmin, xmax = cur.fetchone()
        return int(xmin), int(xmax)

    def _pending(self, after: int) -> list[tuple[int, str, str]]:
        with self._db.cursor() as cur:
            cur.execute("SELECT to_regclass('public.events')")
            if cur.fetchone()[0] is None:
                return []
            cur.execute(
                "SELECT id, sender_id, data FROM events WHERE id > %s "
                "ORDER BY id LIMIT %s",
                (after, self.config.batch),
            )
            return [(int(i), s, d) for i, s, d in cur.fetchall()]

    def _gap_settled(self) -> bool:
        gap = self._gap
        if gap is None or time.monotonic() - gap.seen_at < GAP_MIN_AGE_S:
            return False
        xmin, _ = self._snapshot()
        return xmin >= gap.xmax

    def _ready_prefix(self, after: int) -> list[tuple[int, str, str]]:
        """The rows after ``after`` that can be published now, in id order."""
        settled = self._gap_settled()
        rows = self._pending(after)
        ready: list[tuple[int, str, str]] = []
        expected = after + 1
        for row in rows:
            if row[0] != expected:
                if settled and self._gap and self._gap.first_missing == expected:
                    logger.warning(
                        "outbox.gap_skipped",
                        extra={"from_id": expected, "to_id": row[0] - 1},
                    )
                    settled = False
                    self._gap = None
                else:
                    if self._gap is None or self._gap.first_missing != expected:
                        _, xmax = self._snapshot()
                        self._gap = _Gap(expected, xmax, time.monotonic())
                    break
            ready.append(row)
            expected = row[0] + 1
        if ready and self._gap and self._gap.first_missing <= ready[-1][0]:
            self._gap = None
        return ready

    # -- RabbitMQ --------------------------------------------------------------
    async def _connect_amqp(self) -> aio_pika.abc.AbstractExchange:
        if self._exchange is not None and self._amqp and not self._amqp.is_closed:
            return self._exchange
        self._amqp = await aio_pika.connect(self.config.rabbitmq_url, timeout=5)
        channel = await self._amqp.channel(publisher_confirms=True)
        # Declared as Rasa's Pika broker declares them, so both can share a broker.
        exchange = await channel.declare_exchange(
            EXCHANGE, type=aio_pika.ExchangeType.FANOUT
        )
        queue = await channel.declare_queue(self.config.queue, durable=True)
        await queue.bind(exchange, "")
        self._exchange = exchange
        return exchange

    async def _close_amqp(self) -> None:
        connection, self._amqp, self._exchange = self._amqp, None, None
        if connection is not None and not connection.is_closed:
            with contextlib.suppress(Exception):  # already broken: nothing to free
                await connection.close()

    # -- one pass --------------------------------------------------------------
    async def relay_once(self) -> int:
        """Publishes what is ready; returns how many events went out."""
        after = self._cursor()
        if self._unsaved > after:  # confirmed before the database went away
            self._store_cursor(self._unsaved)
            after = self._unsaved
        rows = self._ready_prefix(after)
        if not rows:
            return 0
        exchange = await self._connect_amqp()
        confirmed = after
        try:
            for row_id, sender_id, data in rows:
                body = {"sender_id": sender_id, **json.loads(data)}
                await exchange.publish(
                    aio_pika.Message(
                        json.dumps(body).encode("utf-8"),
                        message_id=str(row_id),
                        content_type="application/json",
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    ),
                    routing_key="",
                )
                confirmed = row_id
                self.published += 1
        finally:
            if confirmed != after:
                # Remembered until stored: a database outage right now must not
                # make this process publish the same events again.
                self._unsaved = confirmed
                self._store_cursor(confirmed)
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        logger.info("outbox.start", extra={"queue": self.config.queue})
        while not stop.is_set():
            delay = self.config.poll_s
            try:
                if not self._connect_db():
                    delay = self.config.retry_s  # another relay is active
                elif await self.relay_once() >= self.config.batch:
                    delay = 0
            except (psycopg2.Error, OSError) as error:
                logger.warning("outbox.database_error", extra={"error": repr(error)})
                self._close_db()
                delay = self.config.retry_s
            except Exception as error:  # broker down, channel closed, timeouts
                logger.warning("outbox.broker_error", extra={"error": repr(error)})
                await self._close_amqp()
                delay = self.config.retry_s
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        await self._close_amqp()
        self._close_db()

    def _close_db(self) -> None:
        if self._db is not None:
            with contextlib.suppress(psycopg2.Error):
                self._db.close()
            self._db = None
            self._locked = False


def main() -> int:
    configure_logging("outbox")
    try:
        config = RelayConfig.from_env(environment())
    except ValueError as error:
        print(f"Easy Flow outbox: invalid setting: {error}", file=sys.stderr)
        return 2
    relay = OutboxRelay(config)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await relay.run(stop)

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
