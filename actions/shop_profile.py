"""What the merchant set on the dashboard's Shop page, as the bot needs it: the
return window it quotes and enforces, and whether operators are working now.

Read from the admin API's public ``GET /api/public/shop`` (``EASYFLOW_API_URL``;
the same answer the web chat widget reads, so no credentials), kept for a minute,
and refreshed at most once a minute by the turns that need it (order requests,
handoffs). Without an api, or while it cannot answer, the bot keeps the last
answer it had, else the environment's ``EASYFLOW_RETURN_WINDOW_DAYS`` and says
nothing about operators' hours: a shop never stops answering because the
dashboard is down.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from common.http import PlatformClient, PlatformError, RetryPolicy

logger = logging.getLogger(__name__)

TTL_S = 60.0
# After a failed read, the next try waits this long (the turn does not wait).
RETRY_AFTER_S = 10.0


@dataclass(frozen=True)
class Profile:
    return_window_days: int
    # None: unknown (no api configured, or it has not answered yet).
    operators_working: bool | None = None
    operators_next_at: datetime | None = None


class ShopProfile:
    def __init__(
        self,
        api_url: str,
        default_window_days: int,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default = Profile(default_window_days)
        self.current = self.default
        self.clock = clock
        self._next_read = 0.0
        self.client = (
            PlatformClient(
                "api", api_url, timeout_s=timeout_s, retry=RetryPolicy(max_attempts=1)
            )
            if api_url
            else None
        )

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()

    async def refresh(self) -> Profile:
        """The current profile, read again when the last read is a minute old."""
        if self.client is None or self.clock() < self._next_read:
            return self.current
        try:
            body = await self.client.get("/api/public/shop")
            self.current = _profile(body, self.default)
            self._next_read = self.clock() + TTL_S
        except (PlatformError, ValueError, TypeError) as error:
            logger.warning("shop_profile.unavailable", extra={"error": repr(error)})
            self._next_read = self.clock() + RETRY_AFTER_S
        return self.current


def _profile(body: Any, default: Profile) -> Profile:
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    window = body.get("return_window_days", default.return_window_days)
    if not isinstance(window, int) or not 1 <= window <= 365:
        raise ValueError(f"return_window_days {window!r}")
    operators = body.get("operators") or {}
    working = operators.get("working_now")
    next_at = operators.get("next_at")
    back = datetime.fromisoformat(next_at) if isinstance(next_at, str) else None
    zone = operators.get("timezone")
    if back is not None and isinstance(zone, str):
        # In the shop's zone, so the shopper reads "09:00 (MSK)".
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            back = back.astimezone(ZoneInfo(zone))
    return Profile(window, working if isinstance(working, bool) else None, back)
