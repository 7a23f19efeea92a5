"""Calls from the api to the action server's non-public routes (failed notices,
attachments), with the action server's token as a bearer header."""

from __future__ import annotations

import logging
from typing import Any

import httpx

logger = logging.getLogger(__name__)


class ActionServerError(RuntimeError):
    """The action server could not be reached, or refused (its token)."""


class ActionServerClient:
    def __init__(self, base_url: str, token: str | None, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self.timeout_s = timeout_s

    async def _call(
        self, method: str, path: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        if not self.token:
            raise ActionServerError("EASYFLOW_ACTION_TOKEN is not set for the api")
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.request(
                    method, f"{self.base_url}{path}", headers=headers, params=params
                )
        except httpx.HTTPError as exc:
            logger.warning(
                "action_server.unreachable",
                extra={"path": path, "error": type(exc).__name__},
            )
            raise ActionServerError(
                f"the action server is unreachable: {type(exc).__name__}"
            ) from exc
        if response.status_code in (401, 403):
            logger.error(
                "action_server.refused", extra={"status": response.status_code}
            )
            raise ActionServerError("the action server refused the api's token")
        return response
