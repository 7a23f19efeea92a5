"""The action server: rasa-sdk's app plus the demo payment page, on one port.

Run with ``python -m actions.server`` (what ``make run`` does). Settings are read
and the demo store is checked before the port opens, so a bad variable or an
unusable store stops start-up with a clear message.

Deny by default (``actions/access.py``): every route needs the shared action token
(``Authorization: Bearer``, compared in constant time) except an explicit public
allow-list matched on the resolved route: health, the pay pages, the payment
webhooks and ``GET /metrics`` (Prometheus metrics; names are a contract with
``deploy/monitoring``; with ``PROMETHEUS_MULTIPROC_DIR`` set, the page sums every
worker writing to that folder, see ``common/metrics.py``).

Logs are JSON lines (``common/logging.py``); each action call binds its
``sender_id``, ``action`` and the conversation's ``order_id`` to every line
logged while it runs.

The token is ``EASYFLOW_ACTION_TOKEN`` (required in production). When it is unset
(the embedded default) the server reads ``<EASYFLOW_DATA_DIR>/action_token``,
creating a random one (mode 600) on first run; ``deploy/local/run.sh`` exports
the same file's token to Rasa, whose ``endpoints.yml`` sends it as a header. So a
plain ``make run`` never serves actions to whoever asks, and needs no setting.
By default the server listens on 127.0.0.1 in development (the demo pay page
address is ``http://localhost:5055``) and on 0.0.0.0 in production, where the pay
pages and payment webhooks must be reachable; ``EASYFLOW_ACTIONS_HOST`` overrides.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import os
import sys
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.access import TOKEN_FILE, install_token_guard, local_token, route_name
from actions.attachments.routes import attachments_blueprint
from actions.integrations.bitrix24 import Bitrix24Source
from actions.integrations.demo_store import DemoStore
from actions.integrations.router import RoutingOrderSource
from actions.integrations.shopify import ShopifySource
from actions.knowledge.published import PublishedKnowledge
from actions.knowledge.try_route import knowledge_blueprint
from actions.live_integrations.pickup import LiveIntegrations
from actions.live_integrations.routes import checks_blueprint
from actions.payments.base import PaymentProvider
from actions.payments.demo import DemoPaymentProvider
from actions.payments.pay_page import pay_blueprint
from actions.payments.webhooks import webhooks_blueprint
from actions.proactive.bitrix24_events import bitrix24_events_blueprint
from actions.proactive.poller import OrderPoller
from actions.proactive.queue import NoticeQueue
from actions.proactive.shop_events import shop_events_blueprint, source_of
from actions.proactive.shopify_webhook import shopify_webhook_blueprint
from actions.services import Services, configure
from actions.settings import Settings, SettingsError
from common.logging import bind_context, clear_context, configure_logging
from common.metrics import CONTENT_TYPE, Registry
from common.minilm import one_blas_thread

logger = logging.getLogger("actions.server")
# How much lower the passage warm-up runs than the server's own threads.
WARM_UP_NICE = 10

REGISTRY = Registry()
ACTIONS = REGISTRY.counter("easyflow_actions_total", "Custom actions run.", ["action"])
ACTION_LATENCY = REGISTRY.histogram(
    "easyflow_action_latency_seconds", "Custom action run time, seconds.", ["action"]
)
ACTION_ERRORS = REGISTRY.counter(
    "easyflow_action_errors_total", "Custom actions that raised (HTTP 500).", ["action"]
)
LLM_LATENCY = REGISTRY.histogram(
    "easyflow_llm_latency_seconds",
    "Time to produce a fallback answer (retrieval and answerer), seconds.",
    ["answerer"],
)
FALLBACKS = REGISTRY.counter(
    "easyflow_fallbacks_total", "Fallback answers by answerer.", ["answerer"]
)


def _action_call(request: Request) -> dict[str, Any]:
    """The action call in the request, decoded once per request.

    It carries the whole conversation: decoding it took 40% of this server's CPU
    when the two middlewares and rasa_sdk's webhook each did it. A plain body is
    decoded by orjson into Sanic's ``request.json``, which the webhook reads too;
    what orjson refuses (``NaN``, integers wider than 64 bits) by Sanic's decoder.
    """
    cached = getattr(request.ctx, "easyflow_call", None)
    if cached is not None:
        return cached
    try:
        if request.headers.get("Content-Encoding") == "deflate":
            call = json.loads(zlib.decompress(request.body))
        else:
            try:
                call = request.load_json(loads=orjson.loads)
            except InvalidUsage:
                call = request.json
    except (ValueError, zlib.error, InvalidUsage):
        call = None
    request.ctx.easyflow_call = call if isinstance(call, dict) else {}
    return request.ctx.easyflow_call


def _answerer(reply: HTTPResponse) -> str | None:
    try:
        result = json.loads(reply.body or b"{}")
    except ValueError:
        return None
    for message in result.get("responses") or []:
        if isinstance(message, dict) and message.get("fallback_answerer"):
            return str(message["fallback_answerer"])
    return None


def _bind_call_context(call: dict[str, Any]) -> None:
    """The conversation an action call is about, on every line it logs."""
    tracker = call.get("tracker")
    slots = tracker.get("slots") if isinstance(tracker, dict) else None
    order_id = slots.get("order_id") if isinstance(slots, dict) else None
    context = {
        "sender_id": call.get("sender_id"),
        "action": call.get("next_action"),
        "order_id": order_id,
    }
    bind_context(**{key: str(value) for key, value in context.items() if value})


def install_guard_and_metrics(app: Sanic, token: str) -> None:
    """The deny-by-default token check, the action metrics and the log context,
    as app middleware."""
    install_token_guard(app, token)

    @app.middleware("request")
    async def start_clock(request: Request) -> None:
        request.ctx.easyflow_started = time.perf_counter()
        # Requests on a kept-alive connection share one task: start afresh.
        clear_context()
        if route_name(app, request) == "webhook" and request.method == "POST":
            _bind_call_context(_action_call(request))

    @app.middleware("response")
    async def record(request: Request, reply: HTTPResponse) -> None:
        if route_name(app, request) != "webhook" or request.method != "POST":
            return
        if reply.status in (401, 404):  # not ours to count: unknown caller or name
            return
        action = str(_action_call(request).get("next_action") or "")
        if not action:
            return
        elapsed = time.perf_counter() - request.ctx.easyflow_started
        ACTIONS.inc(action=action)
        ACTION_LATENCY.observe(elapsed, action=action)
        if reply.status >= 500:
            ACTION_ERRORS.inc(action=action)
        answerer = _answerer(reply) if reply.status == 200 else None
        if answerer:
            FALLBACKS.inc(answerer=answerer)
            LLM_LATENCY.observe(elapsed, answerer=answerer)

    @app.get("/metrics")
    async def metrics(request: Request) -> HTTPResponse:
        return response.text(REGISTRY.render(), content_type=CONTENT_TYPE)


def background_priority() -> Any:
    """The calling thread ``WARM_UP_NICE`` steps nicer (Linux sets it per
    thread), and a context in which its BLAS calls use no other thread.

    On one host Rasa loads its model while this server embeds its passages;
    with BLAS on both cores at the same priority, Rasa's start-up to its first
    answer took about 1.3 s longer (7.4 s against 6.1 s here)."""
    with contextlib.suppress(OSError, AttributeError):
        thread = threading.get_native_id()
        nice = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, nice + WARM_UP_NICE))
    return one_blas_thread()


def _warm_up_knowledge(services: Services, done: threading.Event) -> None:
    started = time.perf_counter()
    try:
        with background_priority():
            services.knowledge.warm_up()
    except Exception:  # a failed warm-up only makes the first question slower
        logger.exception("knowledge.warm_up_failed")
        return
    finally:
        done.set()
    seconds = round(time.perf_counter() - started, 1)
    # What start-up built stays for the process's life: out of the cyclic
    # collector's full collections, which walked it again on every one.
    gc.collect()
    gc.freeze()
    logger.info("knowledge.warmed_up", extra={"seconds": seconds})


def install_readiness(app: Sanic, warmed: threading.Event) -> None:
    """``GET /ready``: 503 while the passages are embedded, 200 after.

    The embedding holds the interpreter for seconds (20-40 s on a busy two-core
    machine, once per passage set: cached afterwards), during which a turn's
    action call can miss Rasa's deadline; a load balancer or a test waits for this.
    """

    @app.get("/ready", name="ready")
    async def ready(request: Request) -> HTTPResponse:
        if warmed.is_set():
            return response.json({"status": "ready"})
        return response.json({"status": "warming"}, status=503)


NOTICE_RETRY_S = 5.0


def repeat_in_background(
    app: Sanic,
    every_s: float,
    work: Callable[[], Awaitable[object]],
    failed_event: str,
) -> None:
    """Runs ``work`` every ``every_s`` seconds once the server is up; a round
    that raises (a database hiccup) is logged and the next one tries again."""

    async def forever() -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await work()
            except Exception:
                logger.exception(failed_event)

    @app.after_server_start
    async def start(app: Sanic, _: Any) -> None:
        app.add_task(forever())


def install_notice_retries(app: Sanic, queue: NoticeQueue) -> None:
    """Retries queued notices (payments, order updates) in the background, lists
    the ones that failed for good at ``GET /notices/failed`` and tries one again
    at ``POST /notices/<id>/retry`` (neither public: the action token)."""

    repeat_in_background(
        app, NOTICE_RETRY_S, queue.retry_due, "payments.notice_retry_failed"
    )

    @app.get("/notices/failed", name="failed_notices")
    async def failed_notices(request: Request) -> HTTPResponse:
        notices = await queue.failed()
        return response.json([dataclasses.asdict(n) for n in notices])

    @app.post("/notices/<notice_id:int>/retry", name="retry_notice")
    async def retry_notice(request: Request, notice_id: int) -> HTTPResponse:
        sent = await queue.requeue(notice_id)
        if sent is None:
            return response.json({"error": "no failed notice " + str(notice_id)}, 404)
        return response.json({"id": notice_id, "sent": sent})


def install_knowledge_refresh(
    app: Sanic, services: Services, published: PublishedKnowledge, every_s: int
) -> None:
    """Reads the dashboard's knowledge base again every ``every_s`` seconds
    (0, or no api: the files only) and serves "try a question"."""
    if every_s > 0 and published.enabled:
        repeat_in_background(
            app, every_s, published.refresh, "knowledge.refresh_failed"
        )
    app.blueprint(knowledge_blueprint(lambda: services.fallback, published))


def install_order_polling(app: Sanic, poller: OrderPoller, every_s: int) -> None:
    """Reads followed orders again every ``every_s`` seconds (0: never)."""
    if every_s > 0:
        repeat_in_background(app, every_s, poller.poll_once, "orders.poll_round_failed")


def install_live_integrations(
    app: Sanic,
    settings: Settings,
    services: Services,
    webhook_providers: dict[str, PaymentProvider],
    token: str,
) -> None:
    """Checks for the api (``POST /integrations/check``) and, with an api to
    read, the dashboard's integrations picked up every poll (and once at
    start)."""
    app.blueprint(
        checks_blueprint(settings.keyring, settings.public_url, services.orders)
    )
    if not settings.live_integrations or not isinstance(
        services.orders, RoutingOrderSource
    ):
        return

    def offer(provider: PaymentProvider) -> None:
        services.payments = provider

    live = LiveIntegrations(
        api_url=settings.api_url,
        token=token,
        keyring=settings.keyring(),
        router=services.orders,
        env_sources=list(services.orders.sources),
        env_payments=services.payments,
        env_payment_chosen=settings.payment_provider != "demo",
        public_url=settings.public_url,
        webhook_providers=webhook_providers,
        on_payments=offer,
    )

    @app.after_server_start
    async def first(app: Sanic, _: Any) -> None:
        try:
            await live.refresh()
        except Exception:  # the api may start after us: the next poll
            logger.warning("integrations.refresh_failed", exc_info=True)

    repeat_in_background(
        app, settings.integrations_poll_s, live.refresh, "integrations.refresh_failed"
    )


def main() -> int:
    configure_logging("actions")
    try:
        settings = Settings.from_env()
        settings.require_action_token()
        if settings.live_integrations:
            settings.keyring()  # production without the key stops here
        services = Services.from_settings(settings)
    except SettingsError as error:
        print(f"Easy Flow actions: invalid setting: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"Easy Flow actions: cannot open the demo store: {error}", file=sys.stderr
        )
        return 2
    configure(services)
    # Passage vectors take seconds to build (cached under var/ afterwards): build
    # them beside start-up so the first knowledge question is not the slow one.
    warmed = threading.Event()
    threading.Thread(
        target=_warm_up_knowledge,
        args=(services, warmed),
        name="warm-up",
        daemon=True,
    ).start()
    # No CORS: Rasa calls the actions server to server, and shoppers open pay
    # pages directly; rasa-sdk's default would let any web page read them.
    app = create_app("actions", cors_origins=[])
    install_readiness(app, warmed)
    install_notice_retries(app, services.notices)
    app.blueprint(attachments_blueprint(services.attachments))
    install_knowledge_refresh(
        app, services, services.published_knowledge, settings.knowledge_refresh_s
    )
    token = settings.action_token or local_token(settings.data_dir / TOKEN_FILE)
    install_guard_and_metrics(app, token)
    if isinstance(services.payments, DemoPaymentProvider):
        app.blueprint(pay_blueprint(services.payments, services.settlement))
    # Mutable: a provider connected on the dashboard joins it while running.
    webhook_providers = {services.payments.name: services.payments}
    app.blueprint(webhooks_blueprint(webhook_providers, services.settlement))
    install_live_integrations(app, settings, services, webhook_providers, token)
    demo = source_of(services.orders, DemoStore)
    if demo is not None:
        app.blueprint(shop_events_blueprint(demo, services.order_updates))
    install_order_polling(
        app,
        OrderPoller(services.orders, services.order_updates),
        settings.order_poll_s,
    )
    shopify = source_of(services.orders, ShopifySource)
    if shopify is not None and shopify.webhook_secret:
        app.blueprint(shopify_webhook_blueprint(shopify, services.order_updates))
    bitrix24 = source_of(services.orders, Bitrix24Source)
    if bitrix24 is not None and bitrix24.event_token:
        app.blueprint(bitrix24_events_blueprint(bitrix24, services.order_updates))
    logger.info(
        "actions.server.start",
        extra={
            "host": settings.actions_host,
            "port": settings.actions_port,
            "token": "configured" if settings.action_token else "local file",
        },
    )
    app.run(settings.actions_host, settings.actions_port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
