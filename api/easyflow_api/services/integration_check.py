"""Checks a saved integration through the action server, which builds the real
client from it and makes one harmless read (``POST /integrations/check`` there,
``actions/integrations_live.py``), with the action server's token. The secrets
travel sealed; the action server opens them with the same keyring."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from easyflow_api.services.integrations import CHECK_STATUSES, Draft

logger = logging.getLogger(__name__)


class ActionServerError(RuntimeError):
    """The action server could not be reached, or refused the api's token."""


@dataclass(frozen=True)
class CheckResult:
    status: str  # ok | error | unreachable (the platform)
    message: str


async def check(
    base_url: str, token: str | None, timeout_s: float, draft: Draft
) -> CheckResult:
    if not token:
        raise ActionServerError("EASYFLOW_ACTION_TOKEN is not set for the api")
    body = {
        "kind": draft.kind,
        "settings": draft.settings,
        "secrets": draft.secrets,
    }
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(
                f"{base_url.rstrip('/')}/integrations/check",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
    except httpx.HTTPError as exc:
        logger.warning(
            "integration.check.action_server_unreachable",
            extra={"kind": draft.kind, "error": type(exc).__name__},
        )
        raise ActionServerError(
            f"the action server is unreachable: {type(exc).__name__}"
        ) from exc
    if response.status_code in (401, 403):
        logger.error("integration.check.refused", extra={"kind": draft.kind})
        raise ActionServerError("the action server refused the api's token")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict):
        raise ActionServerError(f"the action server answered {response.status_code}")
    status = str(answer.get("status"))
    if status not in CHECK_STATUSES:
        raise ActionServerError("the action server answered an unknown status")
    return CheckResult(status, str(answer.get("message") or ""))
