"""The demo store's SQLite file: schema, creation and seeding on first use, locking.

A missing file is created and seeded; a corrupt one (not a database, or an unknown
schema version) is moved aside to ``<name>.corrupt-<time>`` and recreated, with a
warning in the log. Several action servers may start at once on one data directory:
a file lock lets one of them check and seed. Queries run in a worker thread to keep
the event loop free.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from actions.integrations.base import OrderSourceError
from actions.integrations.demo_store.seed import fill

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "2"
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE products (
    sku TEXT PRIMARY KEY, title_ru TEXT NOT NULL, title_en TEXT NOT NULL,
    keywords TEXT NOT NULL, price INTEGER NOT NULL, currency TEXT NOT NULL
);
CREATE TABLE stock (
    sku TEXT NOT NULL REFERENCES products(sku), size TEXT, color TEXT,
    quantity INTEGER NOT NULL
);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY, channel TEXT NOT NULL, state TEXT NOT NULL,
    created_at TEXT NOT NULL, expected_delivery TEXT, delivered_at TEXT,
    total INTEGER NOT NULL, currency TEXT NOT NULL, paid INTEGER NOT NULL,
    address TEXT NOT NULL, carrier TEXT, tracking_number TEXT, customer_phone TEXT
);
CREATE TABLE order_items (
    order_id TEXT NOT NULL REFERENCES orders(order_id), sku TEXT NOT NULL,
    size TEXT, color TEXT, quantity INTEGER NOT NULL, price INTEGER NOT NULL
);
CREATE TABLE returns (
    return_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(order_id),
    state TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE refunds (
    refund_id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders(order_id),
    amount INTEGER NOT NULL, currency TEXT NOT NULL, state TEXT NOT NULL,
    created_at TEXT NOT NULL, expected_by TEXT, completed_at TEXT
);
"""


class DemoDatabase:
    """One demo store file; ``run`` gives work a connection, committed on success."""

    def __init__(
        self, path: Path, clock: Callable[[], datetime] = datetime.now
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.Lock()
        self._ready = False

    def ensure_ready(self) -> None:
        """Creates and seeds the file if missing; recreates it if corrupt."""
        with self._lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Several action servers may start at once on one data directory
            # (the production profile runs two): one of them checks and seeds.
            with self._process_lock():
                self._check_or_create()
            self._ready = True

    @contextmanager
    def _process_lock(self) -> Iterator[None]:
        with open(self.path.with_name(self.path.name + ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _check_or_create(self) -> None:
        if self.path.exists() and not self._is_valid():
            backup = self.path.with_name(
                f"{self.path.name}.corrupt-{self.clock():%Y%m%d%H%M%S}"
            )
            self.path.rename(backup)
            logger.warning(
                "demo_store.recreated",
                extra={"path": str(self.path), "backup": str(backup)},
            )
        if not self.path.exists():
            self._create()
            logger.info("demo_store.seeded", extra={"path": str(self.path)})

    def _is_valid(self) -> bool:
        try:
            with self._connect() as db:
                row = db.execute(
                    "SELECT value FROM meta WHERE key = 'schema_version'"
                ).fetchone()
                return row is not None and row[0] == SCHEMA_VERSION
        except sqlite3.DatabaseError:
            return False

    def _create(self) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(tmp)
        try:
            db.executescript(_SCHEMA)
            now = self.clock()
            db.execute(
                "INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
            db.execute("INSERT INTO meta VALUES ('seeded_at', ?)", (now.isoformat(),))
            fill(db, now)
            db.commit()
        finally:
            db.close()
        tmp.replace(self.path)  # atomic: a crash never leaves a half-seeded store

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            yield db
            db.commit()
        finally:
            db.close()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            self.ensure_ready()
            try:
                with self._connect() as db:
                    return work(db)
            except sqlite3.DatabaseError as error:
                raise OrderSourceError(f"demo store failed: {error}") from error

        return await asyncio.to_thread(call)
