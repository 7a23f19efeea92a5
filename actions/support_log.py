"""Complaints and human-handoff requests, recorded for the team to act on.

An embedded SQLite file by default; the admin service (``api/``) takes these over
with the operator console.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS complaints (
    complaint_id TEXT PRIMARY KEY, sender_id TEXT NOT NULL, order_id TEXT,
    text TEXT NOT NULL, language TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS handoffs (
    handoff_id TEXT PRIMARY KEY, sender_id TEXT NOT NULL, reason TEXT NOT NULL,
    last_message TEXT, language TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    sender_id: str
    created_at: datetime


class SupportLog:
    def __init__(
        self, path: Path, clock: Callable[[], datetime] = datetime.now
    ) -> None:
        self.path = Path(path)
        self.clock = clock

    def _execute(self, sql: str, params: tuple[object, ...]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10)
        try:
            db.executescript(_SCHEMA)
            db.execute(sql, params)
            db.commit()
        finally:
            db.close()

    async def record_complaint(
        self, sender_id: str, text: str, language: str, order_id: str | None
    ) -> Ticket:
        ticket = Ticket(f"C-{secrets.token_hex(3).upper()}", sender_id, self.clock())
        await asyncio.to_thread(
            self._execute,
            "INSERT INTO complaints VALUES (?, ?, ?, ?, ?, ?)",
            (
                ticket.ticket_id,
                sender_id,
                order_id,
                text,
                language,
                ticket.created_at.isoformat(),
            ),
        )
        return ticket

    async def request_handoff(
        self, sender_id: str, reason: str, last_message: str | None, language: str
    ) -> Ticket:
        ticket = Ticket(f"H-{secrets.token_hex(3).upper()}", sender_id, self.clock())
        await asyncio.to_thread(
            self._execute,
            "INSERT INTO handoffs VALUES (?, ?, ?, ?, ?, 'waiting', ?)",
            (
                ticket.ticket_id,
                sender_id,
                reason,
                last_message,
                language,
                ticket.created_at.isoformat(),
            ),
        )
        return ticket

    def count(self, table: str) -> int:
        """Rows recorded in ``complaints`` or ``handoffs`` (for tests and health)."""
        if table not in ("complaints", "handoffs"):
            raise ValueError(table)
        db = sqlite3.connect(self.path)
        try:
            return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        finally:
            db.close()
