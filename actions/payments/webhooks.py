"""Payment notifications, received by the action server at
``POST /payments/<provider>/webhook``.

Why here: the action server already owns payments (it creates the links and serves
the demo pay page) and runs in every deployment, while the admin service is
optional. A notification is verified by its provider (``parse_webhook``), settled
against our ledger (``Settlement``) and answered the way the provider expects.
Forged or malformed notifications get 4xx and change nothing; unknown payments,
wrong amounts and duplicates are acknowledged (so the provider stops retrying),
logged and change nothing.
"""

from __future__ import annotations

import logging

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.payments.base import PaymentProvider, WebhookRejected
from actions.payments.settlement import Settlement

logger = logging.getLogger(__name__)


def webhooks_blueprint(
    providers: dict[str, PaymentProvider], settlement: Settlement
) -> Blueprint:
    blueprint = Blueprint("payment_webhooks", url_prefix="/payments")

    @blueprint.post("/<name:str>/webhook")
    async def receive(request: Request, name: str) -> HTTPResponse:
        provider = providers.get(name)
        if provider is None:
            return response.json({"error": "unknown provider"}, status=404)
        headers = {key: value for key, value in request.headers.items()}
        try:
            event = await provider.parse_webhook(
                headers, request.body or b"", request.ip
            )
        except WebhookRejected as error:
            logger.warning(
                "payments.webhook.rejected",
                extra={"provider": name, "reason": error.reason, "ip": request.ip},
            )
            return response.json({"error": error.reason}, status=error.status)
        if event is not None and event.succeeded:
            outcome = await settlement.succeeded(
                name, event.payment_id, event.amount, event.currency
            )
            logger.info(
                "payments.webhook.settled",
                extra={
                    "provider": name,
                    "payment_id": event.payment_id,
                    "outcome": outcome.value,
                },
            )
        status, body, content_type = provider.acknowledgement()
        return response.text(body, status=status, content_type=content_type)

    return blueprint
