"""Where one-time codes and their sends are kept (``CodeStore``).

SQLite under ``EASYFLOW_DATA_DIR`` (``verification.sqlite``, beside the attempt
counters: shared by the action-server processes of one host) on the embedded
default; Redis when ``EASYFLOW_REDIS_URL`` is set (shared by replicas). Both hold
salts, digests and hashed keys only, never a code, order number or sender id.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from actions.verification.codes import StoredCode

T = TypeVar("T")


class SqliteCodeStore:
    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS codes (holder TEXT PRIMARY KEY, salt TEXT NOT NULL,"
        " digest TEXT NOT NULL, expires_at REAL NOT NULL);"
        "CREATE TABLE IF NOT EXISTS code_sends (order_key TEXT NOT NULL,"
        " at REAL NOT NULL);"
        "CREATE INDEX IF NOT EXISTS code_sends_key ON code_sends (order_key, at);"
    )

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.executescript(self._SCHEMA)
        return db

    async def live(self, holder: str, now: float) -> StoredCode | None:
        def work() -> StoredCode | None:
            db = self._connect()
            try:
                row = db.execute(
                    "SELECT salt, digest, expires_at FROM codes"
                    " WHERE holder = ? AND expires_at > ?",
                    (holder, now),
                ).fetchone()
            finally:
                db.close()
            return None if row is None else StoredCode(*row)

        return await asyncio.to_thread(work)

    async def reserve_send(
        self, order: str, now: float, window_s: float, limit: int
    ) -> bool:
        def work() -> bool:
            db = self._connect()
            try:
                # One writer at a time: two turns cannot both take the last send.
                db.execute("BEGIN IMMEDIATE")
                db.execute("DELETE FROM code_sends WHERE at < ?", (now - window_s,))
                (count,) = db.execute(
                    "SELECT COUNT(*) FROM code_sends WHERE order_key = ? AND at >= ?",
                    (order, now - window_s),
                ).fetchone()
                if count >= limit:
                    db.execute("COMMIT")
                    return False
                db.execute("INSERT INTO code_sends VALUES (?, ?)", (order, now))
                db.execute("COMMIT")
                return True
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            finally:
                db.close()

        return await asyncio.to_thread(work)

    async def sends(self, order: str, since: float) -> int:
        def work() -> int:
            db = self._connect()
            try:
                (count,) = db.execute(
                    "SELECT COUNT(*) FROM code_sends WHERE order_key = ? AND at >= ?",
                    (order, since),
                ).fetchone()
            finally:
                db.close()
            return int(count)

        return await asyncio.to_thread(work)

    async def save(self, holder: str, code: StoredCode, now: float) -> None:
        def work() -> None:
            db = self._connect()
            try:
                db.execute("DELETE FROM codes WHERE expires_at <= ?", (now,))
                db.execute(
                    "INSERT OR REPLACE INTO codes VALUES (?, ?, ?, ?)",
                    (holder, code.salt, code.digest, code.expires_at),
                )
            finally:
                db.close()

        await asyncio.to_thread(work)

    async def take(self, holder: str, salt: str) -> bool:
        def work() -> bool:
            db = self._connect()
            try:
                deleted = db.execute(
                    "DELETE FROM codes WHERE holder = ? AND salt = ?", (holder, salt)
                )
                return deleted.rowcount == 1
            finally:
                db.close()

        return await asyncio.to_thread(work)


# Counts a send unless the window already holds ``limit`` (atomic in Redis).
_RESERVE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""
# Deletes the holder's code only if it is still the one with this salt.
_TAKE = """
if redis.call('HGET', KEYS[1], 'salt') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisCodeStore:
    """A hash per live code (expiring with it), a sorted set of sends per order."""

    def __init__(self, url: str, prefix: str = "easyflow:code:") -> None:
        from redis import asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url)
        self.prefix = prefix

    @staticmethod
    async def _call(awaitable: Awaitable[T]) -> T:
        from redis.exceptions import RedisError

        try:
            return await awaitable
        except RedisError as error:
            raise ConnectionError(repr(error)) from error

    async def live(self, holder: str, now: float) -> StoredCode | None:
        raw = await self._call(self._redis.hgetall(f"{self.prefix}{holder}"))
        if not raw:
            return None
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        code = StoredCode(fields["salt"], fields["digest"], float(fields["expires"]))
        return code if code.expires_at > now else None

    async def reserve_send(
        self, order: str, now: float, window_s: float, limit: int
    ) -> bool:
        reserved = await self._call(
            self._redis.eval(
                _RESERVE,
                1,
                f"{self.prefix}sends:{order}",
                now - window_s,
                now,
                limit,
                f"{now}:{secrets.token_hex(6)}",
                int(window_s) + 60,
            )
        )
        return bool(reserved)

    async def sends(self, order: str, since: float) -> int:
        count = await self._call(
            self._redis.zcount(f"{self.prefix}sends:{order}", since, "+inf")
        )
        return int(count)

    async def save(self, holder: str, code: StoredCode, now: float) -> None:
        name = f"{self.prefix}{holder}"
        ttl_ms = max(1, int((code.expires_at - now) * 1000))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(name)
            pipe.hset(
                name,
                mapping={
                    "salt": code.salt,
                    "digest": code.digest,
                    "expires": repr(code.expires_at),
                },
            )
            pipe.pexpire(name, ttl_ms)
            await self._call(pipe.execute())

    async def take(self, holder: str, salt: str) -> bool:
        taken = await self._call(
            self._redis.eval(_TAKE, 1, f"{self.prefix}{holder}", salt)
        )
        return bool(taken)

    async def close(self) -> None:
        await self._redis.close()
