"""Photos and files shoppers sent, read from the action server that keeps them
(``actions/attachments/``): ``GET /attachments?sender_id=…`` and
``GET /attachments/<id>`` there, with the action server's token."""

from __future__ import annotations

from typing import Any

from easyflow_api.services.action_server import ActionServerClient, ActionServerError

# What the dashboard may show inline; anything else is never served.
SERVED_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"}
)


class AttachmentNotFound(LookupError):
    """No attachment with that id."""


class AttachmentsClient(ActionServerClient):
    async def of(self, sender_id: str) -> list[dict[str, Any]]:
        response = await self._call("GET", "/attachments", {"sender_id": sender_id})
        if response.status_code != 200:
            raise ActionServerError(
                f"the action server answered {response.status_code}"
            )
        return [_attachment(a) for a in response.json() if isinstance(a, dict)]

    async def content(self, attachment_id: str) -> tuple[str, bytes]:
        response = await self._call("GET", f"/attachments/{attachment_id}")
        if response.status_code == 404:
            raise AttachmentNotFound(attachment_id)
        if response.status_code != 200:
            raise ActionServerError(
                f"the action server answered {response.status_code}"
            )
        mime_type = response.headers.get("content-type", "").split(";")[0].strip()
        if mime_type not in SERVED_TYPES:
            raise ActionServerError(f"unexpected attachment type {mime_type!r}")
        return mime_type, response.content


def _attachment(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(raw.get("attachment_id") or ""),
        "kind": str(raw.get("kind") or ""),
        "channel": str(raw.get("channel") or ""),
        "mime_type": str(raw.get("mime_type") or ""),
        "size": int(raw.get("size") or 0),
        "order_id": raw.get("order_id") or None,
        "return_id": raw.get("return_id") or None,
        "created_at": raw.get("created_at") or None,
    }
