"""Registers the assistant's webhook with a platform, from credentials.yml.

    python -m connectors setup telegram   # calls setWebhook with the secret token
    python -m connectors setup viber      # calls set_webhook
    python -m connectors setup vk|whatsapp|alice   # prints the console steps

Credentials come from credentials.yml, where ``${VAR}`` values are read from the
environment (as ``rasa run`` reads them).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from common.http import PlatformClient, PlatformError
from common.telegram_bot import API_URL, set_webhook
from connectors.base import ConfigError, require

CLASS_PATHS = {
    "telegram": "connectors.telegram.TelegramInput",
    "viber": "connectors.viber.ViberInput",
    "vk": "connectors.vk.VKInput",
    "whatsapp": "connectors.whatsapp.WhatsAppInput",
    "alice": "connectors.alice.AliceInput",
}

CONSOLE_STEPS = {
    "vk": (
        "VK has no API call for this here: in the community's Manage → API usage → "
        "Callback API, add the server {url}, choose API version 5.199, set the secret "
        "key to `secret` and copy the confirmation string to `confirmation` in "
        "credentials.yml; enable the event 'Message received'."
    ),
    "whatsapp": (
        "In Meta for Developers → your app → WhatsApp → Configuration, set the "
        "callback URL to {url} and the verify token to `verify_token`, then "
        "subscribe the webhook field 'messages'."
    ),
    "alice": (
        "In the Yandex Dialogs console (dialogs.yandex.ru/developer), set the skill's "
        "Webhook URL to {url} and copy the skill id to `skill_id`."
    ),
}


def load_credentials(path: Path, channel: str) -> dict[str, Any]:
    from rasa.shared.utils.io import read_yaml_file

    content = read_yaml_file(path) or {}
    credentials = content.get(CLASS_PATHS[channel])
    if credentials is None:
        raise ConfigError(f"{path}: no `{CLASS_PATHS[channel]}` section")
    return dict(credentials)


async def setup_telegram(credentials: dict[str, Any]) -> str:
    require(credentials, "telegram", "token", "secret_token", "webhook_url")
    await set_webhook(
        str(credentials.get("api_url") or API_URL),
        str(credentials["token"]),
        str(credentials["webhook_url"]),
        str(credentials["secret_token"]),
    )
    return f"Telegram webhook set to {credentials['webhook_url']}"


async def setup_viber(credentials: dict[str, Any]) -> str:
    require(credentials, "viber", "auth_token", "webhook_url")
    client = PlatformClient(
        "viber", str(credentials.get("api_url") or "https://chatapi.viber.com")
    )
    try:
        result = await client.post(
            "/pa/set_webhook",
            json={"url": credentials["webhook_url"], "send_name": True},
            headers={"X-Viber-Auth-Token": str(credentials["auth_token"])},
        )
    finally:
        await client.close()
    if not (isinstance(result, dict) and result.get("status") == 0):
        raise PlatformError("viber", 200, str(result))
    return f"Viber webhook set to {credentials['webhook_url']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors")
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("setup", help="register the webhook with a platform")
    setup.add_argument("channel", choices=sorted(CLASS_PATHS))
    setup.add_argument("--credentials", type=Path, default=Path("credentials.yml"))
    setup.add_argument(
        "--url", help="public webhook URL (for the printed console steps)", default=""
    )
    args = parser.parse_args(argv)
    try:
        if args.channel in CONSOLE_STEPS:
            url = args.url or f"https://<your-host>/webhooks/{args.channel}/webhook"
            print(CONSOLE_STEPS[args.channel].format(url=url))
            return 0
        credentials = load_credentials(args.credentials, args.channel)
        runner = setup_telegram if args.channel == "telegram" else setup_viber
        print(asyncio.run(runner(credentials)))
        return 0
    except (ConfigError, PlatformError) as error:
        print(f"setup failed: {error}", file=sys.stderr)
        return 1
