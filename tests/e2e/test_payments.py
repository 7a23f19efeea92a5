"""Paying inside the dialog with each real provider, end to end.

The shopper writes from Telegram (a Telegram Bot API emulator) to the trained agent
behind Rasa's own HTTP API (``rasa.server.create_app`` with the Telegram channel,
as ``rasa run --enable-api`` serves it); the real action server (a process)
creates the link at a provider emulator; the emulator "pays" and sends its signed
notification to the action server's ``POST /payments/<provider>/webhook`` twice;
the action server verifies it, settles it once and asks Rasa
(``trigger_intent EXTERNAL_payment_received``, ``output_channel=latest``) to tell
the shopper, whose "paid" message must arrive at the Telegram emulator exactly
once.

The agent and Rasa's HTTP server are loaded once for the module (about 20 s) and
served from a background thread; each test starts its own action server on the
same port (the agent's action endpoint) with only its provider configured.
Needs the trained model (``make train``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from rasa.core.channels.channel import register
from rasa.server import create_app
from sanic import Sanic

from actions.integrations.demo_store import demo_phone
from connectors.dedupe import MemoryDedupe
from connectors.telegram import TelegramInput
from tests import servers
from tests.actions.payments.provider_emulators import (
    Notification,
    ProviderApi,
    SberApi,
    StripeApi,
    TBankApi,
    YooKassaApi,
    deliver,
)
from tests.emulators import Call, Emulator, free_port
from tests.servers import agent_for

TOKEN = "7000000001:AAHe2ePaymentsTOKENtestTOKEN"
SECRET = "e2e-payments-secret"
# The "paid" message, in the shopper's language (Russian here): the triggered
# intent's own text ("EXTERNAL: EXTERNAL_payment_received") never decides it.
PAID = re.compile(r"^Оплата заказа A-10240 получена")
# Any "paid" message at all, for checks that none was sent.
ANY_PAID = re.compile(r"^(Оплата заказа A-10240 получена|Payment for order A-10240)")
_chats = itertools.count(555000200)


def telegram_reply(call: Call) -> dict[str, Any]:
    return {"ok": True, "result": {"message_id": 1, "date": 1718000010}}


@dataclass
class Stack:
    """Rasa's HTTP API with the Telegram channel, and the Telegram emulator."""

    rasa_url: str
    actions_port: int
    telegram: Emulator

    def sent(self, chat: int) -> list[str]:
        return [
            c.json["text"]
            for c in list(self.telegram.calls)
            if c.path.endswith("/sendMessage") and c.json.get("chat_id") == chat
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
        "update_id": next(_chats) * 10,
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


@contextmanager
def action_server(data_dir: Path, env: dict[str, str]) -> Iterator[None]:
    """``python -m actions.server`` on ``EASYFLOW_ACTIONS_PORT`` (the agent's)."""
    with servers.action_server(data_dir, env):
        yield


def _env(stack: Stack, api: ProviderApi, url: str) -> dict[str, str]:
    return {
        "EASYFLOW_ACTIONS_PORT": str(stack.actions_port),
        "EASYFLOW_PUBLIC_URL": f"http://127.0.0.1:{stack.actions_port}",
        "EASYFLOW_RASA_URL": stack.rasa_url,
        "EASYFLOW_PAYMENT_PROVIDER": api.name,
        **api.env(url),
    }


def _payment_id(api: ProviderApi) -> str:
    ids = {
        YooKassaApi: lambda: list(api.payments),  # type: ignore[union-attr]
        TBankApi: lambda: list(api.payments),  # type: ignore[union-attr]
        SberApi: lambda: list(api.orders),  # type: ignore[union-attr]
        StripeApi: lambda: list(api.sessions),  # type: ignore[union-attr]
    }[type(api)]()
    assert len(ids) == 1, ids
    return ids[0]


def _webhook_url(stack: Stack, api: ProviderApi, payment_id: str) -> str:
    if isinstance(api, TBankApi):  # T-Bank posts to the Init's NotificationURL
        return api.notification_url(payment_id)
    return f"http://127.0.0.1:{stack.actions_port}/payments/{api.name}/webhook"


# The last 4 digits of the phone on demo order A-10240 (order privacy).
LAST4 = re.sub(r"\D", "", demo_phone("A-10240"))[-4:]

PROVIDERS = {
    "yookassa": (YooKassaApi, ""),
    "tbank": (TBankApi, "OK"),
    "sber": (SberApi, "OK"),
    "stripe": (StripeApi, ""),
}
LINKS = {
    "yookassa": r"https://yoomoney\.ru/checkout/payments/v2/contract\?orderId=\S+",
    "tbank": r"https://securepay\.tinkoff\.ru/new/\d+",
    "sber": r"https://3dsec\.sberbank\.ru/payment/merchants/test/\S+",
    "stripe": r"https://checkout\.stripe\.com/c/pay/cs_test_\w+",
}


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_pay_in_the_dialog_then_told_once(
    provider: str, stack: Stack, emulator_factory: Any, tmp_path: Path
) -> None:
    api_class, acknowledgement = PROVIDERS[provider]
    api = api_class()
    emulator = await emulator_factory(api)
    chat = next(_chats)
    with action_server(tmp_path, env=_env(stack, api, emulator.url)):
        asked = await write(stack, chat, "оплатить заказ A-10240")
        assert any("4 цифры" in text for text in asked), asked  # order privacy
        started = time.monotonic()
        replies = await write(stack, chat, LAST4)
        link_s = time.monotonic() - started
        link = re.search(LINKS[provider], "\n".join(replies))
        assert link and "Ссылка на оплату заказа A-10240" in replies[-1], replies
        assert "8" in replies[-1] and "990" in replies[-1]  # 8 990 ₽
        payment_id = _payment_id(api)
        assert payment_id in link.group(0)

        notification: Notification = api.pay(payment_id)
        url = _webhook_url(stack, api, payment_id)
        first = await deliver(url, notification)
        again = await deliver(url, notification)  # the provider's retry
        assert first == (200, acknowledgement) == again, (first, again)

        await wait_for_text(stack, chat, PAID, seconds=15)
        await asyncio.sleep(1.0)  # room for a second, wrong message
        told = [t for t in stack.sent(chat) if PAID.search(t)]
        assert len(told) == 1, stack.sent(chat)

        status = await write(stack, chat, "где мой заказ A-10240")
        assert any("оплачен и собирается" in text for text in status), status
        log = (tmp_path / "actions.log").read_text()
    assert link_s < 10
    assert "payments.paid" in log and "payments.shopper_told" in log
    assert log.count("payments.shopper_told") == 1


async def test_forged_notification_changes_nothing(
    stack: Stack, emulator_factory: Any, tmp_path: Path
) -> None:
    api = StripeApi()
    emulator = await emulator_factory(api)
    chat = next(_chats)
    with action_server(tmp_path, env=_env(stack, api, emulator.url)):
        await write(stack, chat, "оплатить заказ A-10240")
        await write(stack, chat, LAST4)
        genuine = api.pay(_payment_id(api))
        forged = Notification(
            genuine.body,
            {**genuine.headers, "Stripe-Signature": "t=1,v1=" + "0" * 64},
        )
        status, _ = await deliver(_webhook_url(stack, api, ""), forged)
        assert status == 400 or status == 403
        await asyncio.sleep(1.0)
        assert not any(ANY_PAID.search(t) for t in stack.sent(chat))
        status_replies = await write(stack, chat, "где мой заказ A-10240")
    assert any("ждёт оплаты" in t for t in status_replies), status_replies


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_slow_or_failing_provider_still_gets_an_answer(
    provider: str, stack: Stack, emulator_factory: Any, tmp_path: Path
) -> None:
    api = PROVIDERS[provider][0]()
    emulator = await emulator_factory(api)
    chat = next(_chats)
    unavailable = [
        "Не получилось создать ссылку на оплату. Попробуйте через несколько минут."
    ]
    with action_server(tmp_path, env=_env(stack, api, emulator.url)):
        emulator.delay_s = 30  # slow: no answer within the budget
        await write(stack, chat, "оплатить заказ A-10240")
        started = time.monotonic()
        slow = await write(stack, chat, LAST4)
        slow_s = time.monotonic() - started
        emulator.delay_s = 0
        for _ in range(10):  # failing: 503 on every attempt
            emulator.fail_next(503, {"error": "Service Unavailable"})
        started = time.monotonic()
        failing = await write(stack, chat, "оплатить заказ A-10240")
        failing_s = time.monotonic() - started
    assert slow == unavailable and failing == unavailable, (slow, failing)
    assert slow_s < 5 and failing_s < 5, (slow_s, failing_s)
    assert len(emulator.calls) >= 3  # one slow attempt, then retried 503s
