"""Rasa's HTTP API with the Telegram channel and a Telegram Bot API emulator, for
end-to-end tests where the action server speaks first (payments, order updates).

Rasa's HTTP app (``rasa.server.create_app`` with the Telegram channel, as ``rasa run
--enable-api`` serves it) runs the trained agent from a background thread, once
per test module (about 20 s to load); its action endpoint is ``actions_port``,
where each test starts its own action server. Needs the trained model.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from rasa.core.channels.channel import register
from rasa.server import create_app
from sanic import Sanic

from connectors.dedupe import MemoryDedupe
from connectors.telegram import TelegramInput
from tests.emulators import Call, Emulator, free_port
from tests.servers import agent_for

TOKEN = "7000000001:AAHe2ePaymentsTOKENtestTOKEN"
SECRET = "e2e-payments-secret"
chats = itertools.count(555000200)


def telegram_reply(call: Call) -> dict[str, Any]:
    return {"ok": True, "result": {"message_id": 1, "date": 1718000010}}


@dataclass
class Stack:
    """Rasa's HTTP API with the Telegram channel, and the Telegram emulator."""

    rasa_url: str
    actions_port: int
    telegram: Emulator

    def sent(self, chat: int) -> list[str]:
        """The texts Telegram accepted for ``chat`` (refused calls excluded)."""
        return [
            c.json["text"]
            for c in list(self.telegram.calls)
            if c.path.endswith("/sendMessage")
            and c.json.get("chat_id") == chat
            and c.status < 400
        ]


class _Background:
    """An event loop in a thread, for servers that outlive one test's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def _start_emulator(emulator: Emulator) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", emulator._handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    emulator.url = f"http://127.0.0.1:{port}"
    return runner


async def _start_rasa(app: Sanic, port: int) -> Any:
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    return server


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    background = _Background()
    telegram = Emulator(telegram_reply)
    runner = background.run(_start_emulator(telegram))
    actions_port, rasa_port = free_port(), free_port()
    agent = agent_for(f"http://127.0.0.1:{actions_port}/webhook")
    channel = TelegramInput(TOKEN, SECRET, api_url=telegram.url, dedupe=MemoryDedupe())
    app = create_app(agent=agent)
    register([channel], app, route="/webhooks/")
    app.ctx.input_channels = [channel]  # what `rasa run` sets for output_channel
    server = background.run(_start_rasa(app, rasa_port))
    try:
        yield Stack(f"http://127.0.0.1:{rasa_port}", actions_port, telegram)
    finally:
        background.run(server.before_stop())
        server.close()
        background.run(server.wait_closed())
        background.run(server.after_stop())
        background.run(runner.cleanup())
        background.stop()
        Sanic._app_registry.pop(app.name, None)


async def write(stack: Stack, chat: int, text: str) -> list[str]:
    """The shopper's Telegram message; the bot's replies to it (in order)."""
    before = len(stack.sent(chat))
    update = {
        "update_id": next(chats) * 10,
        "message": {
            "message_id": 101,
            "from": {"id": chat, "is_bot": False, "first_name": "Анна",
                     "language_code": "ru"},
            "chat": {"id": chat, "first_name": "Анна", "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": SECRET,
    }
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
        session.post(
            f"{stack.rasa_url}/webhooks/telegram/webhook",
            data=json.dumps(update),
            headers=headers,
        ) as response,
    ):
        assert response.status == 200, await response.text()
    return stack.sent(chat)[before:]


async def wait_for_text(
    stack: Stack, chat: int, needle: re.Pattern[str], seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(needle.search(text) for text in stack.sent(chat)):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{needle!r} never sent; sent: {stack.sent(chat)}")
