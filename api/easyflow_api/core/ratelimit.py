"""Failed-login limiter: at most N failures per (username, client IP) in a window.

Kept in process memory: with several api replicas each one counts its own
failures (documented in the README)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class LoginLimiter:
    def __init__(self, max_failures: int = 5, window_s: float = 60.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def retry_after(self, username: str, ip: str) -> int | None:
        """Seconds to wait when the key is blocked, else None."""
        now = time.monotonic()
        with self._lock:
            failures = self._prune((username.lower(), ip), now)
            if len(failures) < self.max_failures:
                return None
            return max(1, int(failures[0] + self.window_s - now) + 1)

    def record_failure(self, username: str, ip: str) -> None:
        with self._lock:
            key = (username.lower(), ip)
            self._prune(key, time.monotonic()).append(time.monotonic())

    def reset(self, username: str, ip: str) -> None:
        with self._lock:
            self._failures.pop((username.lower(), ip), None)
