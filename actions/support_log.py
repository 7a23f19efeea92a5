"""Complaints and human-handoff requests, recorded for the team to act on.

An embedded SQLite file by default, the shared database in production
(``actions/database.py``); the admin service (``api/``) takes these over with the
operator console.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, MetaData, Table, Text, func, insert, select

from actions.database import Tables

METADATA = MetaData()
COMPLAINTS = Table(
    "complaints",
    METADATA,
    Column("complaint_id", Text, primary_key=True),
    Column("sender_id", Text, nullable=False),
    Column("order_id", Text),
    Column("text", Text, nullable=False),
    Column("language", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)
HANDOFFS = Table(
    "handoffs",
    METADATA,
    Column("handoff_id", Text, primary_key=True),
    Column("sender_id", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("last_message", Text),
    Column("language", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)
TABLES = {"complaints": COMPLAINTS, "handoffs": HANDOFFS}


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    sender_id: str
    created_at: datetime


class SupportLog(Tables):
    """At an SQLite file or a database URL (``actions/database.py``)."""

    metadata = METADATA

    def __init__(
        self, target: Path | str, clock: Callable[[], datetime] = datetime.now
    ) -> None:
        super().__init__(target)
        self.clock = clock

    def _insert(self, table: Table, row: dict[str, Any]) -> None:
        with self.engine.begin() as db:
            db.execute(insert(table).values(**row))

    async def record_complaint(
        self, sender_id: str, text: str, language: str, order_id: str | None
    ) -> Ticket:
        ticket = Ticket(f"C-{secrets.token_hex(3).upper()}", sender_id, self.clock())
        row = {
            "complaint_id": ticket.ticket_id,
            "sender_id": sender_id,
            "order_id": order_id,
            "text": text,
            "language": language,
            "created_at": ticket.created_at.isoformat(),
        }
        await asyncio.to_thread(self._insert, COMPLAINTS, row)
        return ticket

    async def request_handoff(
        self, sender_id: str, reason: str, last_message: str | None, language: str
    ) -> Ticket:
        ticket = Ticket(f"H-{secrets.token_hex(3).upper()}", sender_id, self.clock())
        row = {
            "handoff_id": ticket.ticket_id,
            "sender_id": sender_id,
            "reason": reason,
            "last_message": last_message,
            "language": language,
            "status": "waiting",
            "created_at": ticket.created_at.isoformat(),
        }
        await asyncio.to_thread(self._insert, HANDOFFS, row)
        return ticket

    def count(self, table: str) -> int:
        """Rows recorded in ``complaints`` or ``handoffs`` (for tests and health)."""
        if table not in TABLES:
            raise ValueError(table)
        with self.engine.begin() as db:
            return int(
                db.execute(select(func.count()).select_from(TABLES[table])).scalar_one()
            )
