"""Shop settings: read by every signed-in role, changed by admins, and the
public part the web chat widget reads without signing in."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response

from easyflow_api.deps import AdminDep, CurrentPrincipal, SessionDep, StateDep
from easyflow_api.schemas import PublicShop, ShopSettingsPublic, ShopSettingsUpdate
from easyflow_api.services import shop_settings

router = APIRouter(tags=["shop"])
# Browsers and proxies may keep the public answer this long; a change shows
# in the widget within a minute, and a page view costs no database read.
PUBLIC_MAX_AGE_S = 60


@router.get("/api/shop-settings", response_model=ShopSettingsPublic)
def get_shop_settings(
    _: CurrentPrincipal, state: StateDep, session: SessionDep
) -> dict[str, object]:
    return shop_settings.current(session, state.settings)


@router.put(
    "/api/shop-settings",
    response_model=ShopSettingsPublic,
    responses={409: {"description": "saved from a stale version; nothing changed"}},
)
def put_shop_settings(
    principal: AdminDep,
    state: StateDep,
    session: SessionDep,
    body: ShopSettingsUpdate,
) -> dict[str, object]:
    values = body.model_dump(exclude={"version"})
    try:
        return shop_settings.save(
            session, state.settings, values, body.version, principal.username
        )
    except shop_settings.StaleVersion as exc:
        raise HTTPException(409, detail=str(exc)) from exc


def _max_age(public: dict[str, object], now: datetime) -> int:
    """Never cached past the moment operators start or stop working."""
    operators = public["operators"]
    assert isinstance(operators, dict)
    change = operators["until"] or operators["next_at"]
    if not change:
        return PUBLIC_MAX_AGE_S
    left = (datetime.fromisoformat(change) - now).total_seconds()
    return max(0, min(PUBLIC_MAX_AGE_S, math.floor(left)))


@router.get("/api/public/shop", response_model=PublicShop)
def public_shop(
    request: Request, response: Response, state: StateDep, session: SessionDep
) -> Response | dict[str, object]:
    """Unauthenticated and read-only: the shop name, greetings, languages and
    whether operators are working, for the widget on any shop's page (CORS
    open, no credentials)."""
    now = datetime.now(UTC)
    body = shop_settings.public(shop_settings.current(session, state.settings), now)
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    etag = f'"{hashlib.sha256(canonical).hexdigest()[:32]}"'
    headers = {
        "Cache-Control": f"public, max-age={_max_age(body, now)}",
        "ETag": etag,
        "Access-Control-Allow-Origin": "*",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return body
