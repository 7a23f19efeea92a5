"""Operators' working hours: parsing each weekday's range and finding whether
operators work at a moment, and when that changes, in the shop's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from easyflow_api.core.hours import (
    WEEKDAYS,
    availability,
    check_timezone,
    normalise_day,
    parse_day,
)

OFFICE = {
    "mon": "09:00-18:00",
    "tue": "09:00-18:00",
    "wed": "09:00-18:00",
    "thu": "09:00-18:00",
    "fri": "09:00-18:00",
    "sat": "closed",
    "sun": "closed",
}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("09:00-18:00", (540, 1080)),
        ("00:00-24:00", (0, 1440)),
        ("9:00-18:00".rjust(11, "0"), (540, 1080)),
        (" 10:30 – 12:15 ", (630, 735)),
        ("closed", None),
        ("CLOSED", None),
    ],
)
def test_parse_day(text: str, parsed: tuple[int, int] | None) -> None:
    assert parse_day(text) == parsed


@pytest.mark.parametrize(
    "text",
    [
        "",
        "open",
        "9-18",
        "09:00",
        "24:00-24:00",
        "18:00-09:00",
        "09:00-09:00",
        "23:60-23:59",
        "00:00-24:01",
        "09:00-18:00-20:00",
        "٠٩:٠٠-١٨:٠٠",
    ],
)
def test_parse_day_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_day(text)


def test_normalise_day() -> None:
    assert normalise_day("09:00 – 18:00") == "09:00-18:00"
    assert normalise_day(" Closed ") == "closed"


def test_check_timezone() -> None:
    assert check_timezone("Europe/Moscow") == "Europe/Moscow"
    for bad in ("Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", "utc+3"):
        with pytest.raises(ValueError, match="unknown time zone"):
            check_timezone(bad)


def test_working_now_and_until_the_end_of_the_shift() -> None:
    # Monday 2026-12-07 10:00 Moscow (UTC+3)
    state = availability(OFFICE, "Europe/Moscow", _utc("2026-12-07T07:00:00"))
    assert state.working_now is True
    assert state.until is not None
    assert state.until.isoformat() == "2026-12-07T18:00:00+03:00"
    assert state.next_at is None


def test_before_opening_the_same_day() -> None:
    state = availability(OFFICE, "Europe/Moscow", _utc("2026-12-07T05:59:00"))
    assert state.working_now is False
    assert state.next_at is not None
    assert state.next_at.isoformat() == "2026-12-07T09:00:00+03:00"


def test_closing_time_itself_is_closed_and_the_weekend_is_skipped() -> None:
    # Friday 2026-12-11 18:00 Moscow: next is Monday 09:00
    state = availability(OFFICE, "Europe/Moscow", _utc("2026-12-11T15:00:00"))
    assert state.working_now is False
    assert state.next_at is not None
    assert state.next_at.isoformat() == "2026-12-14T09:00:00+03:00"


def test_a_night_shift_across_midnight_is_one_shift() -> None:
    nights = dict.fromkeys(WEEKDAYS, "closed")
    nights["mon"] = "22:00-24:00"
    nights["tue"] = "00:00-06:00"
    # Tuesday 2026-12-08 01:00 UTC: inside the shift that began Monday 22:00
    state = availability(nights, "UTC", _utc("2026-12-08T01:00:00"))
    assert state.working_now is True
    assert state.until == _utc("2026-12-08T06:00:00")
    # Monday 23:00: the same shift ends on Tuesday 06:00, not at midnight
    state = availability(nights, "UTC", _utc("2026-12-07T23:00:00"))
    assert state.until == _utc("2026-12-08T06:00:00")


def test_always_and_never() -> None:
    always = availability(
        dict.fromkeys(WEEKDAYS, "00:00-24:00"), "UTC", _utc("2026-12-07T12:00:00")
    )
    assert (always.working_now, always.until, always.next_at) == (True, None, None)
    never = availability(
        dict.fromkeys(WEEKDAYS, "closed"), "UTC", _utc("2026-12-07T12:00:00")
    )
    assert (never.working_now, never.until, never.next_at) == (False, None, None)


def test_summer_time_keeps_wall_clock_hours() -> None:
    # Berlin moves to summer time on Sunday 2026-03-29: Monday 09:00 is 07:00 UTC
    state = availability(OFFICE, "Europe/Berlin", _utc("2026-03-28T12:00:00"))
    assert state.next_at is not None
    assert state.next_at.isoformat() == "2026-03-30T09:00:00+02:00"
    # and on Friday before, 09:00 was 08:00 UTC
    friday = availability(OFFICE, "Europe/Berlin", _utc("2026-03-27T08:30:00"))
    assert friday.working_now is True
    assert friday.until is not None
    assert friday.until.isoformat() == "2026-03-27T18:00:00+01:00"
