"""Security headers for every response: the API, the dashboard and its docs.

Content-Security-Policy per kind of page:

- API and other non-HTML responses: nothing may load (`default-src 'none'`).
- The dashboard (a Vite build): its own scripts, styles, images and fetches
  only. React sets `style={{…}}` through the CSSOM, which CSP allows, so no
  `'unsafe-inline'` is needed.
- /docs and /redoc: FastAPI's pages load Swagger UI / ReDoc from jsDelivr and
  start them with an inline script.
- /demo builds its own policy (a nonce for its inline script, the Rasa origin
  for the widget's socket.io connection), see routes/static.py.

Nothing here may be framed (`frame-ancestors 'none'`, `X-Frame-Options`): the
widget is embedded as a script, not a frame, so shops need no framing
permission, and a framed dashboard is a click-jacking target.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import Request, Response

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
    "https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
API_PREFIXES = ("/api/", "/health", "/metrics", "/openapi.json", "/widget/")
DOCS_PATHS = ("/docs", "/redoc")


def demo_csp(nonce: str, rasa_url: str) -> str:
    """The demo shop: its inline script by nonce, inline styles (the page's and
    the widget's Shadow DOM `<style>`), images from anywhere over https (bot
    messages may carry product pictures) and socket.io to Rasa only."""
    parts = urlsplit(rasa_url)
    web = f"{parts.scheme}://{parts.netloc}"
    socket = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}"
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
        f"connect-src 'self' {web} {socket}; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def csp_for(path: str) -> str:
    if path.startswith(DOCS_PATHS):
        return DOCS_CSP
    if path.startswith(API_PREFIXES) or path == "/api":
        return API_CSP
    return DASHBOARD_CSP


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    headers = response.headers
    if "content-security-policy" not in headers:  # a route may set its own
        headers["Content-Security-Policy"] = csp_for(request.url.path)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    return response
