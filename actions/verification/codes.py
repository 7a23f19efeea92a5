"""One-time codes: a shopper proves an order is theirs by the mailbox on it.

A code is six random digits (``secrets``) sent to the e-mail on the order. It is
valid for ``EASYFLOW_CODE_TTL_S`` (10 minutes), in the conversation that asked for
it only, and once: a right answer deletes it. The store never holds a code, only
HMAC-SHA256 of it under a random per-code salt, compared in constant time; order
numbers and sender ids are kept hashed too.

Sends are limited per order and hour over every conversation together
(``EASYFLOW_CODE_SENDS_PER_HOUR``), so asking about someone's order from many
sender ids cannot flood their mailbox. While a code is live, asking again says
where it went instead of sending another. Wrong codes are counted by the
``AttemptLimiter`` of ``actions/privacy.py``, the same lock wrong digits meet.

Nothing here logs a code or an e-mail in clear (``mask_email``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from actions.integrations.base import Order
from actions.verification.mask import is_email, mask_email
from actions.verification.senders import CodeMessage, CodeNotSent, CodeSender
from common.security import secrets_equal

logger = logging.getLogger(__name__)

DIGITS = 6
TTL_S = 600
SENDS_PER_HOUR = 3
SEND_WINDOW_S = 3600.0
# What a store may raise when it cannot answer: the caller fails closed.
STORE_ERRORS = (sqlite3.Error, OSError, ConnectionError)


class CodesUnavailable(RuntimeError):
    """The code store cannot answer: no code is sent or accepted."""


@dataclass(frozen=True)
class StoredCode:
    """A code as kept: its salt (also its identity), digest and expiry."""

    salt: str
    digest: str
    expires_at: float


class CodeStore(Protocol):
    async def live(self, holder: str, now: float) -> StoredCode | None:
        """The holder's unexpired code, if any."""

    async def reserve_send(
        self, order: str, now: float, window_s: float, limit: int
    ) -> bool:
        """Counts a send to ``order`` unless ``limit`` were counted in the window."""

    async def sends(self, order: str, since: float) -> int:
        """Sends to ``order`` counted since ``since``."""

    async def save(self, holder: str, code: StoredCode, now: float) -> None:
        """Keeps ``code`` as the holder's only code."""

    async def take(self, holder: str, salt: str) -> bool:
        """Deletes the holder's code if it is still the one with ``salt``; whether
        this call deleted it (so a code is accepted once, even by racing turns)."""


class Asked(str, Enum):
    SENT = "sent"  # a new code went to the e-mail
    WAITING = "waiting"  # a live code was sent before: it still works
    LIMIT = "limit"  # the order's sends for this hour are spent
    FAILED = "failed"  # the sender or the store failed: nothing was sent


class Checked(str, Enum):
    RIGHT = "right"
    WRONG = "wrong"  # counts as a failed attempt
    NO_CODE = "no_code"  # expired, used or never sent: nothing to compare


@dataclass(frozen=True)
class Ask:
    outcome: Asked
    masked_email: str


def digest(salt: str, code: str) -> str:
    return hmac.new(bytes.fromhex(salt), code.encode(), hashlib.sha256).hexdigest()


def _hashed(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def has_email_factor(order: Order) -> bool:
    return is_email(order.customer_email)


class OneTimeCodes:
    """Issues and checks the codes of every conversation on this store."""

    def __init__(
        self,
        store: CodeStore,
        sender: CodeSender,
        ttl_s: int = TTL_S,
        sends_per_hour: int = SENDS_PER_HOUR,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.sender = sender
        self.ttl_s = ttl_s
        self.sends_per_hour = sends_per_hour
        self.clock = clock

    @staticmethod
    def _order_key(order: Order) -> str:
        return _hashed("order", f"{order.channel}:{order.order_id}")

    @staticmethod
    def _holder(order: Order, sender_id: str | None) -> str:
        # One code per order and conversation: a code asked for in one
        # conversation proves nothing in another.
        return _hashed("holder", f"{order.channel}:{order.order_id}\0{sender_id}")

    async def can_ask(self, order: Order, sender_id: str | None) -> bool:
        """Whether asking for a code makes sense: a live one, or one may be sent.

        Raises ``CodesUnavailable`` when the store cannot tell (fail closed).
        """
        now = self.clock()
        try:
            if await self.store.live(self._holder(order, sender_id), now):
                return True
            sent = await self.store.sends(self._order_key(order), now - SEND_WINDOW_S)
        except STORE_ERRORS as error:
            logger.error("privacy.codes.unavailable", extra={"error": repr(error)})
            raise CodesUnavailable(repr(error)) from error
        return sent < self.sends_per_hour

    async def ask(self, order: Order, sender_id: str | None, language: str) -> Ask:
        """Sends a code to the order's e-mail unless a live one was sent already."""
        email = order.customer_email or ""
        masked = mask_email(email)
        holder = self._holder(order, sender_id)
        now = self.clock()
        try:
            if await self.store.live(holder, now):
                return Ask(Asked.WAITING, masked)
            if not await self.store.reserve_send(
                self._order_key(order), now, SEND_WINDOW_S, self.sends_per_hour
            ):
                logger.warning(
                    "privacy.code_send_limit", extra={"order_id": order.order_id}
                )
                return Ask(Asked.LIMIT, masked)
        except STORE_ERRORS as error:
            logger.error("privacy.codes.unavailable", extra={"error": repr(error)})
            return Ask(Asked.FAILED, masked)
        code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
        salt = secrets.token_hex(16)
        message = CodeMessage(
            to=email,
            code=code,
            order_id=order.order_id,
            language=language,
            ttl_minutes=max(1, self.ttl_s // 60),
        )
        try:
            await self.sender.send(message)
            await self.store.save(
                holder, StoredCode(salt, digest(salt, code), now + self.ttl_s), now
            )
        except CodeNotSent as error:
            logger.error(
                "privacy.code_not_sent",
                extra={"order_id": order.order_id, "to": masked, "error": str(error)},
            )
            return Ask(Asked.FAILED, masked)
        except STORE_ERRORS as error:
            logger.error("privacy.codes.unavailable", extra={"error": repr(error)})
            return Ask(Asked.FAILED, masked)
        return Ask(Asked.SENT, masked)

    async def check(
        self, order: Order, sender_id: str | None, answer: str | None
    ) -> Checked:
        """Whether ``answer`` is this conversation's live code; a right one is used."""
        holder = self._holder(order, sender_id)
        given = re.sub(r"\D", "", answer or "")
        try:
            stored = await self.store.live(holder, self.clock())
            if stored is None:
                return Checked.NO_CODE
            if not secrets_equal(stored.digest, digest(stored.salt, given)):
                return Checked.WRONG
            if not await self.store.take(holder, stored.salt):
                return Checked.NO_CODE  # another turn used it a moment ago
        except STORE_ERRORS as error:
            logger.error("privacy.codes.unavailable", extra={"error": repr(error)})
            return Checked.NO_CODE
        return Checked.RIGHT
