"""Shopify order webhooks: ``POST /orders/shopify/webhook`` on the action server.

Subscribe the shop's ``orders/updated`` (and, if wanted, ``orders/fulfilled``,
``orders/cancelled``) webhooks to ``<EASYFLOW_PUBLIC_URL>/orders/shopify/webhook``
and set ``SHOPIFY_WEBHOOK_SECRET`` to the secret that signs them (the app's
client secret, or the one the admin's Notifications page shows). Without it the
route does not exist.

Public, like the payment webhooks, because Shopify signs every call: the
``X-Shopify-Hmac-Sha256`` header is base64 HMAC-SHA256 of the raw body under the
secret, compared in constant time; a missing or wrong one gets 401 and changes
nothing. The body is only a hint: the order is read again through the Admin API
(``ShopifySource.get_order``), so a replayed or stale body cannot claim a state
the shop does not have, and its followers are told through the durable queue,
once per (order, state) however often Shopify retries. If the Admin API cannot
answer, 503 makes Shopify retry later (it retries for about four hours).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.integrations.shopify import ShopifySource
from actions.proactive.order_updates import OrderUpdates
from actions.proactive.source_events import tell_followers

logger = logging.getLogger(__name__)

TOPICS = frozenset({"orders/updated", "orders/fulfilled", "orders/cancelled"})
MAX_BODY = 1_000_000


def signature(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def shopify_webhook_blueprint(
    source: ShopifySource, updates: OrderUpdates
) -> Blueprint:
    if not source.webhook_secret:
        raise ValueError("a Shopify webhook needs SHOPIFY_WEBHOOK_SECRET")
    blueprint = Blueprint("shopify_orders", url_prefix="/orders/shopify")

    @blueprint.post("/webhook", name="receive")
    async def receive(request: Request) -> HTTPResponse:
        body = request.body or b""
        if len(body) > MAX_BODY:
            return response.json({"error": "too large"}, status=413)
        given = request.headers.get("x-shopify-hmac-sha256", "")
        expected = signature(source.webhook_secret, body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            logger.warning("shopify.webhook_rejected", extra={"reason": "signature"})
            return response.json({"error": "bad signature"}, status=401)
        topic = request.headers.get("x-shopify-topic", "")
        if topic not in TOPICS:
            return response.json({"ignored": topic or "no topic"})
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        name = payload.get("name") if isinstance(payload, dict) else None
        if not isinstance(name, str | int) or not str(name).strip():
            return response.json({"error": "no order name"}, status=400)
        return await tell_followers(
            source.get_order(str(name)),
            updates,
            source.name,
            {"topic": topic, "webhook_id": request.headers.get("x-shopify-webhook-id")},
        )

    return blueprint
