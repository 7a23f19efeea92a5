"""The two Bot API calls that connect a bot: ``getMe`` (is the token valid) and
``setWebhook`` (send updates here, with this secret token). Shared by
``python -m connectors setup telegram`` and the dashboard's check of a Telegram
integration (actions/live_integrations/clients.py)."""

from __future__ import annotations

from typing import Any

from common.http import PlatformClient, PlatformError

API_URL = "https://api.telegram.org"
ALLOWED_UPDATES = ["message", "callback_query"]


async def _call(api_url: str, token: str, method: str, body: dict) -> Any:
    client = PlatformClient("telegram", api_url or API_URL)
    try:
        result = await client.post(f"/bot{token}/{method}", json=body)
    finally:
        await client.close()
    if not (isinstance(result, dict) and result.get("ok")):
        raise PlatformError("telegram", 200, str(result))
    return result.get("result")


async def get_me(api_url: str, token: str) -> dict[str, Any]:
    """The bot's own user (``username``); ``PlatformError`` 401 for a bad token."""
    me = await _call(api_url, token, "getMe", {})
    return me if isinstance(me, dict) else {}


async def set_webhook(
    api_url: str, token: str, webhook_url: str, secret_token: str
) -> None:
    """Telegram posts updates to ``webhook_url`` with ``secret_token`` in the
    ``X-Telegram-Bot-Api-Secret-Token`` header."""
    await _call(
        api_url,
        token,
        "setWebhook",
        {
            "url": webhook_url,
            "secret_token": secret_token,
            "allowed_updates": ALLOWED_UPDATES,
        },
    )
