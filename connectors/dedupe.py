"""Processing each platform delivery once, also across restarts and replicas.

Platforms retry a webhook they think failed. A connector claims the delivery's id
(``telegram:update:123``) before handing it to Rasa and skips ids already claimed.
If processing fails, the claim is released so the platform's retry is processed.

``MemoryDedupe`` is the embedded default (one process, lost on restart);
``RedisDedupe`` (``SET NX EX``) is shared by replicas and survives restarts. The
connectors pick one with ``dedupe_from_env``: Redis when ``EASYFLOW_REDIS_URL`` is
set.
"""

from __future__ import annotations

import abc
import logging
import time
from collections import OrderedDict

from connectors.settings import ChannelSettings

logger = logging.getLogger(__name__)

DEFAULT_TTL_S = 24 * 3600
_PREFIX = "easyflow:dedupe:"


class DedupeStore(abc.ABC):
    @abc.abstractmethod
    async def claim(self, key: str) -> bool:
        """``True`` the first time ``key`` is seen within the TTL, else ``False``."""

    @abc.abstractmethod
    async def release(self, key: str) -> None:
        """Forgets ``key`` so a retry of a failed delivery is processed."""


class MemoryDedupe(DedupeStore):
    """A bounded in-process map of claimed keys to their expiry time."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S, max_keys: int = 100_000) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def claim(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen and next(iter(self._seen.values())) <= now:
            self._seen.popitem(last=False)
        expiry = self._seen.get(key)
        if expiry is not None and expiry > now:
            return False
        self._seen[key] = now + self.ttl_s
        self._seen.move_to_end(key)
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        return True

    async def release(self, key: str) -> None:
        self._seen.pop(key, None)


class RedisDedupe(DedupeStore):
    def __init__(self, url: str, ttl_s: int = DEFAULT_TTL_S) -> None:
        from redis import asyncio as redis_asyncio

        self.ttl_s = int(ttl_s)
        self._redis = redis_asyncio.from_url(url)

    async def claim(self, key: str) -> bool:
        return bool(await self._redis.set(_PREFIX + key, b"1", nx=True, ex=self.ttl_s))

    async def release(self, key: str) -> None:
        await self._redis.delete(_PREFIX + key)

    async def close(self) -> None:
        await self._redis.close()


def dedupe_from_env(env: dict[str, str] | None = None) -> DedupeStore:
    settings = ChannelSettings.from_env(env)
    url, ttl = settings.redis_url, settings.dedupe_ttl_s
    if url:
        logger.info("dedupe.redis", extra={"ttl_s": ttl})
        return RedisDedupe(url, ttl)
    return MemoryDedupe(ttl)
