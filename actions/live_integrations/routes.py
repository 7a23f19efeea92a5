"""``POST /integrations/check`` (the action token, like every non-public route):
the api sends an integration's saved values, secrets sealed; this opens them,
builds the platform's real client and makes one harmless read. The answer is
``ok``, ``error`` with the platform's own words, or ``unreachable``; never a
secret (a check that fails to open them says which key is missing)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.integrations.base import OrderSource
from actions.live_integrations.clients import category, check
from common.integration_feed import open_values
from common.secretbox import Keyring, SecretOpenError
from common.settings import SettingsError

logger = logging.getLogger(__name__)


def checks_blueprint(
    keyring: Callable[[], Keyring], public_url: str, orders: OrderSource
) -> Blueprint:
    blueprint = Blueprint("live_integrations", url_prefix="/integrations")

    @blueprint.post("/check", name="check")
    async def check_route(request: Request) -> HTTPResponse:
        try:
            body = request.json
        except Exception:  # sanic raises its own on malformed JSON
            body = None
        if (
            not isinstance(body, dict)
            or category(str(body.get("kind"))) is None
            or not isinstance(body.get("settings") or {}, dict)
            or not isinstance(body.get("secrets") or "", str)
        ):
            return response.json({"error": "kind, settings, secrets"}, status=400)
        kind = str(body["kind"])
        try:
            values = open_values(keyring(), body)
        except (SecretOpenError, SettingsError) as error:
            logger.error(
                "integrations.check.cannot_open",
                extra={"kind": kind, "error": str(error)[:200]},
            )
            return response.json(
                {
                    "status": "error",
                    "message": "the action server cannot open the secrets: "
                    "EASYFLOW_SECRETS_KEY differs from the api's",
                }
            )
        result = await check(kind, values, public_url, orders)
        return response.json({"status": result.status, "message": result.message})

    return blueprint
