"""``python -m connectors setup`` against platform emulators."""

from pathlib import Path
from typing import Any

import pytest

from common.http import PlatformError
from connectors.base import ConfigError
from connectors.setup import load_credentials, main, setup_telegram, setup_viber
from tests.connectors.conftest import Call


async def test_telegram_webhook_is_set_with_the_secret(emulator_factory: Any) -> None:
    telegram = await emulator_factory(lambda call: {"ok": True, "result": True})
    message = await setup_telegram(
        {
            "token": "123:ABC",
            "secret_token": "s3cret",
            "webhook_url": "https://bot.example/webhooks/telegram/webhook",
            "api_url": telegram.url,
        }
    )
    assert "https://bot.example/webhooks/telegram/webhook" in message
    (call,) = telegram.calls
    assert call.path == "/bot123:ABC/setWebhook"
    assert call.json == {
        "url": "https://bot.example/webhooks/telegram/webhook",
        "secret_token": "s3cret",
        "allowed_updates": ["message", "callback_query"],
    }


async def test_viber_webhook_is_set(emulator_factory: Any) -> None:
    def reply(call: Call) -> dict[str, Any]:
        return {"status": 0, "status_message": "ok", "event_types": []}

    viber = await emulator_factory(reply)
    await setup_viber(
        {
            "auth_token": "tok",
            "webhook_url": "https://bot.example/v",
            "api_url": viber.url,
        }
    )
    (call,) = viber.calls
    assert call.path == "/pa/set_webhook"
    assert call.headers["X-Viber-Auth-Token"] == "tok"


async def test_platform_refusal_is_reported(emulator_factory: Any) -> None:
    viber = await emulator_factory(lambda call: {"status": 2, "status_message": "bad"})
    with pytest.raises(PlatformError):
        await setup_viber({"auth_token": "t", "webhook_url": "u", "api_url": viber.url})


def test_missing_value_names_the_key(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "credentials.yml"
    path.write_text(
        "connectors.telegram.TelegramInput:\n"
        "  token: ${TEST_TG_TOKEN}\n"
        "  secret_token: abc\n"
    )
    monkeypatch.setenv("TEST_TG_TOKEN", "42:XYZ")
    assert load_credentials(path, "telegram")["token"] == "42:XYZ"
    with pytest.raises(ConfigError, match="telegram.webhook_url"):
        import asyncio

        asyncio.run(setup_telegram(load_credentials(path, "telegram")))
    assert main(["setup", "telegram", "--credentials", str(path)]) == 1


def test_console_channels_print_their_steps(capsys: Any) -> None:
    assert main(["setup", "whatsapp", "--url", "https://bot.example/w"]) == 0
    assert "https://bot.example/w" in capsys.readouterr().out
