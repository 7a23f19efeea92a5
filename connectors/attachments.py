"""Photos and files a shopper sends, fetched on arrival and kept for the operator.

A messenger's message carries only the platform's handle of an attachment (a
Telegram ``file_id``, a WhatsApp media id), and platforms expire those. So when a
photo or a document arrives, the connector fetches it through the platform's
file API (the channel's ``fetch_media``), and hands the bytes to the action
server's attachment store (``POST /attachments``, actions/attachments/), which
checks type and size again and keeps it in its database. The id it answers is
added to that media item of the message metadata (``attachment_id``), where the
action answering the photo finds it and links it to the return at hand.

Keeping is a bonus: anything that fails (the platform, a file over
``EASYFLOW_ATTACHMENT_MAX_BYTES``, a type the store refuses, the action server)
is logged and the message goes on to Rasa as it was, never lost. A platform's
retry of the same delivery is kept once (the store's key is the delivery's).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from common.http import PlatformClient, PlatformError, RetryPolicy
from connectors.base import Delivery
from connectors.media import MEDIA_KEY
from connectors.settings import ChannelSettings
from connectors.speech import FileClient, TooLarge

logger = logging.getLogger(__name__)
KEPT_KINDS = ("photo", "document")
# First bytes -> MIME type, for photos a platform sends without one (Telegram).
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
    (b"%PDF-", "application/pdf"),
)

# (media item, size limit) -> (content, MIME type) or None when it cannot be had.
Fetch = Callable[[dict[str, Any], int], Awaitable[tuple[bytes, str | None] | None]]


async def download_url(
    platform: str,
    url: Any,
    max_bytes: int,
    platform_origin: str,
    headers: dict[str, str] | None = None,
) -> bytes | None:
    """The file at a URL the platform gave (VK and Viber photo links, WhatsApp's
    media URL): HTTPS only, or on the platform's own configured address (a local
    emulator), so nothing, a token least of all, goes out in clear elsewhere;
    ``None`` (logged) when it cannot be had within ``max_bytes``."""
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if parts.scheme != "https" and origin != platform_origin.rstrip("/"):
        logger.warning(f"{platform}.media.insecure_url")
        return None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    files = FileClient(platform, origin)
    try:
        return await files.download(path, max_bytes, headers=headers)
    except TooLarge:
        logger.info(f"{platform}.media.too_large", extra={"limit": max_bytes})
        return None
    except PlatformError:
        return None  # logged by the client
    finally:
        await files.close()


def sniffed_type(content: bytes) -> str | None:
    for signature, mime_type in _SIGNATURES:
        if content.startswith(signature):
            return mime_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


class AttachmentKeeper:
    """Hands fetched files to the action server's store."""

    def __init__(self, base_url: str, token: str, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._token = token
        # Before Rasa reads the message: one retry, and not for long.
        self._client = PlatformClient(
            "attachments", base_url, timeout_s=10.0, retry=RetryPolicy(max_attempts=2)
        )

    @classmethod
    def from_env(cls) -> AttachmentKeeper | None:
        """``None`` (nothing kept) without the action server's address and token."""
        settings = ChannelSettings.from_env()
        if not settings.actions_url or not settings.action_token:
            return None
        return cls(
            settings.actions_url, settings.action_token, settings.attachment_max_bytes
        )

    async def keep_all(
        self, channel: str, delivery: Delivery, fetch: Fetch
    ) -> Delivery:
        """The delivery with ``attachment_id`` on each photo or document kept."""
        items = delivery.metadata.get(MEDIA_KEY)
        if not isinstance(items, list):
            return delivery
        kept = []
        changed = False
        for index, item in enumerate(items):
            if isinstance(item, dict) and item.get("kind") in KEPT_KINDS:
                try:
                    attachment_id = await self.keep(
                        channel, delivery, index, item, fetch
                    )
                except Exception:  # a bonus: never lose the message over it
                    logger.exception(
                        "attachments.keep_failed", extra={"key": delivery.key}
                    )
                    attachment_id = None
                if attachment_id:
                    item = {**item, "attachment_id": attachment_id}
                    changed = True
            kept.append(item)
        if not changed:
            return delivery
        return replace(delivery, metadata={**delivery.metadata, MEDIA_KEY: kept})

    async def keep(
        self,
        channel: str,
        delivery: Delivery,
        index: int,
        item: dict[str, Any],
        fetch: Fetch,
    ) -> str | None:
        size = item.get("size")
        if isinstance(size, int) and size > self.max_bytes:
            logger.info("attachments.too_large", extra={"size": size})
            return None
        fetched = await fetch(item, self.max_bytes)
        if fetched is None:
            return None
        content, mime_type = fetched
        mime_type = mime_type or item.get("mime_type") or sniffed_type(content)
        try:
            answer = await self._client.post(
                "/attachments",
                data=content,
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Content-Type": str(mime_type or "application/octet-stream"),
                },
                params={
                    "sender_id": delivery.sender_id,
                    "channel": channel,
                    "kind": str(item["kind"]),
                    "key": f"{delivery.key}:{index}",
                },
            )
        except PlatformError as error:
            logger.warning(
                "attachments.not_kept",
                extra={"status": error.status, "reason": error.body[:200]},
            )
            return None
        attachment_id = (
            answer.get("attachment_id") if isinstance(answer, dict) else None
        )
        return attachment_id if isinstance(attachment_id, str) else None

    async def close(self) -> None:
        await self._client.close()
