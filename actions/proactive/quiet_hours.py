"""Quiet hours: order updates due at night wait for the morning.

``EASYFLOW_QUIET_HOURS`` is ``<from>-<to>`` in whole hours of the shop's time zone
(``EASYFLOW_SHOP_TIMEZONE``, default Europe/Moscow), ``22-9`` by default, or
``off``. An update that falls inside is queued with ``not_before`` set to the end
of the window (``actions/proactive/queue.py``); payment notices and operator
replies answer something the shopper just did and are never held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WINDOW = re.compile(r"^(\d{1,2})-(\d{1,2})$")


@dataclass(frozen=True)
class QuietHours:
    start: int  # hour the quiet begins (inclusive)
    end: int  # hour it ends (exclusive)
    zone: ZoneInfo

    @classmethod
    def parse(cls, window: str, zone: str) -> QuietHours | None:
        """``None`` for ``off``; ``ValueError`` naming what is wrong."""
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{zone}' is not a known time zone") from None
        if window.strip().lower() == "off":
            return None
        match = _WINDOW.match(window.strip())
        if match is None:
            raise ValueError(f"'{window}' is not <hour>-<hour> (like 22-9) or off")
        start, end = int(match[1]), int(match[2])
        if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
            raise ValueError(f"'{window}' needs two different hours from 0 to 23")
        return cls(start, end, tz)

    def until(self, now: datetime) -> datetime | None:
        """When the quiet that ``now`` (aware) falls in ends; ``None`` outside."""
        local = now.astimezone(self.zone)
        hour = local.hour
        inside = (
            self.start <= hour < self.end
            if self.start < self.end
            else hour >= self.start or hour < self.end
        )
        if not inside:
            return None
        end = datetime.combine(local.date(), time(self.end), tzinfo=self.zone)
        if end <= local:
            end = datetime.combine(
                local.date() + timedelta(days=1), time(self.end), tzinfo=self.zone
            )
        return end
