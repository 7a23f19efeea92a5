"""The HTTP layer every platform client shares: base URL, timeouts, bounded retries.

A platform's 429 (honouring its ``Retry-After`` or Telegram's ``retry_after``) and
5xx answers are retried with exponential backoff up to ``max_attempts``; other
errors are permanent. Platforms that report errors inside a 200 answer (VK's
``{"error": …}``, Viber's ``{"status": N}``) pass a ``body_error`` check that says
which of those are retryable. Failures are logged with the platform's error body
and raised as ``PlatformError`` — never as an exception the Rasa server would crash
on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)


class PlatformError(RuntimeError):
    def __init__(self, platform: str, status: int | None, body: str) -> None:
        super().__init__(f"{platform} answered {status}: {body[:500]}")
        self.platform = platform
        self.status = status
        self.body = body


@dataclass
class RetryPolicy:
    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay_s)
        return min(self.base_delay_s * (2 ** (attempt - 1)), self.max_delay_s)


@dataclass(frozen=True)
class BodyError:
    """An error a platform reports in a 2xx answer; ``retryable`` like a 429/5xx."""

    retryable: bool
    retry_after: float | None = None


BodyCheck = Callable[[Any], BodyError | None]


class PlatformClient:
    """POSTs JSON (or form data) to ``base_url + path`` and returns parsed JSON."""

    def __init__(
        self,
        platform: str,
        base_url: str,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        body_error: BodyCheck | None = None,
    ) -> None:
        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.retry = retry or RetryPolicy()
        self._session = session
        self.body_error = body_error

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running loop, never at import time.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def post(
        self,
        path: str,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        return await self.request(
            "POST", path, json=json, data=data, headers=headers, params=params
        )

    async def get(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        return await self.request("GET", path, headers=headers, params=params)

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Any method; a 404 raises ``PlatformError`` with status 404 (not retried)."""
        url = f"{self.base_url}{path}"
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                async with self._client().request(
                    method, url, json=json, data=data, headers=headers, params=params
                ) as response:
                    body = await response.text()
                    if response.status < 400:
                        parsed = await _parse(response, body)
                        error = self.body_error(parsed) if self.body_error else None
                        if error is None:
                            return parsed
                        retry_after, retryable = error.retry_after, error.retryable
                    else:
                        retry_after = _retry_after(response, body)
                        retryable = response.status == 429 or response.status >= 500
                    if not retryable or attempt == self.retry.max_attempts:
                        # A 404 is an answer ("no such order"), not a failure.
                        log = logger.info if response.status == 404 else logger.error
                        log(
                            "%s.send.failed",
                            self.platform,
                            extra={"status": response.status, "body": body[:500]},
                        )
                        raise PlatformError(self.platform, response.status, body)
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
                if attempt == self.retry.max_attempts:
                    logger.error(
                        "%s.send.unreachable",
                        self.platform,
                        extra={"error": repr(error)},
                    )
                    raise PlatformError(self.platform, None, repr(error)) from error
                retry_after = None
            delay = self.retry.delay(attempt, retry_after)
            logger.warning(
                "%s.send.retry",
                self.platform,
                extra={"attempt": attempt, "delay_s": delay},
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


async def _parse(response: aiohttp.ClientResponse, body: str) -> Any:
    if not body:
        return None
    if "json" in (response.content_type or ""):
        import json

        return json.loads(body)
    return body


def _retry_after(response: aiohttp.ClientResponse, body: str) -> float | None:
    # Retry-After (RFC 9110); Wildberries sends X-Ratelimit-Retry (seconds).
    header = response.headers.get("Retry-After") or response.headers.get(
        "X-Ratelimit-Retry"
    )
    if header:
        try:
            return float(header)
        except ValueError:
            return None
    if "retry_after" in body:  # Telegram: {"parameters": {"retry_after": 3}}
        import json

        try:
            return float(json.loads(body)["parameters"]["retry_after"])
        except (ValueError, KeyError, TypeError):
            return None
    return None


# Characters a URL path carries as they are. Rasa's server (Sanic 21.12) does not
# percent-decode path parameters, so ``telegram%3A123`` would name another, empty
# conversation than ``telegram:123``: a conversation id is sent with these kept.
_PATH_SAFE = "/:@!$&'()*+,;=~"


def rasa_conversation_path(sender_id: str, tail: str) -> str:
    """``/conversations/<sender_id>/<tail>`` as Rasa's HTTP API matches it."""
    return f"/conversations/{quote(sender_id, safe=_PATH_SAFE)}/{tail}"
