"""connectors.guard: message size and messages per minute per sender and client IP,
in memory and shared through the real Redis on 6379."""

from __future__ import annotations

import uuid

import pytest

from common.settings import SettingsError
from connectors.guard import (
    MemoryRateCounter,
    RedisRateCounter,
    ShopperGuard,
    Verdict,
)
from connectors.settings import ChannelSettings

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_020.0

    def __call__(self) -> float:
        return self.now


def guard(clock: Clock | None = None, **settings: object) -> ShopperGuard:
    values = {"sender_rate": 3, "ip_rate": 5, **settings}
    return ShopperGuard(
        ChannelSettings(**values),  # type: ignore[arg-type]
        MemoryRateCounter(),
        clock=clock or Clock(),
    )


async def test_a_flood_from_one_sender_gets_one_notice_then_silence() -> None:
    clock = Clock()
    g = guard(clock)
    verdicts = [await g.check("telegram:1", "привет", None) for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.THROTTLED] + [Verdict.DROPPED] * 2
    assert await g.check("telegram:2", "привет", None) is Verdict.ALLOW  # others pass
    clock.now += 60  # the next minute
    assert await g.check("telegram:1", "привет", None) is Verdict.ALLOW


async def test_new_sender_ids_from_one_ip_hit_the_ip_limit() -> None:
    g = guard()
    verdicts = [
        await g.check(f"rest:{uuid.uuid4().hex}", "hi", "203.0.113.7") for _ in range(7)
    ]
    assert verdicts[:5] == [Verdict.ALLOW] * 5
    assert verdicts[5:] == [Verdict.THROTTLED, Verdict.DROPPED]
    assert await g.check("rest:other", "hi", "203.0.113.8") is Verdict.ALLOW


async def test_loopback_clients_are_limited_per_sender_only() -> None:
    g = guard()
    for _ in range(10):
        assert await g.check(f"rest:{uuid.uuid4().hex}", "hi", "127.0.0.1") is (
            Verdict.ALLOW
        )


async def test_zero_turns_a_limit_off() -> None:
    g = guard(sender_rate=0, ip_rate=0)
    for _ in range(50):
        assert await g.check("rest:same", "hi", "203.0.113.9") is Verdict.ALLOW


async def test_a_long_message_is_refused_before_it_counts() -> None:
    g = guard(max_message_chars=100)
    assert await g.check("rest:x", "я" * 101, None) is Verdict.TOO_LONG
    assert await g.check("rest:x", "я" * 100, None) is Verdict.ALLOW


def test_forwarded_for_is_ignored_from_an_untrusted_peer() -> None:
    g = guard()
    assert g.client_ip("198.51.100.4", "203.0.113.1") == "198.51.100.4"
    assert g.client_ip("127.0.0.1", "203.0.113.1") == "127.0.0.1"


def test_forwarded_for_from_a_trusted_proxy_names_the_client() -> None:
    settings = ChannelSettings.from_env(
        {"EASYFLOW_TRUSTED_PROXIES": "127.0.0.1/32, 10.0.0.0/8"}
    )
    g = ShopperGuard(settings, MemoryRateCounter())
    # nginx on loopback appended the client; the left part is the client's own
    # (forgeable) claim and is not believed.
    assert g.client_ip("127.0.0.1", "6.6.6.6, 203.0.113.5") == "203.0.113.5"
    assert g.client_ip("127.0.0.1", "203.0.113.5, 10.1.2.3") == "203.0.113.5"
    assert g.client_ip("127.0.0.1", "not-an-ip") == "127.0.0.1"
    assert g.client_ip("198.51.100.4", "203.0.113.5") == "198.51.100.4"


@pytest.mark.parametrize("value", ["10.0.0.0/33", "nginx", "1.2.3.4/8/9"])
def test_a_bad_proxy_list_stops_start_up(value: str) -> None:
    with pytest.raises(SettingsError, match="EASYFLOW_TRUSTED_PROXIES"):
        ChannelSettings.from_env({"EASYFLOW_TRUSTED_PROXIES": value})


async def test_replicas_share_the_counts_through_redis() -> None:
    prefix = f"easyflow:test-rate:{uuid.uuid4().hex}:"
    first, second = (
        RedisRateCounter(REDIS_URL, prefix),
        RedisRateCounter(REDIS_URL, prefix),
    )
    clock = Clock()
    settings = ChannelSettings(sender_rate=4, ip_rate=0)
    replica_a = ShopperGuard(settings, first, clock=clock)
    replica_b = ShopperGuard(settings, second, clock=clock)
    try:
        verdicts = []
        for n in range(6):
            replica = replica_a if n % 2 else replica_b
            verdicts.append(await replica.check("whatsapp:7916", "hi", None))
        assert verdicts == [Verdict.ALLOW] * 4 + [Verdict.THROTTLED, Verdict.DROPPED]
        ttl = await first._redis.ttl(
            f"{prefix}sender:whatsapp:7916:{int(clock.now // 60)}"
        )
        assert 0 < ttl <= 120  # counters expire on their own
    finally:
        await first.close()
        await second.close()


async def test_a_released_message_is_uncounted_a_stale_release_frees_nothing() -> None:
    clock = Clock()
    g = guard(clock, sender_rate=2, ip_rate=3)
    ip = "203.0.113.9"
    assert await g.check("rest:a", "hi", ip) is Verdict.ALLOW
    assert await g.check("rest:a", "hi", ip) is Verdict.ALLOW
    await g.release("rest:a", ip)  # answered 503: the shopper sends it again
    assert await g.check("rest:a", "hi", ip) is Verdict.ALLOW
    assert await g.check("rest:a", "hi", ip) is Verdict.THROTTLED
    # The IP counted a, a (released), a; the sender limit stopped the fourth
    # before the IP counted it: b's first is the IP's third, its second over 3.
    assert await g.check("rest:b", "hi", ip) is Verdict.ALLOW
    assert await g.check("rest:b", "hi", ip) is Verdict.THROTTLED
    clock.now += 60
    await g.release("rest:c", ip)  # nothing counted for c: no credit for later
    await g.release("rest:c", ip)
    verdicts = [await g.check("rest:c", "hi", ip) for _ in range(3)]
    assert verdicts == [Verdict.ALLOW, Verdict.ALLOW, Verdict.THROTTLED]


async def test_a_release_through_redis_reaches_every_replica() -> None:
    prefix = f"easyflow:test-rate:{uuid.uuid4().hex}:"
    first, second = (
        RedisRateCounter(REDIS_URL, prefix),
        RedisRateCounter(REDIS_URL, prefix),
    )
    clock = Clock()
    settings = ChannelSettings(sender_rate=2, ip_rate=0)
    replica_a = ShopperGuard(settings, first, clock=clock)
    replica_b = ShopperGuard(settings, second, clock=clock)
    try:
        assert await replica_a.check("vk:1", "hi", None) is Verdict.ALLOW
        assert await replica_a.check("vk:1", "hi", None) is Verdict.ALLOW
        await replica_b.release("vk:1", None)
        assert await replica_b.check("vk:1", "hi", None) is Verdict.ALLOW
        assert await replica_a.check("vk:1", "hi", None) is Verdict.THROTTLED
        await replica_b.release("vk:2", None)  # never counted: no negative count
        key = f"{prefix}sender:vk:2:{int(clock.now // 60)}"
        assert await first._redis.get(key) is None
    finally:
        await first.close()
        await second.close()


async def test_an_unreachable_redis_counts_in_memory_and_still_limits() -> None:
    # Nothing listens on port 1: every Redis call fails to connect.
    counter = RedisRateCounter("redis://127.0.0.1:1/0", "easyflow:test-rate:")
    g = ShopperGuard(ChannelSettings(sender_rate=2, ip_rate=0), counter, clock=Clock())
    try:
        verdicts = [await g.check("telegram:5", "hi", None) for _ in range(4)]
        assert verdicts == [
            Verdict.ALLOW,
            Verdict.ALLOW,
            Verdict.THROTTLED,
            Verdict.DROPPED,
        ]
        await g.release("telegram:5", None)  # must not raise either
    finally:
        await counter.close()
