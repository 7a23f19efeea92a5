"""Proactive messages that survive a failing or restarting Rasa.

Settlement tells the shopper "paid", and a followed order's status change tells
its followers (``actions/proactive/order_updates.py``), through Rasa's HTTP API
(``RasaNotifier``). If Rasa is down for longer than the notifier's own three
tries, a notice used to be logged and dropped. Now every notice is first written
to the ``notices``
table (the action server's database: an SQLite file, or the database the
replicas share in production), tried at once, and, while it fails, tried again by
``NoticeQueue.retry_due`` (the action server runs it every few seconds) with
exponential backoff, up to ``max_attempts``; then it is kept as ``failed`` with
the reason (``GET /notices/failed`` on the action server, with its token).

A notice may carry a ``dedupe`` key (an order update's is the conversation, the
order and its new state): a second notice with the same key is not queued, so a
follower hears of each status once however often the shop reports it. One may
also wait (``not_before``): an update due in the shop's quiet hours.

A replica claims a due notice before sending it (a conditional update), so two
replicas retrying at the same moment send it once. A notice the shopper may get
twice is one whose send succeeded but whose ``sent`` mark was lost to a crash in
between: the shopper would read "paid" twice, never zero times.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy import update as sql_update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from actions.database import Tables, add_missing_columns
from actions.proactive.notifier import PAYMENT_INTENT, RasaNotifier

logger = logging.getLogger(__name__)

METADATA = MetaData()
NOTICES = Table(
    "notices",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("state", Text, nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("next_at", Float, nullable=False),
    Column("last_error", Text),
    Column("created_at", Text, nullable=False),
    # Added after the first release of the table (add_missing_columns): NULL
    # intent is a payment notice.
    Column("intent", Text),
    Column("entities", Text),  # JSON
    Column("dedupe", Text),
    Index("notices_dedupe", "dedupe", unique=True),
)
PENDING, SENT, FAILED = "pending", "sent", "failed"
CLAIM_S = 60.0  # a claimed notice is not taken by another replica meanwhile


@dataclass(frozen=True)
class Notice:
    id: int
    sender_id: str
    order_id: str
    state: str
    attempts: int
    last_error: str | None
    intent: str = PAYMENT_INTENT
    entities: dict[str, Any] | None = None
    created_at: str = ""


class NoticeQueue(Tables):
    """At an SQLite file or a database URL (``actions/database.py``)."""

    metadata = METADATA

    def _prepare(self, engine: Engine) -> None:
        add_missing_columns(engine, NOTICES)

    def __init__(
        self,
        target: Any,
        notifier: RasaNotifier,
        max_attempts: int = 8,
        first_delay_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(target)
        self.notifier = notifier
        self.max_attempts = max_attempts
        self.first_delay_s = first_delay_s
        self.clock = clock

    async def payment_received(self, sender_id: str, order_id: str) -> bool:
        """Queues the notice and tries it now; ``True`` when it went out."""
        return await self.notify(
            sender_id, PAYMENT_INTENT, {"order_id": order_id}, dedupe=None
        )

    async def notify(
        self,
        sender_id: str,
        intent: str,
        entities: dict[str, Any],
        dedupe: str | None,
        not_before: float | None = None,
    ) -> bool:
        """Queues ``intent`` for the conversation and, unless it must wait, tries
        it now; ``True`` when it went out. A ``dedupe`` key already queued (sent,
        pending or failed) queues nothing and returns ``False``."""
        notice_id = await asyncio.to_thread(
            self._enqueue, sender_id, intent, entities, dedupe, not_before
        )
        if notice_id is None:
            logger.info(
                "proactive.duplicate_skipped",
                extra={"order_id": entities.get("order_id"), "intent": intent},
            )
            return False
        if not_before is not None and not_before > self.clock():
            return False
        return await self._attempt(notice_id)

    async def requeue(self, notice_id: int) -> bool | None:
        """A failed notice tried again now, on someone's request (the dashboard);
        ``None`` when no failed notice has that id, else whether it went out.
        If it fails again it goes back to the usual backoff from the start."""

        def work() -> bool:
            with self.engine.begin() as db:
                return bool(
                    db.execute(
                        sql_update(NOTICES)
                        .where(NOTICES.c.id == notice_id, NOTICES.c.state == FAILED)
                        .values(state=PENDING, attempts=0, next_at=self.clock())
                    ).rowcount
                )

        if not await asyncio.to_thread(work):
            return None
        logger.info("proactive.notice_requeued", extra={"notice_id": notice_id})
        return await self._attempt(notice_id)

    async def retry_due(self, limit: int = 20) -> int:
        """Tries the notices whose time has come; returns how many went out."""
        due = await asyncio.to_thread(self._due_ids, limit)
        sent = 0
        for notice_id in due:
            sent += await self._attempt(notice_id)
        return sent

    async def failed(self, limit: int = 100) -> list[Notice]:
        def work() -> list[Notice]:
            with self.engine.begin() as db:
                rows = db.execute(
                    select(NOTICES)
                    .where(NOTICES.c.state == FAILED)
                    .order_by(NOTICES.c.id.desc())
                    .limit(limit)
                ).all()
            return [_notice(row) for row in rows]

        return await asyncio.to_thread(work)

    async def get(self, notice_id: int) -> Notice | None:
        def work() -> Notice | None:
            with self.engine.begin() as db:
                row = db.execute(
                    select(NOTICES).where(NOTICES.c.id == notice_id)
                ).first()
            return None if row is None else _notice(row)

        return await asyncio.to_thread(work)

    def _enqueue(
        self,
        sender_id: str,
        intent: str,
        entities: dict[str, Any],
        dedupe: str | None,
        not_before: float | None,
    ) -> int | None:
        now = self.clock()
        try:
            with self.engine.begin() as db:
                result = db.execute(
                    insert(NOTICES).values(
                        sender_id=sender_id,
                        order_id=str(entities.get("order_id") or ""),
                        state=PENDING,
                        attempts=0,
                        next_at=max(now, not_before or now),
                        last_error=None,
                        created_at=datetime.now().isoformat(),
                        intent=intent,
                        entities=json.dumps(entities, ensure_ascii=False),
                        dedupe=dedupe,
                    )
                )
                return int(result.inserted_primary_key[0])
        except IntegrityError:
            if dedupe is None:
                raise
            return None

    def _due_ids(self, limit: int) -> list[int]:
        with self.engine.begin() as db:
            return list(
                db.execute(
                    select(NOTICES.c.id)
                    .where(
                        NOTICES.c.state == PENDING, NOTICES.c.next_at <= self.clock()
                    )
                    .order_by(NOTICES.c.id)
                    .limit(limit)
                ).scalars()
            )

    def _claim(self, notice_id: int) -> Notice | None:
        """The notice, when this call took it (no other replica holds it)."""
        now = self.clock()
        with self.engine.begin() as db:
            taken = db.execute(
                sql_update(NOTICES)
                .where(
                    NOTICES.c.id == notice_id,
                    NOTICES.c.state == PENDING,
                    NOTICES.c.next_at <= now,
                )
                .values(next_at=now + CLAIM_S)
            ).rowcount
            if not taken:
                return None
            row = db.execute(select(NOTICES).where(NOTICES.c.id == notice_id)).one()
        return _notice(row)

    def _settle(self, notice: Notice, error: str | None) -> None:
        attempts = notice.attempts + 1
        if error is None:
            values: dict[str, Any] = {"state": SENT, "attempts": attempts}
        elif attempts >= self.max_attempts:
            values = {"state": FAILED, "attempts": attempts, "last_error": error}
        else:
            delay = self.first_delay_s * 2 ** (attempts - 1)
            values = {
                "attempts": attempts,
                "last_error": error,
                "next_at": self.clock() + delay,
            }
        with self.engine.begin() as db:
            db.execute(
                sql_update(NOTICES).where(NOTICES.c.id == notice.id).values(**values)
            )
        if values.get("state") == FAILED:
            logger.error(
                "payments.notice_failed",
                extra={
                    "order_id": notice.order_id,
                    "attempts": attempts,
                    "intent": notice.intent,
                },
            )

    async def _attempt(self, notice_id: int) -> bool:
        notice = await asyncio.to_thread(self._claim, notice_id)
        if notice is None:
            return False
        told = await self.notifier.trigger(
            notice.sender_id, notice.intent, notice.entities or {}
        )
        error = None if told else "Rasa did not take the notice"
        await asyncio.to_thread(self._settle, notice, error)
        return told


def _notice(row: Any) -> Notice:
    entities = json.loads(row.entities) if row.entities else None
    return Notice(
        row.id,
        row.sender_id,
        row.order_id,
        row.state,
        row.attempts,
        row.last_error,
        row.intent or PAYMENT_INTENT,
        entities if entities is not None else {"order_id": row.order_id},
        row.created_at,
    )
