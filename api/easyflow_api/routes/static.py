"""The built dashboard (SPA), the web chat widget and the demo shop page.

Paths are checked at request time, so a dashboard built after start-up is
served without a restart."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from easyflow_api.deps import StateDep

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


@router.get("/demo")
def demo(state: StateDep) -> FileResponse:
    page = state.settings.demo_page_path
    if not page.is_file():
        raise HTTPException(404, detail="demo page not built (dashboard/dist/demo)")
    return FileResponse(page)


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
