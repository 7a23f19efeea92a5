"""Who may call the action server: deny by default, an explicit public allow-list.

Every route answers 401 unless the caller presents the shared action token or the
route is on ``PUBLIC_ROUTES``. The check matches the route Sanic resolved for the
request (its name), never the path string: Sanic routes ``/webhook/`` and
``/webhook//`` to the same handler as ``/webhook``, so a path comparison misses
spellings, while a route name is what actually runs. A path that resolves to no
route is refused too (401 rather than 404), so probing learns nothing.

Public, on purpose:
- ``health``: liveness for ``run.sh``, compose and Kubernetes probes.
- ``ready``: 200 once the knowledge passages are embedded (503 before), the
  Kubernetes readiness probe and what tests wait for.
- the demo pay pages (``/pay/<id>``): shoppers open them from payment links.
- the payment-provider webhooks (``/payments/<name>/webhook``): each provider
  verifies its own signature or secret (``actions/payments/``).
- ``metrics``: aggregate counters and latencies by action name, no conversation
  data. Prometheus scrapes it without credentials; giving Prometheus the action
  token would hand the monitoring stack the key that runs actions. It is kept off
  the outside by the gateways (nginx ``location = /metrics { return 404; }``, the
  Kubernetes ingress routes only ``/pay`` and ``/payments`` here).

The token travels as ``Authorization: Bearer <token>`` (Rasa's endpoints
``headers:``). The ``?token=`` query form Rasa's ``action_endpoint.token`` sends is
still accepted for one release, with a warning, because query strings end up in
access logs.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from pathlib import Path

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger("actions.access")

# Route names relative to the app ("<blueprint>.<handler>" for blueprint routes).
PUBLIC_ROUTES = frozenset(
    {
        "health",
        "ready",
        "metrics",
        "demo_pay.show",
        "demo_pay.pay",
        "payment_webhooks.receive",
        "shopify_orders.receive",  # signed by Shopify (HMAC)
        "bitrix24_orders.receive",  # the portal's application token
    }
)
TOKEN_FILE = "action_token"


def presented_token(request: Request) -> tuple[str, str]:
    """The token the caller sent and where: ``header``, ``query`` or ``none``."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), "header"
    query = request.args.get("token")
    if query:
        return str(query), "query"
    return "", "none"


def route_name(app: Sanic, request: Request) -> str | None:
    """The resolved route's name without the app prefix; None when none matched."""
    route = request.route
    if route is None:
        return None
    return route.name.removeprefix(f"{app.name}.")


def install_token_guard(app: Sanic, token: str) -> None:
    """Refuse every non-public route unless the caller presents ``token``."""
    if not token:
        # An empty secret would let anyone in: the caller resolves one first
        # (``EASYFLOW_ACTION_TOKEN`` or ``local_token``).
        raise ValueError("the action server needs a non-empty token")
    expected = token.encode()

    @app.middleware("request")
    async def check_token(request: Request) -> HTTPResponse | None:
        name = route_name(app, request)
        if name in PUBLIC_ROUTES:
            return None
        given, where = presented_token(request)
        if given and hmac.compare_digest(given.encode(), expected):
            if where == "query":
                logger.warning(
                    "actions.access.query_token_deprecated",
                    extra={"route": name},
                )
            return None
        logger.warning(
            "actions.access.rejected",
            extra={
                "route": name,
                "path": request.path,
                "token": where,
                "remote": request.remote_addr or request.ip,
            },
        )
        return response.json({"error": "unauthorized"}, status=401)


def local_token(path: Path) -> str:
    """The token stored at ``path``, created (random, mode 600) on first use.

    The embedded default has no configured secret, yet must never serve actions
    to whoever asks: ``deploy/local/run.sh`` and this server share this file, so
    a plain ``make run`` gets a token nobody had to set.
    """
    try:
        existing = path.read_text("utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    # O_EXCL: when two processes race, the second reads the first one's token.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text("utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    logger.info("actions.access.token_created", extra={"path": str(path)})
    return token
