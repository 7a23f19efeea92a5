"""Photos and files shoppers send, kept for the operator and linked to a return.

The Rasa process's connectors fetch an attachment through the platform's file API
when it arrives and hand its bytes to this store (``POST /attachments`` on the
action server, behind the action token); the action that answers the photo links
it to the return or order the conversation is about; the api lists and serves
them to the dashboard (``GET /attachments…``, the action token again).

The bytes live in the action server's own database (an SQLite file on the
embedded default, the shared PostgreSQL in production), so every replica sees
every attachment. What is kept is bounded: the MIME types in ``ALLOWED``, whose
first bytes must match the type claimed (a page sent as ``image/jpeg`` is
refused), at most ``max_bytes`` each and ``per_day`` per conversation. A
platform's retry of the same delivery stores nothing twice (``source_key``).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from actions.database import Tables

# MIME type -> the first bytes every such file starts with.
ALLOWED: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
KINDS = frozenset({"photo", "document"})
MAX_BYTES = 10 * 1024 * 1024
PER_DAY = 30

METADATA = MetaData()
ATTACHMENTS = Table(
    "attachments",
    METADATA,
    Column("attachment_id", Text, primary_key=True),
    Column("source_key", Text, nullable=False, unique=True),
    Column("sender_id", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("mime_type", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("order_id", Text),
    Column("return_id", Text),
    Column("created_at", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Index("attachments_sender", "sender_id", "created_at"),
)
_LISTED = [c for c in ATTACHMENTS.columns if c.name not in ("content", "source_key")]


class Refused(ValueError):
    """The attachment is not kept; the message says why (no content in it)."""


@dataclass(frozen=True)
class Attachment:
    attachment_id: str
    sender_id: str
    channel: str
    kind: str
    mime_type: str
    size: int
    sha256: str
    order_id: str | None
    return_id: str | None
    created_at: str


def check(kind: str, mime_type: str, content: bytes, max_bytes: int) -> None:
    """Raises ``Refused`` unless the content is a kept kind and type, within the
    size limit, and starts like the type it claims to be."""
    if kind not in KINDS:
        raise Refused(f"kind {kind!r} is not kept")
    signatures = ALLOWED.get(mime_type)
    if signatures is None:
        raise Refused(f"type {mime_type!r} is not kept")
    if not content:
        raise Refused("empty file")
    if len(content) > max_bytes:
        raise Refused(f"larger than {max_bytes} bytes")
    if not content.startswith(signatures):
        raise Refused(f"content is not {mime_type}")
    if mime_type == "image/webp" and content[8:12] != b"WEBP":
        raise Refused("content is not image/webp")


class AttachmentStore(Tables):
    """At an SQLite file or a database URL (``actions/database.py``)."""

    metadata = METADATA

    def __init__(
        self,
        target: Path | str,
        max_bytes: int = MAX_BYTES,
        per_day: int = PER_DAY,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        super().__init__(target)
        self.max_bytes = max_bytes
        self.per_day = per_day
        self.clock = clock

    async def add(
        self,
        *,
        source_key: str,
        sender_id: str,
        channel: str,
        kind: str,
        mime_type: str,
        content: bytes,
    ) -> tuple[Attachment, bool]:
        """Keeps the file once per ``source_key`` (the platform's delivery and the
        file's place in it): ``(attachment, True)``; the same key again returns
        the first one, with ``False``."""
        check(kind, mime_type, content, self.max_bytes)
        return await asyncio.to_thread(
            self._add, source_key, sender_id, channel, kind, mime_type, content
        )

    def _add(
        self,
        source_key: str,
        sender_id: str,
        channel: str,
        kind: str,
        mime_type: str,
        content: bytes,
    ) -> tuple[Attachment, bool]:
        now = self.clock()
        row = {
            "attachment_id": f"F-{secrets.token_hex(8)}",
            "source_key": source_key,
            "sender_id": sender_id,
            "channel": channel,
            "kind": kind,
            "mime_type": mime_type,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "order_id": None,
            "return_id": None,
            "created_at": now.isoformat(),
        }
        try:
            with self.engine.begin() as db:
                known = self._by_key(db, source_key)
                if known is not None:
                    return known, False
                since = (now - timedelta(days=1)).isoformat()
                recent = db.execute(
                    select(func.count())
                    .select_from(ATTACHMENTS)
                    .where(ATTACHMENTS.c.sender_id == sender_id)
                    .where(ATTACHMENTS.c.created_at > since)
                ).scalar_one()
                if recent >= self.per_day:
                    raise Refused(f"more than {self.per_day} files a day")
                db.execute(insert(ATTACHMENTS).values(**row, content=content))
        except IntegrityError:  # the same delivery kept by another worker meanwhile
            with self.engine.begin() as db:
                known = self._by_key(db, source_key)
            if known is None:
                raise
            return known, False
        kept = {k: v for k, v in row.items() if k != "source_key"}
        return Attachment(**kept), True

    @staticmethod
    def _by_key(db: object, source_key: str) -> Attachment | None:
        found = db.execute(  # type: ignore[attr-defined]
            select(*_LISTED).where(ATTACHMENTS.c.source_key == source_key)
        ).first()
        return None if found is None else _attachment(found)

    async def link(
        self,
        sender_id: str,
        attachment_ids: list[str],
        order_id: str | None,
        return_id: str | None,
    ) -> list[Attachment]:
        """Files of this conversation linked to an order (and its return); ids of
        another conversation's files are ignored."""
        return await asyncio.to_thread(
            self._link, sender_id, attachment_ids, order_id, return_id
        )

    def _link(
        self,
        sender_id: str,
        attachment_ids: list[str],
        order_id: str | None,
        return_id: str | None,
    ) -> list[Attachment]:
        mine = (ATTACHMENTS.c.sender_id == sender_id) & ATTACHMENTS.c.attachment_id.in_(
            attachment_ids
        )
        with self.engine.begin() as db:
            db.execute(
                update(ATTACHMENTS)
                .where(mine)
                .values(order_id=order_id, return_id=return_id)
            )
            rows = db.execute(select(*_LISTED).where(mine)).all()
        return [_attachment(row) for row in rows]

    async def of(self, sender_id: str) -> list[Attachment]:
        """The conversation's files, oldest first, without their content."""
        return await asyncio.to_thread(self._of, sender_id)

    def _of(self, sender_id: str) -> list[Attachment]:
        with self.engine.begin() as db:
            rows = db.execute(
                select(*_LISTED)
                .where(ATTACHMENTS.c.sender_id == sender_id)
                .order_by(ATTACHMENTS.c.created_at, ATTACHMENTS.c.attachment_id)
            ).all()
        return [_attachment(row) for row in rows]

    async def content(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        return await asyncio.to_thread(self._content, attachment_id)

    def _content(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        with self.engine.begin() as db:
            row = db.execute(
                select(*_LISTED, ATTACHMENTS.c.content).where(
                    ATTACHMENTS.c.attachment_id == attachment_id
                )
            ).first()
        if row is None:
            return None
        return _attachment(row), bytes(row.content)


def _attachment(row: object) -> Attachment:
    mapping = row._mapping  # type: ignore[attr-defined]
    return Attachment(**{column.name: mapping[column.name] for column in _LISTED})
