"""The embedded default's SQLite tracker store and event broker, in WAL mode.

Rasa's SQL tracker store and SQL event broker open SQLite with its defaults: a
rollback journal and ``synchronous=FULL``, so every commit waits for the disk to
flush. The broker commits once per event (five to ten per turn) and does it
inside the event loop, so every shopper waits for those flushes. In WAL mode with
``synchronous=NORMAL``, on a connection kept open, a commit appends to the log:
1.26 ms -> 0.06 ms per commit on this machine's disk (``bench/README.md``). A
crashed process loses nothing; a power cut may lose the last commits, which the
embedded default accepts (production runs PostgreSQL). Readers such as the api's
event ingestion no longer block Rasa's writes either.

Selected in ``endpoints.yml``; the tables and rows are exactly Rasa's, so
anything reading them (``api/`` ingestion, ``rasa export``) is unchanged.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import SingletonThreadPool

from bot.stores.driver_sql import DriverStatement
from bot.stores.tracker_cache import CachedTrackerMixin

logger = logging.getLogger(__name__)

PRAGMAS = (
    # Two processes (Sanic workers, the server and `rasa shell`, the api) may
    # write at once; the wait applies to the journal-mode switch below too.
    "PRAGMA busy_timeout=5000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
)


def _apply_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def wal_engine(engine: Engine) -> Engine:
    """A replacement for a SQLite ``engine``: WAL, one lasting connection per thread.

    SQLAlchemy opens SQLite files without a pool: every session connects and
    disconnects, and closing the last connection to a WAL database checkpoints
    the log and deletes it, so WAL alone saves nothing. Rasa calls its stores from
    the event loop's thread, so one connection stays open for the process's life.
    Any other engine is returned as it is.
    """
    if engine.url.get_backend_name() != "sqlite":
        return engine
    url = engine.url
    engine.dispose()
    wal = sa.create_engine(url, poolclass=SingletonThreadPool)
    event.listen(wal, "connect", _apply_pragmas)
    logger.debug("sqlite.wal", extra={"database": url.database})
    return wal


class LocalSQLTrackerStore(CachedTrackerMixin, SQLTrackerStore):
    """Rasa's ``SQLTrackerStore``; on SQLite, in WAL mode; conversations this
    worker saved last are not read back, and a turn's events are written in one
    statement (``bot.stores.tracker_cache``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine = wal_engine(self.engine)
        self.sessionmaker = sessionmaker(bind=self.engine)


class LocalSQLEventBroker(SQLEventBroker):
    """Rasa's ``SQLEventBroker``; on SQLite, in WAL mode.

    Every Sanic worker creates its own broker at start-up, and Rasa's
    ``create_all`` checks for the table and then creates it: on a new file the
    second worker's ``CREATE TABLE`` fails with "already exists" and that worker
    dies (half of 40 tries with two forked workers). Rasa's tracker store retries
    this itself; the broker is retried here once the other worker has won.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except sa.exc.OperationalError as error:
            if "already exists" not in str(error):
                raise
            logger.debug("sqlite.broker_table_race")
            super().__init__(*args, **kwargs)
        self.engine = wal_engine(self.engine)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        """``publish`` of each event, in one transaction (one ``INSERT`` of many
        rows): the tracker store hands over a turn's events together."""
        if not events:
            return
        insert = self.__dict__.get("_insert")
        if insert is None:
            insert = self._insert = DriverStatement(
                self.SQLBrokerEvent.__table__.insert
            )
        with self.session_scope() as session:
            insert.execute(
                session,
                [
                    {"sender_id": event.get("sender_id"), "data": json.dumps(event)}
                    for event in events
                ],
            )
            session.commit()
