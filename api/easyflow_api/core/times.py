"""Epoch seconds ↔ ISO 8601 (UTC) and inclusive day ranges for filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_required(timestamp: float) -> str:
    return iso(timestamp) or ""


def day_bounds(
    start: date | None, end: date | None
) -> tuple[float | None, float | None]:
    """[start 00:00 UTC, day after end 00:00 UTC) as epoch seconds."""
    low = datetime.combine(start, time.min, tzinfo=UTC).timestamp() if start else None
    high = (
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC).timestamp()
        if end and end < date.max
        else None
    )
    return low, high
