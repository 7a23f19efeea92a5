"""Shopper limits every channel applies before a message reaches Rasa: a maximum
message size, and messages per minute per sender and per client IP.

``check`` answers with a ``Verdict``: ``ALLOW``; ``TOO_LONG`` (the shopper is asked
to shorten it); ``THROTTLED`` for the first message over a limit in a minute (the
shopper gets one polite notice) and ``DROPPED`` for the rest of that minute
(nothing is sent, the platform still gets its 200 so it does not retry). Counters
are fixed one-minute windows, in memory for one process or in Redis
(``INCR`` + ``EXPIRE``) shared by replicas when ``EASYFLOW_REDIS_URL`` is set.

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


class RedisRateCounter(RateCounter):
    def __init__(self, url: str, prefix: str = _PREFIX) -> None:
        from redis import asyncio as redis_asyncio

        self.prefix = prefix
        self._redis = redis_asyncio.from_url(url)

    async def hit(self, key: str, window: int) -> int:
        name = f"{self.prefix}{key}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, 2 * WINDOW_S)
            count, _ = await pipe.execute()
        return int(count)

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
        window = int(self._clock() // WINDOW_S)  # type: ignore[operator]
        limits = [(f"sender:{sender_id}", self.settings.sender_rate)]
        address = _address(ip) if ip else None
        if address is not None and not address.is_loopback:
            limits.append((f"ip:{address}", self.settings.ip_rate))
        for key, limit in limits:
            if not limit:
                continue
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
