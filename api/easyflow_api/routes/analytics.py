"""Analytics: overview, daily conversations, intents, low confidence, CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse

from easyflow_api.deps import AnalystDep, SessionDep, StateDep
from easyflow_api.schemas import DailyRow, IntentRow, LowConfidenceRow, Overview
from easyflow_api.services import analytics, audit

router = APIRouter(prefix="/api/analytics", tags=["analytics"])


def filters(
    start: Annotated[
        date | None, Query(description="first day, YYYY-MM-DD (UTC)")
    ] = None,
    end: Annotated[date | None, Query(description="last day, inclusive")] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
) -> analytics.Filters:
    if start and end and start > end:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "end"),
                    "msg": "end is before start",
                    "input": end.isoformat(),
                }
            ]
        )
    return analytics.Filters(start=start, end=end, channel=channel or None)


FiltersDep = Annotated[analytics.Filters, Depends(filters)]


def _filters_detail(f: analytics.Filters) -> dict[str, object]:
    return {
        "start": f.start.isoformat() if f.start else None,
        "end": f.end.isoformat() if f.end else None,
        "channel": f.channel,
    }


@router.get("/overview", response_model=Overview)
def overview(_: AnalystDep, session: SessionDep, f: FiltersDep) -> dict[str, object]:
    return analytics.overview(session, f)


@router.get("/daily", response_model=list[DailyRow])
def daily(_: AnalystDep, session: SessionDep, f: FiltersDep) -> list[dict[str, object]]:
    return analytics.daily(session, f)


@router.get("/intents", response_model=list[IntentRow])
def intents(
    _: AnalystDep,
    session: SessionDep,
    f: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[dict[str, object]]:
    return analytics.intents(session, f, limit)


@router.get("/low-confidence", response_model=list[LowConfidenceRow])
def low_confidence(
    principal: AnalystDep,
    state: StateDep,
    session: SessionDep,
    f: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, object]]:
    """Shoppers' messages, so every read is audited with the conversations."""
    threshold = state.settings.api_low_confidence
    body = analytics.low_confidence(session, f, threshold, limit)
    audit.record_view(
        session,
        principal.username,
        "analytics.low_confidence",
        {
            **_filters_detail(f),
            "conversation_ids": sorted(
                {r["conversation_id"] for r in body if r["conversation_id"]}
            ),
        },
    )
    session.commit()
    return body


@router.get("/export.csv", response_class=PlainTextResponse)
def export_csv(
    principal: AnalystDep, session: SessionDep, f: FiltersDep
) -> PlainTextResponse:
    body = analytics.export_csv(session, f)
    audit.record(
        session,
        principal.username,
        "analytics.export",
        detail={**_filters_detail(f), "rows": len(body.splitlines()) - 1},
    )
    session.commit()
    return PlainTextResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="easyflow-daily.csv"'},
    )
