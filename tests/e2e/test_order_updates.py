"""Order updates end to end: a Telegram shopper asks about a demo order, says yes
to updates, the shop moves the order on (``POST /orders/demo/<id>/state`` on the
real action server), and the update reaches the Telegram emulator exactly once, in
the shopper's language; "стоп" stops the next one.

Rasa's HTTP API with the Telegram channel and the emulator come from
``tests/e2e/telegram_stack.py``; the action server is a real process. Needs the
trained model (``make train``).
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from actions.integrations.demo_store import demo_phone
from tests import servers
from tests.e2e.telegram_stack import Stack, chats, wait_for_text, write

ORDER = "3728419056"  # processing (Wildberries-style number in the demo store)
LAST4 = re.sub(r"\D", "", demo_phone(ORDER))[-4:]
OFFER = "Сообщать вам, когда статус заказа 3728419056 изменится?"
SHIPPED = re.compile(r"^Заказ 3728419056 в пути \(.*TRACK-E2E-1")
ANY_UPDATE = re.compile(
    r"Заказ 3728419056 (в пути|доставлен|ждёт вас)|Order 3728419056"
)


def _env(stack: Stack) -> dict[str, str]:
    return {
        "EASYFLOW_ACTIONS_PORT": str(stack.actions_port),
        "EASYFLOW_RASA_URL": stack.rasa_url,
        "EASYFLOW_QUIET_HOURS": "off",
    }


def _move(
    stack: Stack, state: str, token: str | None = servers.ACTION_TOKEN, **extra: Any
) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"state": state, **extra}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.actions_port}/orders/demo/{ORDER}/state",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


async def move(stack: Stack, state: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    return await asyncio.to_thread(_move, stack, state, **kwargs)


def updates(stack: Stack, chat: int) -> list[str]:
    return [text for text in stack.sent(chat) if ANY_UPDATE.search(text)]


async def test_an_opted_in_shopper_is_told_once_and_stop_stops_it(
    stack: Stack, tmp_path: Path
) -> None:
    chat, bystander = next(chats), next(chats)
    with servers.action_server(tmp_path, env=_env(stack)):
        await write(stack, chat, f"где мой заказ {ORDER}")
        replies = await write(stack, chat, LAST4)
        assert replies[-1] == OFFER, replies
        said = await write(stack, chat, "да")
        assert any("изменится" in t and "стоп" in t for t in said), said
        # Someone who only knows the number never got the offer, so is not told.
        await write(stack, bystander, f"где мой заказ {ORDER}")

        # Without the action token the shop's route changes nothing.
        assert (await move(stack, "shipped", token=None))[0] == 401
        assert (await move(stack, "teleported"))[0] == 400
        status, body = await move(stack, "shipped", tracking_number="TRACK-E2E-1")
        assert (status, body["told"]) == (200, 1), body
        await wait_for_text(stack, chat, SHIPPED, seconds=15)
        again = await move(stack, "shipped")  # the shop reports it again
        assert again[1]["told"] == 0
        await asyncio.sleep(1.0)  # room for a second, wrong message
        assert len(updates(stack, chat)) == 1, stack.sent(chat)
        assert any("«стоп»" in t for t in stack.sent(chat))
        assert updates(stack, bystander) == []

        stopped = await write(stack, chat, "стоп")
        assert any("больше не буду присылать" in t for t in stopped), stopped
        status, body = await move(stack, "delivered")
        assert (status, body["told"]) == (200, 0), body
        await asyncio.sleep(1.0)
        assert len(updates(stack, chat)) == 1, stack.sent(chat)
        log = (tmp_path / "actions.log").read_text()
    assert log.count("orders.update_told") == 1
    assert "orders.updates_stopped" in log


async def test_an_update_sent_while_telegram_is_down_arrives_once_when_it_is_back(
    stack: Stack, tmp_path: Path
) -> None:
    """Telegram refuses every call while the update goes out: Rasa answers 500
    without saving the turn, the action server keeps the notice and tries it
    again; once Telegram is back the shopper gets the update exactly once."""
    chat = next(chats)
    with servers.action_server(tmp_path, env=_env(stack)):
        await write(stack, chat, f"где мой заказ {ORDER}")
        assert (await write(stack, chat, LAST4))[-1] == OFFER
        await write(stack, chat, "да")

        for _ in range(200):  # down: every call answered 502
            stack.telegram.fail_next(502, {"ok": False, "description": "Bad Gateway"})
        status, body = await move(stack, "shipped", tracking_number="TRACK-E2E-1")
        assert (status, body["told"]) == (200, 0), body  # queued, not told
        await asyncio.sleep(2.0)
        assert updates(stack, chat) == []
        stack.telegram.scripted.clear()  # back

        await wait_for_text(stack, chat, SHIPPED, seconds=30)
        await asyncio.sleep(6.0)  # room for a second retry, which must not come
        assert len(updates(stack, chat)) == 1, stack.sent(chat)
        log = (tmp_path / "actions.log").read_text()
    assert "orders.update_failed" in log and log.count("orders.update_told") == 1
