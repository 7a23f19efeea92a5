"""Bitrix24 outbound events: ``POST /orders/bitrix24/events`` on the action server.

In the portal, add an outbound webhook (Developer resources → Other → Outbound
webhook) for ``OnSaleOrderSaved`` (online-store orders, ``BITRIX24_ENTITY=order``)
or ``ONCRMDEALUPDATE`` (deals) pointing at
``<EASYFLOW_PUBLIC_URL>/orders/bitrix24/events``, and set ``BITRIX24_EVENT_TOKEN``
to the application token the portal shows. Without it the route does not exist.

The portal POSTs ``application/x-www-form-urlencoded``: ``event``,
``data[FIELDS][ID]`` and ``auth[application_token]``. Public, like the payment
webhooks, because the token is checked in constant time; a missing or wrong one
gets 401 and changes nothing. The event names the order by the portal's id only:
the order is read through the REST API (``Bitrix24Source.order_by_id``), and its
followers are told through the durable queue, once per (order, state). If the
portal cannot answer, 503 (the portal's handler may call again; polling,
``actions/proactive/poller.py``, covers a call that never comes).
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import parse_qs

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.integrations.bitrix24 import Bitrix24Source
from actions.proactive.order_updates import OrderUpdates
from actions.proactive.source_events import tell_followers

logger = logging.getLogger(__name__)

EVENTS = {"order": "ONSALEORDERSAVED", "deal": "ONCRMDEALUPDATE"}
MAX_BODY = 64 * 1024


def bitrix24_events_blueprint(
    source: Bitrix24Source, updates: OrderUpdates
) -> Blueprint:
    if not source.event_token:
        raise ValueError("Bitrix24 events need BITRIX24_EVENT_TOKEN")
    blueprint = Blueprint("bitrix24_orders", url_prefix="/orders/bitrix24")
    wanted = EVENTS[source.entity]

    @blueprint.post("/events", name="receive")
    async def receive(request: Request) -> HTTPResponse:
        body = request.body or b""
        if len(body) > MAX_BODY:
            return response.json({"error": "too large"}, status=413)
        try:
            form = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=64)
        except (UnicodeDecodeError, ValueError):
            form = {}
        given = (form.get("auth[application_token]") or [""])[0]
        if not hmac.compare_digest(given.encode(), source.event_token.encode()):
            logger.warning("bitrix24.event_rejected", extra={"reason": "token"})
            return response.json({"error": "bad token"}, status=401)
        event = (form.get("event") or [""])[0].upper()
        if event != wanted:
            return response.json({"ignored": event or "no event"})
        raw_id = (form.get("data[FIELDS][ID]") or [""])[0]
        if not raw_id.isdigit() or len(raw_id) > 18:
            return response.json({"error": "no order id"}, status=400)
        return await tell_followers(
            source.order_by_id(int(raw_id)), updates, source.name, {"event": event}
        )

    return blueprint
