"""The one authenticated call that checks a messenger's credentials saved on
the dashboard, and Viber's ``set_webhook``: VK ``groups.getById``, WhatsApp
Graph ``GET /<version>/<phone_number_id>``, Viber ``get_account_info``. Kept
free of Rasa so the action server (actions/live_integrations/clients.py) can
make them; the connectors make the same requests (connectors/vk.py,
whatsapp.py, viber.py). A refusal raises ``PlatformError`` with the platform's
answer, whose own words the check shows the merchant; the token is never in
a URL (VK takes it as a form field, Graph and Viber in a header)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from common.http import PlatformClient, PlatformError

VK_API_URL = "https://api.vk.com"
VK_API_VERSION = "5.199"
GRAPH_API_URL = "https://graph.facebook.com"
GRAPH_API_VERSION = "v21.0"
VIBER_API_URL = "https://chatapi.viber.com"
VIBER_AUTH_HEADER = "X-Viber-Auth-Token"


async def vk_group(api_url: str, token: str) -> dict[str, Any]:
    """The community a community token belongs to (``id``, ``name``);
    ``PlatformError`` with VK's ``{"error": …}`` for a refused token."""
    client = PlatformClient("vk", api_url or VK_API_URL)
    try:
        result = await client.post(
            "/method/groups.getById", data={"access_token": token, "v": VK_API_VERSION}
        )
    finally:
        await client.close()
    if not isinstance(result, dict) or "response" not in result:
        raise PlatformError("vk", 200, json.dumps(result, ensure_ascii=False))
    found = result["response"]
    # API 5.194+ answers {"groups": [...]}; older versions a bare list.
    groups = found.get("groups") if isinstance(found, dict) else found
    if not isinstance(groups, list) or not groups or not isinstance(groups[0], dict):
        raise PlatformError("vk", 200, json.dumps(result, ensure_ascii=False))
    return groups[0]


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Graph's proof that the caller holds the App Secret: HMAC-SHA256 of the
    token keyed with the secret, hex. Graph refuses a wrong one, so the check
    also catches an App Secret that would fail every webhook signature."""
    return hmac.new(
        app_secret.encode(), access_token.encode(), hashlib.sha256
    ).hexdigest()


async def whatsapp_number(
    api_url: str, access_token: str, app_secret: str, phone_number_id: str
) -> dict[str, Any]:
    """The business phone number (``display_phone_number``, ``verified_name``)."""
    client = PlatformClient("whatsapp", api_url or GRAPH_API_URL)
    try:
        result = await client.get(
            f"/{GRAPH_API_VERSION}/{phone_number_id}",
            params={
                "fields": "display_phone_number,verified_name",
                "appsecret_proof": appsecret_proof(access_token, app_secret),
            },
            headers={"Authorization": f"Bearer {access_token}"},
        )
    finally:
        await client.close()
    return result if isinstance(result, dict) else {}


async def _viber(api_url: str, token: str, method: str, body: dict) -> dict:
    client = PlatformClient("viber", api_url or VIBER_API_URL)
    try:
        result = await client.post(
            f"/pa/{method}", json=body, headers={VIBER_AUTH_HEADER: token}
        )
    finally:
        await client.close()
    if not (isinstance(result, dict) and result.get("status") == 0):
        raise PlatformError("viber", 200, json.dumps(result, ensure_ascii=False))
    return result


async def viber_account(api_url: str, token: str) -> dict[str, Any]:
    """The bot's account (``name``, ``uri``); Viber answers a wrong token with
    ``{"status": 2, "status_message": "invalidAuthToken"}``."""
    return await _viber(api_url, token, "get_account_info", {})


async def viber_set_webhook(api_url: str, token: str, webhook_url: str) -> None:
    """Viber posts a ``webhook`` event to the address and registers it once
    that gets a 200 (connectors/viber.py answers it)."""
    await _viber(api_url, token, "set_webhook", {"url": webhook_url, "send_name": True})
