"""Order updates for the shoppers who asked for them.

A shopper who asks about an order is offered its updates (``actions/orders/
updates.py``); saying yes adds a row to ``order_followers`` (the conversation,
the order and the source it came from). When the shop moves the order on (the
demo store's ``POST /orders/demo/<order_id>/state``, a cancel in another
conversation), ``OrderUpdates.changed`` queues one ``EXTERNAL_order_status_changed``
notice per follower in the durable queue (``actions/proactive/queue.py``) with
the dedupe key ``order:<order>:<state>:<conversation>``, so each follower hears of
each state once however often the shop reports it, and a notice that fails is
retried and then kept as failed, never dropped.

Stored beside the other action-server tables: an SQLite file on the embedded
default, the shared database in production (replicas see the same followers).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from actions.database import Tables
from actions.integrations.base import Order
from actions.proactive.notifier import ORDER_STATUS_INTENT
from actions.proactive.queue import NoticeQueue
from actions.proactive.quiet_hours import QuietHours

logger = logging.getLogger(__name__)

METADATA = MetaData()
FOLLOWERS = Table(
    "order_followers",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The source the shopper's order came from ("" when the number was
    # unambiguous and the shopper never had to say).
    Column("source", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("sender_id", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Index("order_followers_unique", "source", "order_id", "sender_id", unique=True),
    Index("order_followers_sender", "sender_id"),
)
# The state each followed order was last seen in (actions/proactive/poller.py):
# what a poll compares with, kept across restarts.
STATES = Table(
    "order_states",
    METADATA,
    Column("source", Text, primary_key=True),
    Column("order_id", Text, primary_key=True),
    Column("state", Text, nullable=False),
    Column("checked_at", Text, nullable=False),
)
# A conversation follows at most this many orders: a flood of "yes" cannot grow
# the table without bound.
MAX_PER_SENDER = 20


class Followers(Tables):
    """Which conversations follow which orders."""

    metadata = METADATA

    async def follow(
        self,
        sender_id: str,
        order_id: str,
        source: str = "",
        state: str | None = None,
    ) -> bool:
        """Adds the follow, and ``state`` as the order's known one unless a state
        is known already; ``False`` when the follow was there already or the
        conversation follows ``MAX_PER_SENDER`` orders."""

        def work() -> bool:
            if state is not None:
                self._know(source, order_id, state, replace=False)
            try:
                with self.engine.begin() as db:
                    count = db.execute(
                        select(func.count()).where(FOLLOWERS.c.sender_id == sender_id)
                    ).scalar_one()
                    if count >= MAX_PER_SENDER:
                        return False
                    db.execute(
                        insert(FOLLOWERS).values(
                            source=source,
                            order_id=order_id,
                            sender_id=sender_id,
                            created_at=datetime.now(timezone.utc).isoformat(),
                        )
                    )
                return True
            except IntegrityError:
                return False

        return await asyncio.to_thread(work)

    async def follows(self, sender_id: str, order_id: str) -> bool:
        def work() -> bool:
            with self.engine.begin() as db:
                row = db.execute(
                    select(FOLLOWERS.c.id).where(
                        FOLLOWERS.c.sender_id == sender_id,
                        FOLLOWERS.c.order_id == order_id,
                    )
                ).first()
            return row is not None

        return await asyncio.to_thread(work)

    async def unfollow_all(self, sender_id: str) -> int:
        """Stops every update to the conversation; how many follows it had."""

        def work() -> int:
            with self.engine.begin() as db:
                return int(
                    db.execute(
                        delete(FOLLOWERS).where(FOLLOWERS.c.sender_id == sender_id)
                    ).rowcount
                )

        return await asyncio.to_thread(work)

    async def followers(self, order_id: str, source: str | None) -> list[str]:
        """The conversations following ``order_id`` as sold through ``source``
        (or following it without having named a source); any source for None."""

        def work() -> list[str]:
            query = select(FOLLOWERS.c.sender_id).where(
                FOLLOWERS.c.order_id == order_id
            )
            if source is not None:
                query = query.where(FOLLOWERS.c.source.in_((source, "")))
            with self.engine.begin() as db:
                rows = db.execute(query.order_by(FOLLOWERS.c.id)).scalars()
                return list(dict.fromkeys(rows))

        return await asyncio.to_thread(work)

    def _know(self, source: str, order_id: str, state: str, replace: bool) -> None:
        now = datetime.now(timezone.utc).isoformat()
        key = (STATES.c.source == source) & (STATES.c.order_id == order_id)
        with self.engine.begin() as db:
            if db.execute(select(STATES.c.state).where(key)).first() is None:
                try:
                    db.execute(
                        insert(STATES).values(
                            source=source,
                            order_id=order_id,
                            state=state,
                            checked_at=now,
                        )
                    )
                except IntegrityError:  # another replica recorded it meanwhile
                    return
            elif replace:
                db.execute(
                    sql_update(STATES).where(key).values(state=state, checked_at=now)
                )

    async def known(self, source: str, order_id: str, state: str) -> None:
        """Records ``state`` as the one the followers have been told of."""
        await asyncio.to_thread(self._know, source, order_id, state, True)

    async def watched(self, limit: int) -> list[tuple[str, str, str | None]]:
        """(source, order, last known state) of followed orders, the least
        recently checked first."""

        def work() -> list[tuple[str, str, str | None]]:
            joined = FOLLOWERS.outerjoin(
                STATES,
                (STATES.c.source == FOLLOWERS.c.source)
                & (STATES.c.order_id == FOLLOWERS.c.order_id),
            )
            query = (
                select(FOLLOWERS.c.source, FOLLOWERS.c.order_id, STATES.c.state)
                .select_from(joined)
                .group_by(FOLLOWERS.c.source, FOLLOWERS.c.order_id, STATES.c.state)
                .order_by(func.min(STATES.c.checked_at).nulls_first())
                .limit(limit)
            )
            with self.engine.begin() as db:
                return [(r[0], r[1], r[2]) for r in db.execute(query).all()]

        return await asyncio.to_thread(work)

    async def forget(self, order_id: str, source: str) -> None:
        """The order reached a final state and everyone was told: no more polls."""

        def work() -> None:
            with self.engine.begin() as db:
                db.execute(
                    delete(FOLLOWERS).where(
                        FOLLOWERS.c.order_id == order_id, FOLLOWERS.c.source == source
                    )
                )
                db.execute(
                    delete(STATES).where(
                        STATES.c.order_id == order_id, STATES.c.source == source
                    )
                )

        await asyncio.to_thread(work)


class OrderUpdates:
    """Tells an order's followers that its state changed."""

    def __init__(
        self,
        followers: Followers,
        queue: NoticeQueue,
        quiet: QuietHours | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self.followers = followers
        self.queue = queue
        self.quiet = quiet
        self.now = now

    async def changed(
        self, order: Order, source: str | None, exclude: str | None = None
    ) -> int:
        """Queues the update for each follower but ``exclude`` (the conversation
        that made the change and has been told already); how many went out now."""
        state = order.state.value
        wait = self.quiet.until(self.now()) if self.quiet else None
        not_before = wait.timestamp() if wait else None
        told = 0
        for sender_id in await self.followers.followers(order.order_id, source):
            if sender_id == exclude:
                continue
            told += await self.queue.notify(
                sender_id,
                ORDER_STATUS_INTENT,
                {"order_id": order.order_id, "order_state": state},
                dedupe=f"order:{order.order_id}:{state}:{sender_id}",
                not_before=not_before,
            )
        logger.info(
            "orders.update_queued",
            extra={
                "order_id": order.order_id,
                "order_state": state,
                "told": told,
                "held_until": wait.isoformat() if wait else None,
            },
        )
        return told
