"""Audit log of admin and operator actions (written in the caller's transaction)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from easyflow_api.core.times import day_bounds
from easyflow_api.models import AuditEntry


@dataclass(frozen=True)
class Filters:
    """Exact who / what / target; ``start``..``end`` are inclusive UTC days."""

    action: str | None = None
    actor: str | None = None
    target: str | None = None
    start: date | None = None
    end: date | None = None


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
    session: Session, limit: int, offset: int, filters: Filters | None = None
) -> tuple[list[AuditEntry], int]:
    f = filters or Filters()
    query = select(AuditEntry)
    if f.action:
        query = query.where(AuditEntry.action == f.action)
    if f.actor:
        query = query.where(AuditEntry.actor == f.actor)
    if f.target:
        query = query.where(AuditEntry.target == f.target)
    low, high = day_bounds(f.start, f.end)
    if low is not None:
        query = query.where(AuditEntry.at >= low)
    if high is not None:
        query = query.where(AuditEntry.at < high)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), total


def facets(session: Session) -> dict[str, list[str]]:
    actors = session.scalars(
        select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)
    ).all()
    actions = session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    ).all()
    return {"actors": list(actors), "actions": list(actions)}
