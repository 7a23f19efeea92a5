"""Proactive messages that failed for good, read from the action server that
queues them (``actions/proactive/queue.py``: payment notices, order updates),
and "try again": ``GET /notices/failed`` and ``POST /notices/<id>/retry`` there,
with the action server's token as a bearer header."""

from __future__ import annotations

from typing import Any

from easyflow_api.services.action_server import ActionServerClient, ActionServerError

__all__ = ["ActionServerError", "NoticeNotFound", "NoticesClient"]


class NoticeNotFound(LookupError):
    """No failed notice with that id (sent meanwhile, or never failed)."""


class NoticesClient(ActionServerClient):
    async def failed(self) -> list[dict[str, Any]]:
        response = await self._call("GET", "/notices/failed")
        if response.status_code != 200:
            raise ActionServerError(
                f"the action server answered {response.status_code}"
            )
        body = response.json()
        return [_notice(n) for n in body if isinstance(n, dict)]

    async def retry(self, notice_id: int) -> bool:
        """Whether it went out this time; ``NoticeNotFound`` when not failed."""
        response = await self._call("POST", f"/notices/{notice_id}/retry")
        if response.status_code == 404:
            raise NoticeNotFound(str(notice_id))
        if response.status_code != 200:
            raise ActionServerError(
                f"the action server answered {response.status_code}"
            )
        return bool(response.json().get("sent"))


def _notice(raw: dict[str, Any]) -> dict[str, Any]:
    entities = raw.get("entities") if isinstance(raw.get("entities"), dict) else {}
    return {
        "id": int(raw.get("id") or 0),
        "sender_id": str(raw.get("sender_id") or ""),
        "order_id": str(raw.get("order_id") or ""),
        "kind": str(raw.get("intent") or ""),
        "order_state": entities.get("order_state"),
        "attempts": int(raw.get("attempts") or 0),
        "last_error": raw.get("last_error"),
        "created_at": raw.get("created_at") or None,
    }
