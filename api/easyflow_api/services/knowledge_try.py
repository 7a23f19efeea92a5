""" "Try a question": the action server's ``POST /knowledge/try`` (its token as
a bearer header), which runs the shoppers' fallback path on the knowledge base
it has loaded and answers what a shopper would read, the answerer and the
passages it cited."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from easyflow_api.services.notices import ActionServerError

logger = logging.getLogger(__name__)


async def ask(
    base_url: str, token: str | None, timeout_s: float, question: str, language: str
) -> dict[str, Any]:
    if not token:
        raise ActionServerError("EASYFLOW_ACTION_TOKEN is not set for the api")
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            response = await client.post(
                f"{base_url.rstrip('/')}/knowledge/try",
                json={"question": question, "language": language},
                headers={"Authorization": f"Bearer {token}"},
            )
    except httpx.HTTPError as exc:
        logger.warning("knowledge.try.unreachable", extra={"error": type(exc).__name__})
        raise ActionServerError(
            f"the action server is unreachable: {type(exc).__name__}"
        ) from exc
    if response.status_code in (401, 403):
        logger.error("knowledge.try.refused", extra={"status": response.status_code})
        raise ActionServerError("the action server refused the api's token")
    if response.status_code != 200:
        raise ActionServerError(f"the action server answered {response.status_code}")
    body = response.json()
    passages = body.get("passages") if isinstance(body, dict) else None
    return {
        "answer": body.get("answer"),
        "answerer": str(body.get("answerer") or ""),
        "sources": [str(s) for s in body.get("sources") or []],
        "passages": [
            {
                "source": str(p.get("source") or ""),
                "document": str(p.get("document") or ""),
                "title": str(p.get("title") or ""),
                "text": str(p.get("text") or ""),
            }
            for p in passages or []
            if isinstance(p, dict)
        ],
    }
