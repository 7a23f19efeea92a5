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
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from actions.integrations.demo_store import demo_phone
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
from tests.e2e.telegram_stack import Stack, chats, wait_for_text, write

# The "paid" message, in the shopper's language (Russian here): the triggered
# intent's own text ("EXTERNAL: EXTERNAL_payment_received") never decides it.
PAID = re.compile(r"^Оплата заказа A-10240 получена")
# Any "paid" message at all, for checks that none was sent.
ANY_PAID = re.compile(r"^(Оплата заказа A-10240 получена|Payment for order A-10240)")


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
    chat = next(chats)
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
    chat = next(chats)
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
    chat = next(chats)
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
