"""Proactive messages are strict, replies are not: when the platform refuses,
the output Rasa's ``trigger_intent`` uses raises (so the sender keeps the notice
and tries again), while replies to a shopper's message log the failure and go on
with the next one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from common.http import PlatformError
from tests.connectors import test_telegram as telegram
from tests.connectors import test_viber as viber
from tests.connectors import test_vk as vk
from tests.connectors import test_whatsapp as whatsapp
from tests.emulators import Emulator

PLATFORMS: dict[str, tuple[Callable[..., Any], Callable[[Emulator], Any], str]] = {
    "telegram": (telegram.telegram_reply, telegram.channel, "telegram:555000111"),
    "vk": (vk.vk_reply, vk.channel, "vk:2000000001"),
    "viber": (viber.viber_reply, viber.channel, "viber:01234567890A="),
    "whatsapp": (whatsapp.graph_reply, whatsapp.channel, "whatsapp:79161234567"),
}


@pytest.mark.parametrize("platform", list(PLATFORMS))
async def test_a_refused_proactive_message_raises_and_a_reply_does_not(
    emulator_factory: Any, platform: str
) -> None:
    reply, make_channel, recipient = PLATFORMS[platform]
    emulator: Emulator = await emulator_factory(reply)
    channel = make_channel(emulator)
    for _ in range(20):  # every try of both sends refused
        emulator.fail_next(400, {"ok": False, "error": "refused"})

    with pytest.raises(PlatformError):
        await channel.get_output_channel().send_text_message(recipient, "Заказ в пути")
    calls = len(emulator.calls)
    await channel.reply_output().send_text_message(recipient, "Здравствуйте!")
    assert len(emulator.calls) > calls  # tried, failed, logged, no exception
    assert channel.get_output_channel() is channel.get_output_channel()
    assert channel.reply_output() is not channel.get_output_channel()
