"""A conversation lock store on a local SQLite file, shared by Sanic workers.

Rasa serves one message of a conversation at a time through its lock store. The
embedded default was the in-memory store, which only one process can see, so Rasa
refuses ``SANIC_WORKERS`` > 1 with it and a two-core machine ran Rasa on one core.
This store keeps the same ``TicketLock`` records in a SQLite table that every
worker on the host opens, so several workers can serve one bot without Redis:
``lock_store: {type: bot.stores.local_lock_store.SQLiteLockStore, db: var/locks.db}``.

Rasa's base class reads a lock, changes it and writes it back in separate calls,
so two processes could both take ticket 0, and ``cleanup`` could delete a lock a
waiter has just joined. Here each of those steps is one ``BEGIN IMMEDIATE``
transaction (SQLite lets one writer in at a time across processes). Locks expire
after their lifetime anyway, so the file is not synced to disk
(``synchronous=OFF``): a power cut can lose a lock, never a message.

Unlike the in-memory store, the file outlives the process. A worker killed in
the middle of a turn would leave its ticket behind, and the conversation's next
message would wait for it to expire (a minute). So each ticket records the
process that took it, and a ticket whose process is gone is dropped when the
lock is read: after a crash and restart the shopper is answered at once. PIDs
mean one host and one PID namespace (not containers sharing a volume).

Several hosts need a shared store instead: ``bot.stores.lock_store.RedisUrlLockStore``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_DB = "var/locks.db"
BUSY_TIMEOUT_MS = 10_000


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


class OwnedTicketLock(TicketLock):
    """A ``TicketLock`` that knows which process holds each ticket."""

    def __init__(self, conversation_id: str, tickets: Any = None) -> None:
        super().__init__(conversation_id, tickets)
        self.owners: dict[int, int] = {}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OwnedTicketLock:
        lock = cls(data["conversation_id"], TicketLock.from_dict(data).tickets)
        for number, pid in data.get("owners", {}).items():
            if _alive(pid):
                lock.owners[int(number)] = pid
            else:
                lock.remove_ticket_for(int(number))
        return lock

    def dumps(self) -> str:
        data = json.loads(super().dumps())
        live = {ticket.number for ticket in self.tickets}
        data["owners"] = {str(n): pid for n, pid in self.owners.items() if n in live}
        return json.dumps(data)


class SQLiteLockStore(LockStore):
    def __init__(self, endpoint_config: EndpointConfig | None = None) -> None:
        kwargs = endpoint_config.kwargs if endpoint_config else {}
        path = Path(str(kwargs.get("db", DEFAULT_DB)))
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._guard = threading.Lock()
        self._db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS conversation_locks ("
            " conversation_id TEXT PRIMARY KEY, lock TEXT NOT NULL)"
        )
        logger.debug("local_lock_store.opened", extra={"db": str(path)})

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._guard:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @staticmethod
    def _read(db: sqlite3.Connection, conversation_id: str) -> OwnedTicketLock | None:
        row = db.execute(
            "SELECT lock FROM conversation_locks WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        return OwnedTicketLock.from_dict(json.loads(row[0])) if row else None

    @staticmethod
    def _write(db: sqlite3.Connection, lock: TicketLock) -> None:
        db.execute(
            "INSERT INTO conversation_locks (conversation_id, lock) VALUES (?, ?)"
            " ON CONFLICT (conversation_id) DO UPDATE SET lock = excluded.lock",
            (lock.conversation_id, lock.dumps()),
        )

    @staticmethod
    def _delete(db: sqlite3.Connection, conversation_id: str) -> None:
        db.execute(
            "DELETE FROM conversation_locks WHERE conversation_id = ?",
            (conversation_id,),
        )

    @staticmethod
    def create_lock(conversation_id: str) -> OwnedTicketLock:
        return OwnedTicketLock(conversation_id)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        with self._guard:
            return self._read(self._db, conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        with self._transaction() as db:
            self._delete(db, conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        with self._transaction() as db:
            self._write(db, lock)

    def issue_ticket(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME
    ) -> int:
        try:
            with self._transaction() as db:
                lock = self._read(db, conversation_id) or self.create_lock(
                    conversation_id
                )
                ticket = lock.issue_ticket(lock_lifetime)
                lock.owners[ticket] = os.getpid()
                self._write(db, lock)
                return ticket
        except sqlite3.Error as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        with self._transaction() as db:
            lock = self._read(db, conversation_id)
            if lock:
                lock.remove_expired_tickets()
                self._write(db, lock)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._transaction() as db:
            lock = self._read(db, conversation_id)
            if lock:
                lock.remove_ticket_for(ticket_number)
                self._write(db, lock)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish the ticket and drop the lock if no one waits, in one step."""
        with self._transaction() as db:
            lock = self._read(db, conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self._write(db, lock)
            else:
                self._delete(db, conversation_id)
