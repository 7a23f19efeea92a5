"""The built dashboard (SPA), the web chat widget and the demo shop page.

Paths are checked at request time, so a dashboard built after start-up is
served without a restart."""

from __future__ import annotations

import html
import logging
import re
import secrets
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse

from easyflow_api.core.config import Settings
from easyflow_api.core.headers import demo_csp
from easyflow_api.deps import StateDep

logger = logging.getLogger(__name__)
_RASA_ATTRIBUTE = re.compile(r'data-rasa-url="[^"]*"')
_INLINE_SCRIPT = re.compile(r"<script>")
# host[:port] only: the origin goes into the CSP header, where a `;` or a
# space would start a directive of the caller's choosing.
_NETLOC = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")

router = APIRouter(include_in_schema=False)
RESERVED_PREFIXES = (
    "api/",
    "api",
    "docs",
    "redoc",
    "openapi.json",
    "metrics",
    "health",
)


def _inside(root: Path, relative: str) -> Path | None:
    """The file under root, or None (missing, or outside root)."""
    if not root.is_dir():
        return None
    try:
        candidate = (root / relative).resolve()
        candidate.relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    return candidate if candidate.is_file() else None


@router.get("/widget/{path:path}")
def widget(path: str, state: StateDep) -> FileResponse:
    found = _inside(state.settings.widget_path, path)
    if found is None:
        raise HTTPException(404, detail="not found")
    return FileResponse(found)


def _http_url(value: str) -> str | None:
    """An absolute http(s) URL without credentials, normalised, else None."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username or parts.password or not _NETLOC.fullmatch(parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def demo_rasa_url(settings: Settings, requested: str | None) -> str:
    """Where the demo's widget connects. Production: the configured Rasa only,
    so a link to /demo?rasa=<attacker> cannot make shoppers chat with a fake
    assistant on our origin. Development: ?rasa= may point it elsewhere."""
    configured = settings.widget_rasa_url
    if not requested:
        return configured
    if settings.env == "production":
        logger.info("demo.rasa_param.ignored", extra={"requested": requested[:200]})
        return configured
    return _http_url(requested) or configured


@router.get("/demo")
def demo(
    state: StateDep,
    rasa: Annotated[str | None, Query(max_length=2048)] = None,
) -> HTMLResponse:
    page = state.settings.demo_page_path
    if not page.is_file():
        raise HTTPException(404, detail="demo page not built (dashboard/dist/demo)")
    rasa_url = demo_rasa_url(state.settings, rasa)
    nonce = secrets.token_urlsafe(16)
    text = _RASA_ATTRIBUTE.sub(
        lambda _: f'data-rasa-url="{html.escape(rasa_url, quote=True)}"',
        page.read_text(encoding="utf-8"),
    )
    text = _INLINE_SCRIPT.sub(f'<script nonce="{nonce}">', text)
    return HTMLResponse(
        text,
        headers={
            "Content-Security-Policy": demo_csp(nonce, rasa_url),
            "Cache-Control": "no-store",
        },
    )


@router.get("/{path:path}")
def spa(path: str, state: StateDep) -> FileResponse:
    if path.startswith(RESERVED_PREFIXES):
        raise HTTPException(404, detail="not found")
    root = state.settings.dashboard_path
    found = _inside(root, path) if path else None
    if found is not None:
        return FileResponse(found)
    if "." in path.rsplit("/", 1)[-1]:
        raise HTTPException(404, detail="not found")  # a missing asset, not a route
    index = root / "index.html"
    if not index.is_file():
        raise HTTPException(404, detail="dashboard not built (dashboard/dist)")
    return FileResponse(index)
