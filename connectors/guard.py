"""Shopper limits every channel applies before a message reaches Rasa: a maximum
message size, and messages per minute per sender and per client IP.

``check`` answers with a ``Verdict``: ``ALLOW``; ``TOO_LONG`` (the shopper is asked
to shorten it); ``THROTTLED`` for the first message over a limit in a minute (the
shopper gets one polite notice) and ``DROPPED`` for the rest of that minute
(nothing is sent, the platform still gets its 200 so it does not retry). Counters
are fixed one-minute windows, in memory for one process or in Redis
(``INCR`` + ``EXPIRE``) shared by replicas when ``EASYFLOW_REDIS_URL`` is set;
while Redis is unreachable each process counts in memory (the turn itself then
fails on the lock store and the caller is told to retry). A message that was not
processed (REST 503, a platform asked to retry) is ``release``d: a shopper's
retries of a failed message do not use up their limit.

Client IPs: the peer address, or, when the peer is a trusted proxy
(``EASYFLOW_TRUSTED_PROXIES``), the right-most ``X-Forwarded-For`` address that is
not itself a trusted proxy. A forged header from an untrusted peer is ignored.
Loopback clients are not IP-limited (local processes, a local proxy without
configuration); their senders still are.
"""

from __future__ import annotations

import abc
import enum
import ipaddress
import logging
import time
from collections import OrderedDict

from redis.exceptions import RedisError

from connectors.settings import ChannelSettings

logger = logging.getLogger(__name__)

WINDOW_S = 60
_PREFIX = "easyflow:rate:"


class Verdict(enum.Enum):
    ALLOW = "allow"
    TOO_LONG = "too_long"
    THROTTLED = "throttled"  # the first message over the limit: one notice
    DROPPED = "dropped"  # later ones in the same minute: silence


class RateCounter(abc.ABC):
    @abc.abstractmethod
    async def hit(self, key: str, window: int) -> int:
        """Counts one message for ``key`` in ``window``; the count so far."""

    @abc.abstractmethod
    async def release(self, key: str, window: int) -> None:
        """Uncounts one message for ``key`` in ``window`` (no-op once it is gone)."""


class MemoryRateCounter(RateCounter):
    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._counts: OrderedDict[tuple[str, int], int] = OrderedDict()

    async def hit(self, key: str, window: int) -> int:
        while self._counts and next(iter(self._counts))[1] < window:
            self._counts.popitem(last=False)  # windows only grow: oldest first
        count = self._counts.get((key, window), 0) + 1
        self._counts[(key, window)] = count
        while len(self._counts) > self.max_keys:
            self._counts.popitem(last=False)
        return count

    async def release(self, key: str, window: int) -> None:
        count = self._counts.get((key, window), 0)
        if count > 0:
            self._counts[(key, window)] = count - 1


# DECR only an existing window: a released message of a window that has expired
# must not leave a negative count behind.
_RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0
then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisRateCounter(RateCounter):
    def __init__(self, url: str, prefix: str = _PREFIX) -> None:
        from redis import asyncio as redis_asyncio

        self.prefix = prefix
        self._redis = redis_asyncio.from_url(url)
        self.fallback = MemoryRateCounter()

    async def hit(self, key: str, window: int) -> int:
        name = f"{self.prefix}{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, 2 * WINDOW_S)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            self._unavailable(error)
            return await self.fallback.hit(key, window)
        return int(count)

    async def release(self, key: str, window: int) -> None:
        await self.fallback.release(key, window)
        try:
            await self._redis.eval(_RELEASE, 1, f"{self.prefix}{key}:{window}")
        except (RedisError, OSError) as error:
            self._unavailable(error)

    def _unavailable(self, error: Exception) -> None:
        logger.warning(
            "shopper.limiter_unavailable",
            extra={"error": repr(error), "counting": "in memory"},
        )

    async def close(self) -> None:
        await self._redis.close()


class ShopperGuard:
    def __init__(
        self,
        settings: ChannelSettings,
        counter: RateCounter | None = None,
        clock: object = time.time,
    ) -> None:
        self.settings = settings
        if counter is None:
            counter = (
                RedisRateCounter(settings.redis_url)
                if settings.redis_url
                else MemoryRateCounter()
            )
        self.counter = counter
        self._clock = clock

    @classmethod
    def from_env(cls) -> ShopperGuard:
        return cls(ChannelSettings.from_env())

    def client_ip(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The client's address: ``X-Forwarded-For`` only from a trusted proxy."""
        if not peer or not self._trusted(peer) or not forwarded_for:
            return peer or None
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop if _address(hop) is not None else peer
        return hops[0] if hops else peer

    async def check(self, sender_id: str, text: str, ip: str | None) -> Verdict:
        if len(text or "") > self.settings.max_message_chars:
            logger.info(
                "shopper.message_too_long",
                extra={"sender_id": sender_id, "chars": len(text)},
            )
            return Verdict.TOO_LONG
        window = self._window()
        for key, limit in self._limits(sender_id, ip):
            count = await self.counter.hit(key, window)
            if count > limit:
                if count == limit + 1:
                    logger.warning(
                        "shopper.throttled",
                        extra={"sender_id": sender_id, "key": key, "limit": limit},
                    )
                    return Verdict.THROTTLED
                return Verdict.DROPPED
        return Verdict.ALLOW

    async def release(self, sender_id: str, ip: str | None) -> None:
        """Uncounts an allowed message that was not processed (the caller retries)."""
        window = self._window()
        for key, _ in self._limits(sender_id, ip):
            await self.counter.release(key, window)

    def _window(self) -> int:
        return int(self._clock() // WINDOW_S)  # type: ignore[operator]

    def _limits(self, sender_id: str, ip: str | None) -> list[tuple[str, int]]:
        """(counter key, messages per minute) of each limit that is on."""
        limits = [(f"sender:{sender_id}", self.settings.sender_rate)]
        address = _address(ip) if ip else None
        if address is not None and not address.is_loopback:
            limits.append((f"ip:{address}", self.settings.ip_rate))
        return [(key, limit) for key, limit in limits if limit]

    def _trusted(self, ip: str) -> bool:
        address = _address(ip)
        return address is not None and any(
            address in network for network in self.settings.trusted_proxies
        )


def _address(
    text: str,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
