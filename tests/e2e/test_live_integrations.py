"""A marketplace connected on the dashboard answers the next question of a
conversation already under way, with no restart: Wildberries emulator → the
real api (saved, sealed, checked) → the real action server (picks the feed up)
→ the trained agent.

Needs the trained model and the api's environment (``make install-api``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from common.secretbox import new_key_text
from tests.emulators import Emulator, free_port
from tests.marketplace_emulators import UTC, WildberriesApi, wb_task
from tests.servers import (
    ACTION_TOKEN,
    API_ADMIN_PASSWORD,
    action_server,
    agent_for,
    api_server,
    say,
)

Factory = Callable[[Any], Awaitable[Emulator]]
TASK = 13833711
WB_TOKEN = "wb-dashboard-token-0123456789"


async def _admin(http: aiohttp.ClientSession, api: str) -> dict[str, str]:
    async with http.post(
        f"{api}/api/auth/login",
        json={"username": "admin", "password": API_ADMIN_PASSWORD},
    ) as answer:
        token = (await answer.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _applied(log: Path, kind: str, seconds: float = 20) -> None:
    """Until the action server logged that it routes to ``kind``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if "integrations.applied" in line and f'"{kind}"' in line:
                return
        await asyncio.sleep(0.3)
    raise TimeoutError(f"{kind} was not picked up")


async def test_a_marketplace_saved_and_checked_answers_the_next_question(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    wb = WildberriesApi(WB_TOKEN)
    wb.add(wb_task(TASK, datetime.now(UTC) - timedelta(days=2)), "complete", "sorted")
    emulator = await emulator_factory(wb)
    key = new_key_text()
    actions_port = free_port()
    (tmp_path / "api").mkdir()
    (tmp_path / "actions").mkdir()
    with ExitStack() as stack:
        api = stack.enter_context(
            api_server(
                tmp_path / "api",
                {
                    "EASYFLOW_ACTION_TOKEN": ACTION_TOKEN,
                    "EASYFLOW_ACTION_SERVER_URL": f"http://127.0.0.1:{actions_port}",
                    "EASYFLOW_SECRETS_KEY": key,
                },
            )
        )
        url = stack.enter_context(
            action_server(
                tmp_path / "actions",
                env={
                    "EASYFLOW_ACTIONS_PORT": str(actions_port),
                    "EASYFLOW_API_URL": api,
                    "EASYFLOW_INTEGRATIONS_POLL_S": "1",
                    "EASYFLOW_SECRETS_KEY": key,
                },
            )
        )
        agent = await asyncio.to_thread(agent_for, url)
        sender = "live-shopper"
        await say(agent, sender, "где мой заказ")
        before = await say(agent, sender, str(TASK))
        assert f"Не нахожу заказ {TASK}" in before, before
        assert emulator.calls == []  # no Wildberries yet

        async with aiohttp.ClientSession() as http:
            admin = await _admin(http, api)
            card = f"{api}/api/integrations/wildberries"
            # A wrong token first: its check fails with Wildberries' words and
            # nothing is picked up.
            form = {"WB_API_TOKEN": "wrong-token", "WB_MARKETPLACE_URL": emulator.url}
            async with http.put(card, json={"values": form}, headers=admin) as saved:
                assert saved.status == 200
            async with http.post(f"{card}/check", headers=admin) as checked:
                failed = await checked.json()
            assert failed["check"]["status"] == "error"
            assert "token is malformed or invalid" in failed["check"]["message"]
            assert not failed["enabled"]

            form["WB_API_TOKEN"] = WB_TOKEN
            async with http.put(card, json={"values": form}, headers=admin) as saved:
                assert (await saved.json())["values"]["WB_API_TOKEN"] == "••••6789"
            async with http.post(f"{card}/check", headers=admin) as checked:
                passed = await checked.json()
            assert passed["check"]["status"] == "ok" and passed["enabled"], passed

        await _applied(tmp_path / "actions" / "actions.log", "wildberries")
        after = await say(agent, sender, f"а заказ {TASK}?")
        assert f"Заказ {TASK} в пути." in after, after
        assert "/api/v3/orders" in emulator.paths()
        assert {c.headers.get("Authorization") for c in emulator.calls} == {
            "wrong-token",
            WB_TOKEN,
        }
    for log in (tmp_path / "api" / "api.log", tmp_path / "actions" / "actions.log"):
        text = log.read_text()
        assert WB_TOKEN not in text and key not in text, log
