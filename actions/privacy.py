"""Order details only for their owner: verify the shopper, and fail closed.

Shop order numbers are sequential, so knowing one proves nothing. Policies
(``EASYFLOW_ORDER_PRIVACY``):

- ``phone_last4`` (the default, embedded and production): the shopper confirms the
  last four digits of the phone on the order, unless the channel already proved
  that phone (a sender id made by the WhatsApp connector *is* the phone the
  platform verified); an order with no phone but an e-mail is confirmed by a
  one-time code sent there. A verified order stays verified for the conversation.
- ``none``: anyone who knows the order number sees its details and may change the
  order. UNSAFE, an explicit opt-out for a local demo only.

What the order number alone gets (``Access`` other than ``GRANTED``): the coarse
state only — «в пути», «доставлен», «ожидает оплаты», «собирается», «ждёт в пункте
выдачи», «отменён». That is what a parcel-tracking page shows anyone and it names
nobody. Never without verification: the address or pickup point, carrier, tracking
number or tracking link, items, amounts, dates (order, delivery, expected
delivery), returns and refunds, and every change (cancel, change of address,
return). The payment link needs verification too: paying someone else's order is
harmless, but the link and its page show the amount.

Factors per order source (``Order.customer_phone`` and ``Order.customer_email`` as
each source maps them):

=============  ==============================  ==============================
Source         Phone / e-mail on the order     Factor
=============  ==============================  ==============================
demo           phone (every seeded order)      phone last 4 / WhatsApp
bitrix24       ``PHONE`` / ``EMAIL``           phone last 4 / WhatsApp; else
               properties, when the buyer      an e-mail code; none without
               gave them                       either
shopify        e-mail (the order's ``email``;  e-mail code; none without an
               no phone is read)               e-mail
wildberries    neither (the API hides them)    none
ozon           neither (the API hides them)    none
=============  ==============================  ==============================

The e-mail code (``actions/verification/``): where the order has no usable phone
but has an e-mail, the bot sends a six-digit one-time code there and asks for it
(``Access.ASK_CODE``; the ``one_time_code`` slot of the order form). A code is
random, kept only hashed, valid for ``EASYFLOW_CODE_TTL_S`` in the conversation that
asked, and once; at most ``EASYFLOW_CODE_SENDS_PER_HOUR`` codes go to one order in
an hour (then ``Access.CODE_LIMIT``). The shopper is told where it went as
``t***@e***.ru`` only. ``EASYFLOW_CODE_SENDER`` picks the sender: ``file`` (the
embedded default: ``<data dir>/codes.log``), ``smtp`` (production) or ``none`` (no
code factor: such orders have none, as before).

An order without any factor is NOT verified, ever (``Access.NO_FACTOR``): its status
is the coarse one and a change or detail request becomes a request to a human
operator (``actions/orders/unverified.py``), who checks the buyer in the shop's
own system.

Attempt limits (``AttemptLimiter``): wrong digits and wrong codes are counted per
order across all conversations and per sender across orders, in a sliding window.
An order with ``ORDER_LIMIT`` wrong answers in ``WINDOW_S`` is locked for everyone
(a new sender id does not help), a sender with ``SENDER_LIMIT`` is locked for every
order; while locked the answers are not even compared and no code is sent. The
counters live in SQLite under ``EASYFLOW_DATA_DIR`` (``verification.sqlite``, shared
by action-server processes on one host: the embedded default), or in Redis when
``EASYFLOW_REDIS_URL`` is set (production: shared by replicas). If the store fails
the check fails closed (locked). The action server sees no client IP, so per-IP
limits belong to the channels' rate limits.

Digits and codes are compared in constant time; the phone and the e-mail are never
shown or logged in clear.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rasa_sdk import Tracker

from actions.integrations.base import Order
from actions.settings import Settings
from actions.verification.codes import CodesUnavailable, has_email_factor
from common.security import secrets_equal

if TYPE_CHECKING:
    from actions.verification.codes import OneTimeCodes

logger = logging.getLogger(__name__)

VERIFIED_SLOT = "verified_orders"
# A phone the shopper proved on Telegram (the request_contact button).
LINKED_PHONE_SLOT = "linked_phone"
# The WhatsApp connector's sender ids are "whatsapp:<phone the platform verified>"
# and its messages arrive on this input channel (connectors/whatsapp.py).
WHATSAPP_CHANNEL = "whatsapp"
ORDER_LIMIT = 5
SENDER_LIMIT = 10
WINDOW_S = 3600.0


class PrivacyPolicy(str, Enum):
    NONE = "none"
    PHONE_LAST4 = "phone_last4"


class Access(str, Enum):
    GRANTED = "granted"  # verified (or the unsafe ``none`` policy)
    ASK = "ask"  # a phone: ask for the last four digits
    ASK_CODE = "ask_code"  # no phone but an e-mail: send a code and ask for it
    CODE_LIMIT = "code_limit"  # no code live and this hour's sends are spent
    LOCKED = "locked"  # too many wrong answers for this order or this sender
    NO_FACTOR = "no_factor"  # the source gives no factor: a human decides


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def has_phone(order: Order) -> bool:
    return len(_digits(order.customer_phone)) >= 4


def has_factor(order: Order) -> bool:
    """Whether the shopper can prove this order is theirs to the bot at all."""
    return has_phone(order) or has_email_factor(order)


def channel_phone(tracker: Tracker) -> str | None:
    """The phone this conversation proved: the WhatsApp sender's, or the
    Telegram contact the shopper shared as their own (``actions/identity.py``).

    For WhatsApp both the sender id and the input channel must be WhatsApp's: a
    sender id alone is a string other channels could be made to carry. The
    linked phone is a slot only that action sets (no NLU mapping fills it).
    """
    linked = tracker.get_slot(LINKED_PHONE_SLOT)
    if isinstance(linked, str) and len(_digits(linked)) >= 10:
        return _digits(linked)
    sender = tracker.sender_id or ""
    if not sender.startswith(f"{WHATSAPP_CHANNEL}:"):
        return None
    if tracker.get_latest_input_channel() != WHATSAPP_CHANNEL:
        return None
    return _digits(sender.split(":", 1)[1]) or None


def is_verified(policy: PrivacyPolicy, order: Order, tracker: Tracker) -> bool:
    """Whether this conversation may see the order's details and change it."""
    if policy is PrivacyPolicy.NONE:
        return True
    # Proved in this conversation: by digits, a code, or listed for the phone
    # the channel proved (a Bitrix24 deal or a Shopify order found through the
    # buyer's CRM contact or customer may carry no phone of its own).
    if order.order_id in (tracker.get_slot(VERIFIED_SLOT) or []):
        return True
    if not has_factor(order):
        return False  # fails closed: nothing to check against
    known = channel_phone(tracker)
    # Compare the last ten digits: +7 916… and 8 916… are the same phone.
    return bool(known) and secrets_equal(
        _digits(order.customer_phone)[-10:], (known or "")[-10:]
    )


async def access(
    policy: PrivacyPolicy,
    order: Order,
    tracker: Tracker,
    limiter: AttemptLimiter,
    codes: OneTimeCodes | None = None,
) -> Access:
    """How much this conversation may see; ``codes`` None: no e-mail factor."""
    if is_verified(policy, order, tracker):
        return Access.GRANTED
    phone = has_phone(order)
    if not phone and (codes is None or not has_email_factor(order)):
        return Access.NO_FACTOR
    if await limiter.locked(order, tracker.sender_id):
        return Access.LOCKED
    if phone or codes is None:
        return Access.ASK
    try:
        can_ask = await codes.can_ask(order, tracker.sender_id)
    except CodesUnavailable:
        return Access.LOCKED  # fails closed, as the limiter does
    return Access.ASK_CODE if can_ask else Access.CODE_LIMIT


def last4_matches(order: Order, answer: str | None) -> bool:
    given = _digits(answer)
    expected = _digits(order.customer_phone)[-4:]
    return len(expected) == 4 and len(given) == 4 and secrets_equal(expected, given)


def verified(tracker: Tracker, order_id: str) -> list[str]:
    """The verified-orders slot value with ``order_id`` added."""
    current = list(tracker.get_slot(VERIFIED_SLOT) or [])
    return current if order_id in current else [*current, order_id]


class FailureStore(Protocol):
    async def add(self, keys: list[str], now: float) -> None: ...

    async def count(self, key: str, since: float) -> int: ...


def _key(kind: str, value: str) -> str:
    # Hashed: the store holds no order numbers or sender ids in clear.
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


class AttemptLimiter:
    """Wrong answers (digits or codes) per order (everyone) and per sender (every
    order)."""

    def __init__(
        self,
        store: FailureStore,
        order_limit: int = ORDER_LIMIT,
        sender_limit: int = SENDER_LIMIT,
        window_s: float = WINDOW_S,
    ) -> None:
        self.store = store
        self.order_limit = order_limit
        self.sender_limit = sender_limit
        self.window_s = window_s

    @staticmethod
    def _order_key(order: Order) -> str:
        return _key("order", f"{order.channel}:{order.order_id}")

    async def locked(self, order: Order, sender_id: str | None) -> bool:
        since = time.time() - self.window_s
        try:
            by_order = await self.store.count(self._order_key(order), since)
            by_sender = await self.store.count(_key("sender", sender_id or ""), since)
        except (sqlite3.Error, OSError, ConnectionError) as error:
            logger.error("privacy.limiter.unavailable", extra={"error": repr(error)})
            return True  # fails closed
        return by_order >= self.order_limit or by_sender >= self.sender_limit

    async def failed(self, order: Order, sender_id: str | None) -> None:
        keys = [self._order_key(order), _key("sender", sender_id or "")]
        try:
            await self.store.add(keys, time.time())
        except (sqlite3.Error, OSError, ConnectionError) as error:
            logger.error("privacy.limiter.unavailable", extra={"error": repr(error)})
        logger.warning(
            "privacy.verification_failed",
            extra={"order_id": order.order_id, "sender_id": sender_id},
        )


class SqliteFailureStore:
    """One SQLite file: shared by the action-server processes of one host.

    Each thread keeps its own connection, opened (and the table made) on its
    first call: opening one per call, with its folder check and schema script,
    was 7% of the action server's CPU under the serving bench."""

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, at REAL NOT NULL);"
        "CREATE INDEX IF NOT EXISTS failures_key ON failures (key, at);"
    )

    def __init__(self, path: Path, window_s: float = WINDOW_S) -> None:
        self.path = Path(path)
        self.window_s = window_s
        self._local = threading.local()

    def _connect(self) -> sqlite3.Connection:
        # A forked worker must not share its parent's connection.
        kept = getattr(self._local, "db", None)
        if kept is not None and kept[0] == os.getpid():
            return kept[1]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.executescript(self._SCHEMA)
        self._local.db = (os.getpid(), db)
        return db

    async def add(self, keys: list[str], now: float) -> None:
        def work() -> None:
            db = self._connect()
            db.execute("DELETE FROM failures WHERE at < ?", (now - self.window_s,))
            db.executemany(
                "INSERT INTO failures VALUES (?, ?)", [(k, now) for k in keys]
            )

        await asyncio.to_thread(work)

    async def count(self, key: str, since: float) -> int:
        def work() -> int:
            row = (
                self._connect()
                .execute(
                    "SELECT COUNT(*) FROM failures WHERE key = ? AND at >= ?",
                    (key, since),
                )
                .fetchone()
            )
            return int(row[0])

        return await asyncio.to_thread(work)


class RedisFailureStore:
    """A sorted set of failure times per key: shared by every replica."""

    def __init__(self, url: str, window_s: float = WINDOW_S) -> None:
        from redis import asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url)
        self.window_s = window_s

    async def add(self, keys: list[str], now: float) -> None:
        from redis.exceptions import RedisError

        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    name = f"easyflow:verify:{key}"
                    pipe.zadd(name, {f"{now}:{secrets.token_hex(6)}": now})
                    pipe.zremrangebyscore(name, 0, now - self.window_s)
                    pipe.expire(name, int(self.window_s) + 60)
                await pipe.execute()
        except RedisError as error:
            raise ConnectionError(repr(error)) from error

    async def count(self, key: str, since: float) -> int:
        from redis.exceptions import RedisError

        try:
            return int(
                await self._redis.zcount(f"easyflow:verify:{key}", since, "+inf")
            )
        except RedisError as error:
            raise ConnectionError(repr(error)) from error


_limiters: dict[tuple[str, str], AttemptLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(settings: Settings) -> AttemptLimiter:
    """The process's limiter for these settings: Redis when configured."""
    key = (str(settings.data_dir), settings.redis_url)
    with _limiters_lock:
        if key not in _limiters:
            store: FailureStore = (
                RedisFailureStore(settings.redis_url)
                if settings.redis_url
                else SqliteFailureStore(settings.data_dir / "verification.sqlite")
            )
            _limiters[key] = AttemptLimiter(store)
        return _limiters[key]
