"""Failed-login limiter: at most N failures per (username, client IP) in a window.

Keyed by both, so a flood against `admin` from one address does not lock the
real admin out from another. In memory by default (one process); with
EASYFLOW_REDIS_URL the failures live in Redis, so every api replica and worker
sees the same count and a restart does not reset it."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import defaultdict, deque
from typing import Protocol

import redis


class LimiterUnavailable(RuntimeError):
    """The shared store cannot be reached; logins fail closed (503)."""


class LoginLimiter(Protocol):
    max_failures: int
    window_s: float

    def retry_after(self, username: str, ip: str) -> int | None:
        """Seconds to wait when the key is blocked, else None."""

    def record_failure(self, username: str, ip: str) -> None: ...

    def reset(self, username: str, ip: str) -> None: ...


class MemoryLoginLimiter:
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


class RedisLoginLimiter:
    """A sliding window per key: a sorted set of failure times (wall clock, so
    replicas agree within their clock skew) that expires with the window."""

    def __init__(
        self,
        url: str,
        max_failures: int = 5,
        window_s: float = 60.0,
        prefix: str = "easyflow:api:login:",
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.prefix = prefix
        # redis-py connects on first use, not here.
        self._redis = redis.Redis.from_url(
            url, socket_timeout=2.0, socket_connect_timeout=2.0
        )

    def _key(self, username: str, ip: str) -> str:
        # Hashed: usernames are attacker-chosen text, keys stay short and clean.
        raw = f"{username.lower()}\0{ip}".encode()
        return self.prefix + hashlib.sha256(raw).hexdigest()

    def retry_after(self, username: str, ip: str) -> int | None:
        key, now = self._key(username, ip), time.time()
        try:
            pipe = self._redis.pipeline()
            pipe.zremrangebyscore(key, "-inf", now - self.window_s)
            pipe.zcard(key)
            pipe.zrange(key, 0, 0, withscores=True)
            _, count, oldest = pipe.execute()
        except redis.RedisError as exc:
            raise LimiterUnavailable(str(exc)) from exc
        if count < self.max_failures or not oldest:
            return None
        return max(1, int(oldest[0][1] + self.window_s - now) + 1)

    def record_failure(self, username: str, ip: str) -> None:
        key, now = self._key(username, ip), time.time()
        try:
            pipe = self._redis.pipeline()
            pipe.zadd(key, {uuid.uuid4().hex: now})
            pipe.zremrangebyscore(key, "-inf", now - self.window_s)
            pipe.expire(key, int(self.window_s) + 1)
            pipe.execute()
        except redis.RedisError as exc:
            raise LimiterUnavailable(str(exc)) from exc

    def reset(self, username: str, ip: str) -> None:
        try:
            self._redis.delete(self._key(username, ip))
        except redis.RedisError as exc:
            raise LimiterUnavailable(str(exc)) from exc

    def close(self) -> None:
        self._redis.close()


def build_limiter(
    redis_url: str | None, max_failures: int, window_s: float
) -> LoginLimiter:
    if redis_url:
        return RedisLoginLimiter(redis_url, max_failures, window_s)
    return MemoryLoginLimiter(max_failures, window_s)
