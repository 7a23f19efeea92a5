"""Audit log of admin and operator actions (written in the caller's transaction)."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from easyflow_api.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=time.time(), actor=actor, action=action, target=target, detail=detail
        )
    )


def record_view(
    session: Session, actor: str, action: str, detail: dict[str, object]
) -> bool:
    """Audits a list read unless this reader's latest ``action`` showed exactly
    the same (``detail``): the console polls every few seconds, and each view is
    kept once, at the time it was first shown. ``True`` when a row was written."""
    latest = session.scalars(
        select(AuditEntry.detail)
        .where(AuditEntry.actor == actor, AuditEntry.action == action)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    if latest == detail:
        return False
    record(session, actor, action, detail=detail)
    return True


def page(
    session: Session, limit: int, offset: int, action: str | None = None
) -> tuple[list[AuditEntry], int]:
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total
