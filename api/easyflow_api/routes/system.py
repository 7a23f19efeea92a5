"""Health, Prometheus metrics and the settings report."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from easyflow_api.core.config import environment
from easyflow_api.deps import AdminDep, CurrentPrincipal, StateDep
from easyflow_api.schemas import Health, HealthDetailed, SettingsPublic
from easyflow_api.services import health, settings_report

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
def liveness() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/health/detailed", response_model=HealthDetailed)
async def detailed(
    _: CurrentPrincipal, request: Request, state: StateDep
) -> dict[str, object]:
    ingestor = getattr(request.app.state, "sql_ingestor", None)
    return await health.detailed(state.settings, state.db, ingestor)


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(request: Request, state: StateDep) -> Response:
    token = state.settings.api_metrics_token
    if token:
        header = request.headers.get("authorization", "")
        given = header.removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, detail="metrics token required")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/settings", response_model=SettingsPublic)
def get_settings(_: AdminDep) -> dict[str, object]:
    return settings_report.report(environment())
