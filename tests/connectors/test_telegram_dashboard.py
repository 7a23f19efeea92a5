"""Telegram connected on the dashboard: the connector (``from_dashboard: true``)
takes the token and the webhook secret from the api's feed while running,
against a Bot API emulator and the real agent. The feed itself (the api's
sealing, the action token, ETag) is tested in api/tests/test_integrations.py and
through the action server in tests/e2e/test_live_integrations.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa.core.agent import Agent

from common.secretbox import Keyring, new_key_text, parse_key
from common.settings import SettingsError
from connectors.telegram import TelegramInput
from tests.connectors.conftest import Emulator, rasa_app
from tests.connectors.test_telegram import post, telegram_reply, text_update

FIRST = ("7000000001:AAH-first-token", "first_webhook-secret-0123456789")
SECOND = ("7000000001:AAH-second-token", "second_webhook-secret-987654321")


@pytest.fixture
async def telegram(emulator_factory: Any) -> Emulator:
    return await emulator_factory(telegram_reply)


def entry(keyring: Keyring, version: int, credentials: tuple[str, str], api: str):
    token, secret = credentials
    sealed = keyring.seal(
        json.dumps({"TELEGRAM_TOKEN": token, "TELEGRAM_SECRET_TOKEN": secret}).encode(),
        "integration:telegram",
    )
    return {
        "kind": "telegram",
        "category": "channels",
        "version": version,
        "settings": {
            "TELEGRAM_API_URL": api,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example/webhooks/telegram/webhook",
        },
        "secrets": sealed,
    }


async def test_the_connector_picks_up_a_new_token_without_a_restart(
    telegram: Emulator, agent: Agent
) -> None:
    key = new_key_text()
    keyring = Keyring(parse_key(key, "k"))
    env = {
        "EASYFLOW_API_URL": "http://127.0.0.1:9",
        "EASYFLOW_ACTION_TOKEN": "action-token",
        "EASYFLOW_SECRETS_KEY": key,
    }
    channel = TelegramInput.from_dashboard({"from_dashboard": True}, env)
    app = rasa_app(channel, agent)
    assert channel.live is not None
    # Nothing connected yet: every update is refused.
    assert (await post(app, text_update("привет", 555000201), FIRST[1])).status == 403
    assert (await post(app, text_update("привет", 555000201), "")).status == 403

    channel.live.apply([entry(keyring, 1, FIRST, telegram.url)])
    assert (await post(app, text_update("привет", 555000201), FIRST[1])).status == 200
    assert telegram.calls[-1].path == f"/bot{FIRST[0]}/sendMessage"

    # The merchant saves and checks a new token: the old secret stops working,
    # the same conversation goes on with the new bot token.
    channel.live.apply([entry(keyring, 2, SECOND, telegram.url)])
    calls = len(telegram.calls)
    assert (await post(app, text_update("спасибо", 555000201), FIRST[1])).status == 403
    assert len(telegram.calls) == calls
    assert (await post(app, text_update("спасибо", 555000201), SECOND[1])).status == 200
    assert telegram.calls[-1].path == f"/bot{SECOND[0]}/sendMessage"
    assert channel.get_output_channel().token == SECOND[0]

    # A version sealed with a key this process does not have changes nothing.
    other = Keyring(parse_key(new_key_text(), "k"))
    channel.live.apply([entry(other, 3, FIRST, telegram.url)])
    assert channel.token == SECOND[0]

    channel.live.apply([])  # disabled on the dashboard
    assert (await post(app, text_update("ау", 555000201), SECOND[1])).status == 403


def test_from_dashboard_names_what_is_missing() -> None:
    with pytest.raises(SettingsError, match="EASYFLOW_API_URL"):
        TelegramInput.from_dashboard({"from_dashboard": True}, {})
    with pytest.raises(SettingsError, match="EASYFLOW_ACTION_TOKEN"):
        TelegramInput.from_dashboard(
            {"from_dashboard": True}, {"EASYFLOW_API_URL": "http://api:8000"}
        )
    with pytest.raises(SettingsError, match="EASYFLOW_SECRETS_KEY"):
        TelegramInput.from_dashboard(
            {"from_dashboard": True},
            {
                "EASYFLOW_API_URL": "http://api:8000",
                "EASYFLOW_ACTION_TOKEN": "t",
                "EASYFLOW_ENV": "production",
            },
        )
