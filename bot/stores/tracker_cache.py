"""A worker-local cache of the conversations this Rasa worker saved last.

Rasa's SQL tracker store rebuilds a conversation on every message: it reads every
event of the current session, decodes each one's JSON and replays them all into a
new tracker, so a turn costs more the longer the conversation is (5.5 ms of CPU
for a ten-message conversation of 56 events on this machine, against 0.13 ms to
copy a tracker in memory).

``CachedTrackerMixin`` keeps a copy of each tracker it saves or reads, with the
conversation's *mark* in the database: the id, type and timestamp of its newest
event row. ``retrieve`` reads the mark (one indexed query for one row) and, when
it is unchanged, returns a copy of the cached tracker instead of decoding and
replaying the events. Anything else that wrote to
the conversation meanwhile (another worker or replica, the api's handoff through
Rasa's HTTP API, ``rasa shell``) moved the mark. Then only the rows after the
cached ones are read and decoded and applied to a copy of the cached tracker
(behind a round-robin balancer every other turn of a conversation lands on the
other replica); when they cannot simply follow it (a row older than the cached
last event, as another host's clock could write), the session is read from the
database as before. The lock store already lets one turn of a conversation run at
a time, so the copy handed out is the only one being changed.

A tracker is cached only when it ends with the newest stored event; copies are
handed out, never the cached object. A copy replays the same event objects, so it
equals a tracker read back from the database except that values JSON would turn
into lists (the tokens' spans) stay tuples, as they are during the turn itself.
``tracker_cache_size`` (an ``endpoints.yml`` key, default ``CACHE_SIZE``; 0 turns
the cache off) bounds the conversations kept, least recently used first out.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from itertools import islice
from typing import Any

import sqlalchemy as sa
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.stores.driver_sql import DriverStatement

logger = logging.getLogger(__name__)

CACHE_SIZE = 512


@dataclass(frozen=True)
class Mark:
    """The newest stored event of a conversation: any later write moves it (row
    ids only grow; Rasa never deletes or rewrites events)."""

    newest_id: int
    newest_type: str
    newest_timestamp: float

    def matches(self, tracker: DialogueStateTracker) -> bool:
        """``tracker`` ends with the newest stored event."""
        if not tracker.events:
            return False
        newest = tracker.events[-1]
        return (
            self.newest_type == newest.type_name
            and abs(self.newest_timestamp - newest.timestamp) < 1e-6
        )


def as_stored(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A copy of ``tracker`` holding what ``SQLTrackerStore.retrieve`` would read
    back: the events from the newest ``session_started`` on, by timestamp (the
    store's own query). The turn's tracker also holds the ``action_session_start``
    just before it; were it kept, the store would count one event too few in the
    database and save the last one again."""
    starts = [e.timestamp for e in tracker.events if isinstance(e, SessionStarted)]
    since = max(starts) if starts else float("-inf")
    copy = tracker.init_copy()
    for event in tracker.events:
        if event.timestamp >= since:
            copy.update(event)
    return copy


def event_row(sender_id: str, type_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The ``events`` row Rasa's ``SQLTrackerStore.save`` writes for an event
    (``data`` is its ``as_dict()``)."""
    return {
        "sender_id": sender_id,
        "type_name": type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {})
        .get("intent", {})
        .get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def publish_all(broker: Any, sender_id: str, events: list[dict[str, Any]]) -> None:
    """What Rasa's ``_stream_new_events`` publishes, through the broker's
    ``publish_many`` (one transaction) when it has one."""
    bodies = [{"sender_id": sender_id, **data} for data in events]
    many = getattr(broker, "publish_many", None)
    if many is not None:
        many(bodies)
        return
    for body in bodies:
        broker.publish(body)


class CachedTrackerMixin:
    """Mix in before ``SQLTrackerStore``: ``S(CachedTrackerMixin, SQLTrackerStore)``."""

    def __init__(
        self, *args: Any, tracker_cache_size: int = CACHE_SIZE, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = int(tracker_cache_size)
        # sender -> (newest row, the conversation as stored); (None, None): none stored.
        self._cache: OrderedDict[
            str, tuple[Mark | None, DialogueStateTracker | None]
        ] = OrderedDict()
        self.hits = 0
        self.misses = 0
        # Cached conversations brought up to date with rows written elsewhere.
        self.caught_up = 0

    def _statements(self) -> tuple[DriverStatement, DriverStatement, DriverStatement]:
        """The newest-row query, the events insert and the query of the rows
        after a given one, each compiled once
        (``bot.stores.driver_sql``): an ORM query rebuilt per call, and even a
        Core statement's per-call cache lookup, cost more than the query."""
        statements = self.__dict__.get("_driver_statements")
        if statements is None:
            table = self.SQLEvent.__table__  # type: ignore[attr-defined]
            newest = DriverStatement(
                lambda: sa.select(table.c.id, table.c.type_name, table.c.timestamp)
                .where(table.c.sender_id == sa.bindparam("sender_id"))
                .order_by(table.c.id.desc())
                .limit(1)
            )
            newer = DriverStatement(
                lambda: sa.select(table.c.id, table.c.data)
                .where(table.c.sender_id == sa.bindparam("sender_id"))
                .where(table.c.id > sa.bindparam("after_id"))
                .order_by(table.c.id)
            )
            statements = self._driver_statements = (
                newest,
                DriverStatement(table.insert),
                newer,
            )
        return statements

    def _mark(self, session: Any, sender_id: str) -> Mark | None:
        query = self._statements()[0]
        newest = query.execute(session, {"sender_id": sender_id}).first()
        return Mark(int(newest[0]), newest[1], float(newest[2])) if newest else None

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if self.cache_size <= 0:
            return await super().retrieve(sender_id)  # type: ignore[misc]
        with self.session_scope() as session:  # type: ignore[attr-defined]
            cached = self._cache.get(sender_id)
            mark = self._mark(session, sender_id)
            if cached is not None and mark == cached[0]:
                self._cache.move_to_end(sender_id)
                self.hits += 1
                return None if cached[1] is None else cached[1].copy()
            if cached is not None and mark is not None:
                caught_up = self._catch_up(session, sender_id, cached, mark)
                if caught_up is not None:
                    self.caught_up += 1
                    return caught_up
            self.misses += 1
            # No newest row: no rows at all, and the events query (an ORM query
            # built and compiled per call) would find none.
            rows = (
                self._event_query(  # type: ignore[attr-defined]
                    session, sender_id, fetch_events_from_all_sessions=False
                ).all()
                if mark is not None
                else []
            )
        if not rows:
            # A new conversation: its first save then needs no count of rows.
            self._cache[sender_id] = (None, None)
            self._trim()
            return None
        if not self.domain:  # type: ignore[attr-defined]
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id,
            [json.loads(row.data) for row in rows],
            self.domain.slots,  # type: ignore[attr-defined]
        )
        newest = rows[-1]
        mark = Mark(int(newest.id), newest.type_name, float(newest.timestamp))
        self._remember(sender_id, mark, tracker)
        return tracker

    def _catch_up(
        self,
        session: Any,
        sender_id: str,
        cached: tuple[Mark | None, DialogueStateTracker | None],
        mark: Mark,
    ) -> DialogueStateTracker | None:
        """The cached conversation with the rows written after it elsewhere
        (another worker or replica took its last turn), decoding only those;
        None when they cannot simply follow it (then the whole session is read).

        Rasa reads a session's rows ordered by timestamp: the new rows follow
        the cached ones only if none is older than the cached tracker's last
        event. A new session among them is cut at as Rasa's query cuts
        (``as_stored``)."""
        old_mark, old = cached
        if old_mark is None or old is None or mark.newest_id <= old_mark.newest_id:
            return None
        rows = (
            self._statements()[2]
            .execute(session, {"sender_id": sender_id, "after_id": old_mark.newest_id})
            .all()
        )
        if not rows or int(rows[-1][0]) != mark.newest_id:
            return None
        events = [Event.from_parameters(json.loads(row[1])) for row in rows]
        last = old.events[-1].timestamp if old.events else float("-inf")
        for event in events:
            if event is None or event.timestamp < last:
                return None
            last = event.timestamp
        tracker = old.copy()
        for event in events:
            tracker.update(event)
        self._remember(sender_id, mark, tracker)
        entry = self._cache.get(sender_id)
        return None if entry is None or entry[1] is None else entry[1].copy()

    def _stored_count(self, session: Any, tracker: DialogueStateTracker) -> int:
        """How many of ``tracker``'s events the database holds already.

        Rasa counts the rows of the current session (a query with a sub-query on
        the newest ``session_started``); when this worker's cached copy still ends
        with the newest stored row, that copy's length is the same number.
        """
        cached = self._cache.get(tracker.sender_id) if self.cache_size > 0 else None
        if cached is not None and self._mark(session, tracker.sender_id) == cached[0]:
            return 0 if cached[1] is None else len(cached[1].events)
        return self._event_query(  # type: ignore[attr-defined]
            session, tracker.sender_id, fetch_events_from_all_sessions=False
        ).count()

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the events the database lacks, as Rasa's ``save`` does (same
        rows, same order, the event broker first), in one ``INSERT`` of many rows
        and one transaction, with each event serialised once for both."""
        with self.session_scope() as session:  # type: ignore[attr-defined]
            stored = self._stored_count(session, tracker)
            new = [
                (e.type_name, e.as_dict()) for e in islice(tracker.events, stored, None)
            ]
            broker = getattr(self, "event_broker", None)
            if broker is not None and new:
                publish_all(broker, tracker.sender_id, [data for _, data in new])
            if new:
                self._statements()[1].execute(
                    session, [event_row(tracker.sender_id, *pair) for pair in new]
                )
                session.commit()
            mark = self._mark(session, tracker.sender_id) if self.cache_size else None
        logger.debug("tracker.saved", extra={"events": len(new)})
        if self.cache_size > 0:
            self._remember(tracker.sender_id, mark, tracker)

    def _remember(
        self, sender_id: str, mark: Mark | None, tracker: DialogueStateTracker
    ) -> None:
        if mark is None and not tracker.events:
            # Rasa's get_or_create_tracker saves a new, empty tracker first:
            # nothing is stored, which retrieve and the next save can rely on.
            self._cache[sender_id] = (None, None)
            self._cache.move_to_end(sender_id)
            self._trim()
            return
        if mark is None or not mark.matches(tracker):
            self._cache.pop(sender_id, None)
            return
        self._cache[sender_id] = (mark, as_stored(tracker))
        self._cache.move_to_end(sender_id)
        self._trim()

    def _trim(self) -> None:
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
