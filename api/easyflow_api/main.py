"""The FastAPI application: routes, metrics middleware, start-up and ingestion."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from easyflow_api.core.config import ConfigError, Settings, get_settings
from easyflow_api.core.headers import security_headers
from easyflow_api.core.logging import configure_logging
from easyflow_api.core.metrics import LATENCY, REQUESTS
from easyflow_api.core.ratelimit import build_limiter
from easyflow_api.core.state import AppState
from easyflow_api.db import Database
from easyflow_api.routes import (
    admin,
    analytics,
    attachments,
    auth,
    conversations,
    handoffs,
    inbox,
    integrations,
    knowledge,
    notices,
    shop,
    static,
    system,
)
from easyflow_api.services import users
from easyflow_api.services.ingest import (
    RabbitIngestor,
    SqlBrokerIngestor,
    run_sql_forever,
)
from easyflow_api.services.projection import Projector
from easyflow_api.services.rasa_client import RasaClient

logger = logging.getLogger(__name__)


def build_state(settings: Settings) -> AppState:
    db = Database(settings.database_url)
    db.migrate()
    with db.session() as session:
        users.ensure_bootstrap_admin(
            session,
            settings.admin_user,
            settings.bootstrap_admin_password,
            development=settings.env == "development",
        )
    return AppState(
        settings=settings,
        db=db,
        secret=settings.signing_secret(),
        rasa=RasaClient(
            settings.rasa_url, settings.rasa_token, settings.api_http_timeout_s
        ),
        keyring=settings.keyring(),
        limiter=build_limiter(
            settings.redis_url,
            settings.api_login_max_failures,
            settings.api_login_window_s,
        ),
    )


def _start_ingestion(
    app: FastAPI, state: AppState, stop: asyncio.Event
) -> asyncio.Task | None:
    settings = state.settings
    projector = Projector(settings.api_low_confidence)
    if settings.api_ingest == "sql":
        ingestor = SqlBrokerIngestor(
            state.db, settings.events_url, projector, settings.api_ingest_batch
        )
        app.state.sql_ingestor = ingestor
        if settings.api_ingest_background:
            return asyncio.create_task(
                run_sql_forever(ingestor, settings.api_ingest_interval_s, stop)
            )
    elif settings.api_ingest == "rabbitmq" and settings.api_ingest_background:
        rabbit = RabbitIngestor(
            state.db, settings.rabbitmq_url, settings.rabbitmq_queue, projector
        )
        return asyncio.create_task(
            rabbit.run_forever(settings.api_ingest_interval_s, stop)
        )
    return None


def _cors_origins(settings: Settings | None) -> list[str]:
    """The origins of the settings the app will run with. Invalid settings
    need none: the lifespan then refuses to start and logs why."""
    if settings is None:
        try:
            settings = get_settings()
        except ConfigError:
            return []
    return settings.cors_origins


def create_app(
    settings: Settings | None = None, configure_logs: bool = True
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if configure_logs:
            configure_logging()
        try:
            resolved = settings or get_settings()
        except ConfigError as exc:
            logger.error("api.config.invalid", extra={"error": str(exc)})
            raise
        state = await asyncio.to_thread(build_state, resolved)
        app.state.easyflow = state
        stop = asyncio.Event()
        task = _start_ingestion(app, state, stop)
        logger.info(
            "api.started",
            extra={
                "env": resolved.env,
                "database": state.db.engine.dialect.name,
                "ingest": resolved.api_ingest,
                "login_limiter": "redis" if resolved.redis_url else "memory",
                "trusted_proxies": resolved.api_trusted_proxies or None,
            },
        )
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await task
            ingestor = getattr(app.state, "sql_ingestor", None)
            if ingestor is not None:
                ingestor.close()
            close = getattr(state.limiter, "close", None)
            if close is not None:
                close()
            state.db.dispose()
            logger.info("api.stopped")

    app = FastAPI(
        title="Easy Flow admin and analytics API",
        version="0.1.0",
        description="Analytics, conversation review, NLU inbox, human handoff and "
        "administration for the Easy Flow assistant. Authenticate with "
        "`Authorization: Bearer <token>` from /api/auth/login or `X-API-Key`.",
        lifespan=lifespan,
    )

    @app.middleware("http")
    async def record_metrics(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            if template == "/{path:path}":
                template = "/static"
            REQUESTS.labels(request.method, template, str(status)).inc()
            LATENCY.labels(template).observe(time.perf_counter() - started)

    app.middleware("http")(security_headers)

    origins = _cors_origins(settings)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        )
    for module in (
        system,
        auth,
        analytics,
        conversations,
        inbox,
        handoffs,
        admin,
        shop,
        knowledge,
        notices,
        attachments,
        integrations,
    ):
        app.include_router(module.router)
    app.include_router(static.router)  # last: the SPA catch-all
    return app


app = create_app()
