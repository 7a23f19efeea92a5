"""The loopback platform emulators of tests/ as a process, for the browser
tests (dashboard/e2e/07-integrations.spec.ts): one port, each emulator under
its own prefix, the address printed as the first line of stdout.

    python -m tests.emulator_server WB_TOKEN YOOKASSA_SHOP_ID YOOKASSA_SECRET_KEY

Wildberries at ``<url>/wb`` (``WB_MARKETPLACE_URL``), holding one order in
transit (``WB_TASK``, which the demo store does not have), YooKassa at
``<url>/yookassa/v3`` (``YOOKASSA_API_URL``). Runs until stopped.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from tests.actions.payments.provider_emulators import YooKassaApi
from tests.emulators import Emulator, free_port
from tests.marketplace_emulators import UTC, WildberriesApi, wb_task

WB_TASK = 13833711


def _mounted(prefix: str, reply: Callable[[Any], Any]) -> Emulator:
    """An emulator whose platform sees paths without ``prefix``."""
    emulator = Emulator(reply)
    original = emulator._handle

    async def handle(request: web.Request) -> web.StreamResponse:
        rel = request.rel_url
        path = rel.path.removeprefix(prefix) or "/"
        stripped = request.clone(rel_url=rel.with_path(path).with_query(rel.query))
        return await original(stripped)

    emulator._handle = handle  # type: ignore[method-assign]
    return emulator


async def serve(wb_token: str, shop_id: str, secret_key: str) -> None:
    wildberries = WildberriesApi(wb_token)
    wildberries.add(
        wb_task(WB_TASK, datetime.now(UTC) - timedelta(days=2)), "complete", "sorted"
    )
    wb = _mounted("/wb", wildberries)
    yookassa = _mounted(
        "/yookassa", YooKassaApi(shop_id=shop_id, secret_key=secret_key)
    )
    app = web.Application()
    app.router.add_route("*", "/wb/{tail:.*}", wb._handle)
    app.router.add_route("*", "/yookassa/{tail:.*}", yookassa._handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(*sys.argv[1:4]))
