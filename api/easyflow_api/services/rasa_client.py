"""Thin client for the parts of Rasa's HTTP API the api uses."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

logger = logging.getLogger(__name__)

# Rasa's server (Sanic 21.12) does not percent-decode path parameters: a sender id
# sent as ``telegram%3A123`` names another, empty conversation. Characters a URL
# path carries as they are stay unencoded.
_PATH_SAFE = "/:@!$&'()*+,;=~"


class RasaError(RuntimeError):
    """Rasa could not be reached or refused the request."""


class RasaClient:
    def __init__(self, base_url: str, token: str | None, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self.timeout_s = timeout_s

    async def trigger_intent(
        self, sender_id: str, name: str, entities: dict[str, Any]
    ) -> dict[str, Any]:
        params = {"output_channel": "latest"}
        if self.token:
            params["token"] = self.token
        url = (
            f"{self.base_url}/conversations/{quote(sender_id, safe=_PATH_SAFE)}"
            "/trigger_intent"
        )
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.post(
                    url, params=params, json={"name": name, "entities": entities}
                )
        except httpx.HTTPError as exc:
            logger.warning(
                "rasa.trigger_intent.unreachable",
                extra={"intent": name, "error": type(exc).__name__},
            )
            raise RasaError(f"Rasa is unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            logger.warning(
                "rasa.trigger_intent.refused",
                extra={"intent": name, "status": response.status_code},
            )
            raise RasaError(f"Rasa answered {response.status_code}")
        logger.info("rasa.trigger_intent.ok", extra={"intent": name})
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
