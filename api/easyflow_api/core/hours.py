"""Operators' working hours: one range or "closed" per weekday in the shop's
time zone, and when operators are working now or next.

A range is ``HH:MM-HH:MM`` in the shop's wall-clock time, opening before
closing; ``24:00`` closes at midnight, so ``00:00-24:00`` is the whole day and
``22:00-24:00`` followed by ``00:00-06:00`` the next day is one night shift.
Times are resolved with ``zoneinfo``, so a day that changes to or from summer
time keeps its wall-clock hours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOSED = "closed"
ALWAYS = "00:00-24:00"
_RANGE = re.compile(r"([0-9]{2}):([0-9]{2}) *[-–] *([0-9]{2}):([0-9]{2})")
# Far enough ahead to find the next opening of any week that has one.
_HORIZON_DAYS = 8


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """The IANA name if zoneinfo knows it (``Europe/Moscow``), else ValueError.
    Only names from the tz database are accepted, never a path."""
    if name not in _zones():
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Moscow"
        )
    return name


def parse_day(text: str) -> tuple[int, int] | None:
    """``(opening, closing)`` in minutes after midnight, None when closed."""
    value = text.strip()
    if value.lower() == CLOSED:
        return None
    match = _RANGE.fullmatch(value)
    if match is None:
        raise ValueError(f"expected HH:MM-HH:MM or closed, got {text[:40]!r}")
    oh, om, ch, cm = (int(g) for g in match.groups())
    if oh > 23 or om > 59 or ch > 24 or cm > 59 or (ch == 24 and cm != 0):
        raise ValueError(f"not a time of day in {text[:40]!r}")
    opening, closing = oh * 60 + om, ch * 60 + cm
    if opening >= closing:
        raise ValueError(
            f"opening must be before closing in {text[:40]!r} (use 24:00 for midnight)"
        )
    return opening, closing


def normalise_day(text: str) -> str:
    """The canonical spelling: ``closed`` or ``09:00-18:00``."""
    parsed = parse_day(text)
    if parsed is None:
        return CLOSED
    opening, closing = parsed
    return (
        f"{opening // 60:02d}:{opening % 60:02d}-{closing // 60:02d}:{closing % 60:02d}"
    )


@dataclass(frozen=True)
class Availability:
    """``until``: when the current shift ends (None: it never ends within the
    week); ``next_at``: when the next shift starts (None: working now, or no
    working day at all)."""

    working_now: bool
    until: datetime | None
    next_at: datetime | None


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The wall-clock time in the zone, as UTC (aware datetimes that share a
    tzinfo compare by wall clock, which is wrong across a summer-time change)."""
    day = day + timedelta(days=minutes // 1440)
    minutes %= 1440
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _shifts(
    days: Mapping[str, str], zone: ZoneInfo, today: date
) -> list[tuple[datetime, datetime]]:
    """Shifts from yesterday to the horizon, touching ones merged."""
    shifts: list[tuple[datetime, datetime]] = []
    for offset in range(-1, _HORIZON_DAYS):
        day = today + timedelta(days=offset)
        parsed = parse_day(days.get(WEEKDAYS[day.weekday()], CLOSED))
        if parsed is None:
            continue
        start, end = _at(day, parsed[0], zone), _at(day, parsed[1], zone)
        if shifts and start <= shifts[-1][1]:
            shifts[-1] = (shifts[-1][0], max(end, shifts[-1][1]))
        else:
            shifts.append((start, end))
    return shifts


def availability(days: Mapping[str, str], timezone: str, now: datetime) -> Availability:
    """Whether operators work at ``now`` (an aware datetime) and when that
    changes, in the shop's time zone."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    instant = now.astimezone(UTC)
    horizon = _at(today, (_HORIZON_DAYS - 1) * 1440, zone)
    for start, end in _shifts(days, zone, today):
        if start <= instant < end:
            until = None if end >= horizon else end.astimezone(zone)
            return Availability(True, until, None)
        if start > instant:
            return Availability(False, None, start.astimezone(zone))
    return Availability(False, None, None)
