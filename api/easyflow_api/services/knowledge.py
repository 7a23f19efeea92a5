"""The knowledge base the fallback answers from: markdown documents per
language, edited on the dashboard, with every version kept.

Until anyone edits, the documents are the files in ``data/knowledge/``
(``EASYFLOW_KNOWLEDGE_DIR``): the first read of the knowledge base seeds the
empty tables from them, in one transaction (version 1, actor ``seed``). On
first use rather than in the migration: a migration changes the schema and
knows nothing of the running deployment's settings, while the api's
``EASYFLOW_KNOWLEDGE_DIR`` is where that deployment keeps its files. Rows are
never removed (a deleted document is marked so), so the tables are empty only
before the first seeding and files never come back over an admin's edits.

Every change goes from the version the editor started from (optimistic
concurrency, as for the shop settings): the UPDATE carries the version in its
WHERE, so of two admins saving from the same version one is refused with
``StaleVersion`` and changes nothing. Each change writes a version row and an
audit entry in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from easyflow_api.core.times import iso
from easyflow_api.models import KnowledgeDocument, KnowledgeVersion
from easyflow_api.services import audit

logger = logging.getLogger(__name__)

LANGUAGES = ("ru", "en")
# A document's name is its file name without ".md": a slug, never a path.
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MAX_CONTENT_BYTES = 64 * 1024
SEED_ACTOR = "seed"
_NAME = re.compile(NAME_PATTERN)


class KnowledgeError(Exception):
    """Base of the errors a route maps to a status."""


class NotFound(KnowledgeError):
    def __init__(self, language: str, name: str) -> None:
        super().__init__(f"no knowledge document {language}/{name}")


class AlreadyExists(KnowledgeError):
    def __init__(self, language: str, name: str) -> None:
        super().__init__(
            f"a knowledge document {language}/{name} exists; open it and edit it"
        )


class StaleVersion(KnowledgeError):
    """The document changed since the version the caller edited."""

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the document was changed by someone else (now version {current}); "
            "reload it and apply your changes again"
        )
        self.current = current


class VersionNotFound(KnowledgeError):
    def __init__(self, version: int) -> None:
        super().__init__(f"no version {version} of this document")


@dataclass(frozen=True)
class Key:
    language: str
    name: str

    def __str__(self) -> str:
        return f"{self.language}/{self.name}"


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


def title_of(content: str, name: str) -> str:
    """The document's ``# Title`` line (what answers cite), else its name."""
    for line in content.splitlines():
        if line.startswith("# "):
            return line[2:].strip()[:200] or name
    return name


def _view(row: KnowledgeDocument, with_content: bool = True) -> dict[str, Any]:
    view: dict[str, Any] = {
        "language": row.language,
        "name": row.name,
        "title": row.title,
        "version": row.version,
        "size": len(row.content.encode()),
        "updated_at": iso(row.updated_at),
        "updated_by": row.updated_by,
    }
    if with_content:
        view["content"] = row.content
    return view


def seed_files(root: Path) -> list[tuple[str, str, str]]:
    """(language, name, content) of every ``<language>/<name>.md`` under root
    whose name and size the editor would accept."""
    found = []
    for language in LANGUAGES:
        for path in sorted((root / language).glob("*.md")):
            try:
                content = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                logger.warning(
                    "knowledge.seed.skipped",
                    extra={"file": path.name, "error": repr(exc)},
                )
                continue
            if _NAME.match(path.stem) and len(content.encode()) <= MAX_CONTENT_BYTES:
                found.append((language, path.stem, content))
    return found


def ensure_seeded(session: Session, root: Path) -> None:
    """Fills the empty tables from the files once (see the module docstring)."""
    if session.scalar(select(func.count()).select_from(KnowledgeDocument)):
        return
    session.rollback()
    files = seed_files(root)
    now = time.time()
    try:
        for language, name, content in files:
            row = KnowledgeDocument(
                language=language,
                name=name,
                title=title_of(content, name),
                content=content,
                version=1,
                deleted=False,
                updated_at=now,
                updated_by=SEED_ACTOR,
            )
            session.add(row)
            session.flush()
            session.add(_version_row(row, "seed", SEED_ACTOR, now))
        audit.record(
            session,
            SEED_ACTOR,
            "knowledge.seed",
            "knowledge",
            {"documents": [f"{lang}/{name}" for lang, name, _ in files]},
        )
        session.commit()
    except IntegrityError:  # another request seeded first
        session.rollback()
        return
    logger.info("knowledge.seeded", extra={"documents": len(files)})


def _version_row(
    row: KnowledgeDocument, action: str, actor: str, at: float
) -> KnowledgeVersion:
    return KnowledgeVersion(
        document_id=row.id,
        version=row.version,
        action=action,
        content=row.content,
        at=at,
        actor=actor,
    )


def _row(session: Session, key: Key) -> KnowledgeDocument | None:
    return session.scalar(
        select(KnowledgeDocument)
        .where(
            KnowledgeDocument.language == key.language,
            KnowledgeDocument.name == key.name,
        )
        .execution_options(populate_existing=True)
    )


def _live(session: Session, key: Key) -> KnowledgeDocument:
    row = _row(session, key)
    if row is None or row.deleted:
        raise NotFound(key.language, key.name)
    return row


def listing(session: Session, language: str | None) -> list[dict[str, Any]]:
    query = select(KnowledgeDocument).where(KnowledgeDocument.deleted.is_(False))
    if language:
        query = query.where(KnowledgeDocument.language == language)
    rows = session.scalars(
        query.order_by(KnowledgeDocument.language, KnowledgeDocument.name)
    ).all()
    return [_view(row, with_content=False) for row in rows]


def read(session: Session, key: Key) -> dict[str, Any]:
    return _view(_live(session, key))


def _write(
    session: Session,
    key: Key,
    content: str,
    version: int,
    actor: str,
    action: str,
    detail: dict[str, Any] | None = None,
    deleted: bool = False,
) -> dict[str, Any]:
    """Writes ``content`` as the version after ``version`` (the WHERE guards
    it), with its version row and audit entry, in one transaction."""
    # End the read before writing (see services/shop_settings.py: SQLite).
    session.rollback()
    now = time.time()
    done = session.execute(
        update(KnowledgeDocument)
        .where(
            KnowledgeDocument.language == key.language,
            KnowledgeDocument.name == key.name,
            KnowledgeDocument.version == version,
        )
        .values(
            version=version + 1,
            content=content,
            title=title_of(content, key.name),
            deleted=deleted,
            updated_at=now,
            updated_by=actor,
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        row = _row(session, key)
        raise StaleVersion(row.version if row is not None else 0)
    row = _row(session, key)
    assert row is not None
    session.add(_version_row(row, action, actor, now))
    audit.record(
        session,
        actor,
        f"knowledge.{action}",
        str(key),
        {"version": row.version, "size": len(content.encode()), **(detail or {})},
    )
    try:
        session.commit()
    except IntegrityError:  # a concurrent writer took this version number
        session.rollback()
        raise StaleVersion(version + 1) from None
    logger.info(
        "knowledge.saved",
        extra={"document": str(key), "action": action, "version": row.version},
    )
    return _view(row)


def create(
    session: Session, key: Key, content: str, actor: str, action: str = "create"
) -> dict[str, Any]:
    """A new document; one deleted before comes back with its history."""
    row = _row(session, key)
    if row is not None and not row.deleted:
        raise AlreadyExists(key.language, key.name)
    if row is not None:
        try:
            return _write(session, key, content, row.version, actor, action)
        except StaleVersion:
            raise AlreadyExists(key.language, key.name) from None
    session.rollback()
    now = time.time()
    row = KnowledgeDocument(
        language=key.language,
        name=key.name,
        title=title_of(content, key.name),
        content=content,
        version=1,
        deleted=False,
        updated_at=now,
        updated_by=actor,
    )
    try:
        session.add(row)
        session.flush()
        session.add(_version_row(row, action, actor, now))
        audit.record(
            session,
            actor,
            f"knowledge.{action}",
            str(key),
            {"version": 1, "size": len(content.encode())},
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyExists(key.language, key.name) from None
    logger.info("knowledge.saved", extra={"document": str(key), "action": action})
    return _view(row)


def edit(
    session: Session,
    key: Key,
    content: str,
    version: int,
    actor: str,
    action: str = "edit",
) -> dict[str, Any]:
    row = _live(session, key)
    if row.version != version:
        raise StaleVersion(row.version)
    return _write(session, key, content, version, actor, action)


def delete(session: Session, key: Key, version: int, actor: str) -> None:
    row = _live(session, key)
    if row.version != version:
        raise StaleVersion(row.version)
    _write(session, key, row.content, version, actor, "delete", deleted=True)


def history(session: Session, key: Key) -> list[dict[str, Any]]:
    row = _live(session, key)
    versions = session.scalars(
        select(KnowledgeVersion)
        .where(KnowledgeVersion.document_id == row.id)
        .order_by(KnowledgeVersion.version.desc())
    ).all()
    return [
        {
            "version": v.version,
            "action": v.action,
            "title": title_of(v.content, key.name),
            "size": len(v.content.encode()),
            "at": iso(v.at),
            "actor": v.actor,
        }
        for v in versions
    ]


def _version(session: Session, row: KnowledgeDocument, number: int) -> KnowledgeVersion:
    found = session.scalar(
        select(KnowledgeVersion).where(
            KnowledgeVersion.document_id == row.id, KnowledgeVersion.version == number
        )
    )
    if found is None:
        raise VersionNotFound(number)
    return found


def read_version(session: Session, key: Key, number: int) -> dict[str, Any]:
    row = _live(session, key)
    found = _version(session, row, number)
    return {
        "language": key.language,
        "name": key.name,
        "version": found.version,
        "action": found.action,
        "title": title_of(found.content, key.name),
        "content": found.content,
        "at": iso(found.at),
        "actor": found.actor,
    }


def restore(
    session: Session, key: Key, number: int, version: int, actor: str
) -> dict[str, Any]:
    """The content of version ``number`` as a new version after ``version``."""
    row = _live(session, key)
    if row.version != version:
        raise StaleVersion(row.version)
    content = _version(session, row, number).content
    return _write(
        session, key, content, version, actor, "restore", {"restored": number}
    )


def revision(session: Session) -> str:
    """A digest of every live document's language, name and version: what
    changes whenever the published base does (the ETag), read without the
    documents' text, so an unchanged base costs one narrow query."""
    rows = session.execute(
        select(
            KnowledgeDocument.language,
            KnowledgeDocument.name,
            KnowledgeDocument.version,
            KnowledgeDocument.id,
        )
        .where(KnowledgeDocument.deleted.is_(False))
        .order_by(KnowledgeDocument.language, KnowledgeDocument.name)
    ).all()
    stamp = json.dumps([list(row) for row in rows])
    return hashlib.sha256(stamp.encode()).hexdigest()[:32]


def published(session: Session) -> list[dict[str, Any]]:
    """What the action server answers from: every live document."""
    rows = session.scalars(
        select(KnowledgeDocument)
        .where(KnowledgeDocument.deleted.is_(False))
        .order_by(KnowledgeDocument.language, KnowledgeDocument.name)
    ).all()
    return [
        {
            "language": r.language,
            "name": r.name,
            "title": r.title,
            "version": r.version,
            "content": r.content,
        }
        for r in rows
    ]
