"""The merchant's shop settings: defaults from the environment until an admin
saves, then one row in ``shop_settings`` changed only from the version it was
read at (optimistic concurrency: two admins editing at once cannot silently
overwrite each other; the later save is refused and changes nothing)."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from easyflow_api.core.config import Settings
from easyflow_api.core.hours import ALWAYS, WEEKDAYS, availability
from easyflow_api.core.times import iso
from easyflow_api.models import ShopSettings
from easyflow_api.services import audit

logger = logging.getLogger(__name__)
ROW_ID = 1
FIELDS = (
    "name",
    "greeting",
    "working_hours",
    "return_window_days",
    "languages",
)


class StaleVersion(Exception):
    """The settings changed since the version the caller edited."""

    def __init__(self, current: int) -> None:
        super().__init__(
            f"the shop settings were changed by someone else (now version "
            f"{current}); reload them and apply your changes again"
        )
        self.current = current


def defaults(settings: Settings) -> dict[str, Any]:
    """What an existing deployment behaves like before anyone saves: its
    environment's shop name and return window, operators at any hour (no hours
    were ever set), both languages and no greeting (the widget shows none)."""
    return {
        "version": 0,
        "name": settings.shop_name or None,
        "greeting": {"ru": "", "en": ""},
        "working_hours": {
            "timezone": settings.shop_timezone,
            "days": dict.fromkeys(WEEKDAYS, ALWAYS),
        },
        "return_window_days": settings.return_window_days,
        "languages": ["ru", "en"],
        "updated_at": None,
        "updated_by": None,
    }


def _view(row: ShopSettings) -> dict[str, Any]:
    return {
        "version": row.version,
        "name": row.name,
        "greeting": dict(row.greeting),
        "working_hours": {"timezone": row.timezone, "days": dict(row.working_hours)},
        "return_window_days": row.return_window_days,
        "languages": list(row.languages),
        "updated_at": iso(row.updated_at),
        "updated_by": row.updated_by,
    }


def current(session: Session, settings: Settings) -> dict[str, Any]:
    row = session.get(ShopSettings, ROW_ID, populate_existing=True)
    return _view(row) if row is not None else defaults(settings)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Field by field, old and new value (none of them is a secret)."""
    return {
        name: {"from": before[name], "to": after[name]}
        for name in FIELDS
        if before[name] != after[name]
    }


def save(
    session: Session,
    settings: Settings,
    values: dict[str, Any],
    version: int,
    actor: str,
) -> dict[str, Any]:
    """Stores ``values`` (validated ShopSettingsBase fields) as the next
    version after ``version``, audited in the same transaction. StaleVersion
    when the stored version is another, whoever got there first."""
    before = current(session, settings)
    if before["version"] != version:
        raise StaleVersion(before["version"])
    # End the read before writing: the version in the WHERE below guards the
    # write, and SQLite refuses to turn a read snapshot another writer has
    # since passed into a write ("database is locked") instead of waiting.
    session.rollback()
    hours = values["working_hours"]
    columns = {
        "name": values["name"],
        "greeting": values["greeting"],
        "timezone": hours["timezone"],
        "working_hours": hours["days"],
        "return_window_days": values["return_window_days"],
        "languages": values["languages"],
        "updated_at": time.time(),
        "updated_by": actor,
    }
    try:
        if version == 0:
            session.add(ShopSettings(id=ROW_ID, version=1, **columns))
            session.flush()
        else:
            # The WHERE on the version makes read-compare-write one statement:
            # of two concurrent saves from the same version one matches no row.
            done = session.execute(
                update(ShopSettings)
                .where(ShopSettings.id == ROW_ID, ShopSettings.version == version)
                .values(version=version + 1, **columns)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise StaleVersion(version + 1)
    except IntegrityError:  # another first save won the insert
        session.rollback()
        raise StaleVersion(current(session, settings)["version"]) from None
    except StaleVersion:
        session.rollback()
        raise StaleVersion(current(session, settings)["version"]) from None
    after = current(session, settings)
    changes = _changes(before, after)
    audit.record(
        session,
        actor,
        "shop_settings.update",
        "shop",
        {"version": after["version"], "fields": sorted(changes), "changes": changes},
    )
    session.commit()
    logger.info(
        "shop_settings.saved",
        extra={"version": after["version"], "actor": actor, "fields": sorted(changes)},
    )
    return after


def public(view: dict[str, Any], now: datetime) -> dict[str, Any]:
    """What the widget and the bot need and nothing more: the name, the greetings
    of the enabled languages that have one, whether operators are working, and
    the return window (public policy the bot quotes to shoppers)."""
    hours = view["working_hours"]
    state = availability(hours["days"], hours["timezone"], now)
    return {
        "name": view["name"],
        "greeting": {
            lang: view["greeting"][lang]
            for lang in view["languages"]
            if view["greeting"].get(lang)
        },
        "languages": view["languages"],
        "return_window_days": view["return_window_days"],
        "operators": {
            "working_now": state.working_now,
            "until": state.until.isoformat() if state.until else None,
            "next_at": state.next_at.isoformat() if state.next_at else None,
            "timezone": hours["timezone"],
        },
    }
