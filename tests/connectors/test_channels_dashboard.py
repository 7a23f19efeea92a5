"""VK, WhatsApp, Viber and Alice connected on the dashboard: each connector
(``from_dashboard: true``) takes its credentials from the api's feed while
running, against the platform emulators and the real agent, and refuses every
callback until then and once the integration is disabled. As
test_telegram_dashboard.py does for Telegram; the checks themselves are in
tests/actions/test_live_integrations.py, the api's side in
api/tests/test_integrations.py."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from rasa.core.agent import Agent

from common.secretbox import Keyring, new_key_text, parse_key
from common.security import hmac_sha256_hex
from common.settings import SettingsError
from connectors.alice import AliceInput
from connectors.viber import ViberInput
from connectors.vk import VKInput
from connectors.whatsapp import WhatsAppInput
from tests.connectors import test_alice, test_viber, test_vk, test_whatsapp
from tests.connectors.conftest import Emulator, rasa_app

KEY = new_key_text()
KEYRING = Keyring(parse_key(KEY, "k"))
ENV = {
    "EASYFLOW_API_URL": "http://127.0.0.1:9",
    "EASYFLOW_ACTION_TOKEN": "action-token",
    "EASYFLOW_SECRETS_KEY": KEY,
}


def entry(
    kind: str, version: int, secrets: dict[str, str], settings: dict[str, str]
) -> dict[str, Any]:
    """One entry of the api's feed, its secrets sealed as the api seals them."""
    sealed = KEYRING.seal(json.dumps(secrets).encode(), f"integration:{kind}")
    return {
        "kind": kind,
        "category": "channels",
        "version": version,
        "settings": settings,
        "secrets": sealed,
    }


def never_logged(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    """Nothing the process logs holds a secret (httpx logs the test client's
    own requests, the verification's query string with the verify token)."""
    logged = " ".join(
        str(record.__dict__)
        for record in caplog.records
        if not record.name.startswith("httpx")
    )
    for secret in secrets:
        assert secret not in logged


# --- VK -----------------------------------------------------------------------

VK_FIRST = ("vk1.a.first-community-token", "first-Callback-secret", "c0ffee01")
VK_SECOND = ("vk1.a.second-community-token", "second-Callback-secret", "c0ffee02")


def vk_entry(version: int, values: tuple[str, str, str], api: str) -> dict:
    token, secret, confirmation = values
    return entry(
        "vk",
        version,
        {"VK_TOKEN": token, "VK_SECRET": secret},
        {
            "VK_GROUP_ID": str(test_vk.GROUP),
            "VK_CONFIRMATION": confirmation,
            "VK_API_URL": api,
        },
    )


async def test_vk_picks_up_new_credentials_and_refuses_all_while_disabled(
    emulator_factory: Any, agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    vk: Emulator = await emulator_factory(test_vk.vk_reply)
    channel = VKInput.from_dashboard({"from_dashboard": True}, ENV)
    assert channel.live is not None
    app = rasa_app(channel, agent)
    confirm = {"type": "confirmation", "group_id": test_vk.GROUP}
    peer = 555000301
    # Nothing connected yet: the confirmation and every event are refused.
    assert (await test_vk.post(app, confirm)).status == 403
    event = test_vk.message_event("привет", peer, secret=VK_FIRST[1])
    assert (await test_vk.post(app, event)).status == 403
    assert vk.calls == []

    channel.live.apply([vk_entry(1, VK_FIRST, vk.url)])
    answered = await test_vk.post(app, confirm)
    assert (answered.status, answered.text) == (200, VK_FIRST[2])
    assert (await test_vk.post(app, event)).status == 200
    assert vk.calls[-1].form["access_token"] == VK_FIRST[0]

    # New token and secret saved and checked: the old secret stops working.
    channel.live.apply([vk_entry(2, VK_SECOND, vk.url)])
    calls = len(vk.calls)
    old = test_vk.message_event("спасибо", peer, secret=VK_FIRST[1])
    assert (await test_vk.post(app, old)).status == 403
    assert len(vk.calls) == calls
    new = test_vk.message_event("спасибо", peer, secret=VK_SECOND[1])
    assert (await test_vk.post(app, new)).status == 200
    assert vk.calls[-1].form["access_token"] == VK_SECOND[0]
    assert channel.get_output_channel().token == VK_SECOND[0]

    channel.live.apply([])  # disabled on the dashboard
    again = test_vk.message_event("ау", peer, secret=VK_SECOND[1])
    assert (await test_vk.post(app, again)).status == 403
    assert (await test_vk.post(app, confirm)).status == 403
    never_logged(caplog, *VK_FIRST[:2], *VK_SECOND[:2])


# --- WhatsApp -----------------------------------------------------------------

WA_FIRST = ("EAAG-first-access-token", "first0app0secret0123456789abcdef", "vt-1")
WA_SECOND = ("EAAG-second-access-token", "second0app0secret0123456789abcd", "vt-2")


def wa_entry(version: int, values: tuple[str, str, str], api: str) -> dict:
    token, app_secret, verify = values
    return entry(
        "whatsapp",
        version,
        {
            "WHATSAPP_ACCESS_TOKEN": token,
            "WHATSAPP_APP_SECRET": app_secret,
            "WHATSAPP_VERIFY_TOKEN": verify,
        },
        {
            "WHATSAPP_PHONE_NUMBER_ID": test_whatsapp.PHONE_NUMBER_ID,
            "WHATSAPP_API_URL": api,
        },
    )


async def wa_post(app: Any, payload: dict[str, Any], app_secret: str) -> Any:
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac_sha256_hex(app_secret, body)
    return await test_whatsapp.post(app, payload, signature)


async def wa_verify(app: Any, verify_token: str) -> Any:
    query = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": verify_token,
    }
    _, response = await app.asgi_client.get(test_whatsapp.URL, params=query)
    return response


async def test_whatsapp_picks_up_new_credentials_and_refuses_all_while_disabled(
    emulator_factory: Any, agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    graph: Emulator = await emulator_factory(test_whatsapp.graph_reply)
    channel = WhatsAppInput.from_dashboard({"from_dashboard": True}, ENV)
    assert channel.live is not None
    app = rasa_app(channel, agent)
    sender = "79990000401"
    message = test_whatsapp.notification(test_whatsapp.text_message("привет", sender))
    assert (await wa_post(app, message, WA_FIRST[1])).status == 403
    assert (await wa_post(app, message, "")).status == 403
    assert (await wa_verify(app, WA_FIRST[2])).status == 403
    assert (await wa_verify(app, "")).status == 403

    channel.live.apply([wa_entry(1, WA_FIRST, graph.url)])
    verified = await wa_verify(app, WA_FIRST[2])
    assert (verified.status, verified.text) == (200, "1158201444")
    assert (await wa_post(app, message, WA_FIRST[1])).status == 200
    assert graph.calls[-1].headers["Authorization"] == f"Bearer {WA_FIRST[0]}"
    assert graph.calls[-1].path == test_whatsapp.MESSAGES

    channel.live.apply([wa_entry(2, WA_SECOND, graph.url)])
    calls = len(graph.calls)
    thanks = test_whatsapp.notification(test_whatsapp.text_message("спасибо", sender))
    assert (await wa_post(app, thanks, WA_FIRST[1])).status == 403
    assert (await wa_verify(app, WA_FIRST[2])).status == 403
    assert len(graph.calls) == calls
    assert (await wa_post(app, thanks, WA_SECOND[1])).status == 200
    assert graph.calls[-1].headers["Authorization"] == f"Bearer {WA_SECOND[0]}"

    channel.live.apply([])
    later = test_whatsapp.notification(test_whatsapp.text_message("ау", sender))
    assert (await wa_post(app, later, WA_SECOND[1])).status == 403
    assert (await wa_verify(app, WA_SECOND[2])).status == 403
    never_logged(caplog, *WA_FIRST, *WA_SECOND)


# --- Viber --------------------------------------------------------------------

VIBER_FIRST = "4453b6ac00000001-first00000000000-daec9cbb5448c51f"
VIBER_SECOND = "4453b6ac00000002-second0000000000-daec9cbb5448c51f"


def viber_entry(version: int, token: str, api: str) -> dict:
    return entry(
        "viber",
        version,
        {"VIBER_AUTH_TOKEN": token},
        {
            "VIBER_NAME": "Кеды Shop",
            "VIBER_WEBHOOK_URL": "https://bot.example/webhooks/viber/webhook",
            "VIBER_API_URL": api,
        },
    )


async def viber_post(app: Any, event: dict[str, Any], token: str) -> Any:
    body = json.dumps(event).encode()
    return await test_viber.post(app, event, hmac_sha256_hex(token, body))


async def test_viber_picks_up_a_new_token_and_refuses_all_while_disabled(
    emulator_factory: Any, agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    viber: Emulator = await emulator_factory(test_viber.viber_reply)
    channel = ViberInput.from_dashboard({"from_dashboard": True}, ENV)
    assert channel.live is not None
    app = rasa_app(channel, agent)
    user = "vb-user-dashboard-01=="
    hello = test_viber.text_event("привет", user)
    assert (await viber_post(app, hello, VIBER_FIRST)).status == 403
    assert (await test_viber.post(app, hello, None)).status == 403
    subscribed = {"event": "subscribed", "timestamp": 1, "message_token": 7}
    assert (await test_viber.post(app, subscribed, None)).status == 403
    # set_webhook's own check, signed with a token the connector does not have
    # yet (the dashboard's check registers the webhook before enabling): 200,
    # and nothing reaches Rasa or Viber.
    ping = {"event": "webhook", "timestamp": 1, "message_token": 8}
    answered = await viber_post(app, ping, VIBER_FIRST)
    assert (answered.status, answered.body) == (200, b"")
    assert viber.calls == []

    channel.live.apply([viber_entry(1, VIBER_FIRST, viber.url)])
    assert (await viber_post(app, hello, VIBER_FIRST)).status == 200
    assert viber.calls[-1].headers["X-Viber-Auth-Token"] == VIBER_FIRST
    assert viber.calls[-1].json["sender"] == {"name": "Кеды Shop"}

    channel.live.apply([viber_entry(2, VIBER_SECOND, viber.url)])
    calls = len(viber.calls)
    thanks = test_viber.text_event("спасибо", user)
    assert (await viber_post(app, thanks, VIBER_FIRST)).status == 403
    assert len(viber.calls) == calls
    assert (await viber_post(app, thanks, VIBER_SECOND)).status == 200
    assert viber.calls[-1].headers["X-Viber-Auth-Token"] == VIBER_SECOND

    channel.live.apply([])
    later = test_viber.text_event("ау", user)
    assert (await viber_post(app, later, VIBER_SECOND)).status == 403
    never_logged(caplog, VIBER_FIRST, VIBER_SECOND)


# --- Alice --------------------------------------------------------------------

SKILL_FIRST = "0a1b2c3d-0000-4000-8000-00000000a11c"
SKILL_SECOND = "0a1b2c3d-0000-4000-8000-00000000b0b0"


def alice_entry(version: int, skill_id: str) -> dict:
    return entry("alice", version, {"ALICE_SKILL_ID": skill_id}, {})


async def test_alice_picks_up_a_new_skill_id_and_refuses_all_while_disabled(
    agent: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = AliceInput.from_dashboard({"from_dashboard": True}, ENV)
    assert channel.live is not None
    app = rasa_app(channel, agent)
    session = test_alice.new_session_id()

    def said(text: str, message_id: int, skill_id: str) -> dict[str, Any]:
        return test_alice.alice_request(
            text, session_id=session, message_id=message_id, skill_id=skill_id
        )

    # Nothing connected: refused, Yandex's ping too.
    assert (await test_alice.post(app, said("ping", 0, SKILL_FIRST))).status == 403
    assert (await test_alice.post(app, said("привет", 0, ""))).status == 403

    channel.live.apply([alice_entry(1, SKILL_FIRST)])
    answered = await test_alice.post(app, said("привет", 0, SKILL_FIRST))
    assert answered.status == 200
    assert answered.json["response"]["text"]

    channel.live.apply([alice_entry(2, SKILL_SECOND)])
    assert (await test_alice.post(app, said("ping", 1, SKILL_FIRST))).status == 403
    assert (await test_alice.post(app, said("ping", 1, SKILL_SECOND))).status == 200

    channel.live.apply([])
    assert (await test_alice.post(app, said("ping", 2, SKILL_SECOND))).status == 403
    never_logged(caplog, SKILL_FIRST, SKILL_SECOND)


@pytest.mark.parametrize("channel", [VKInput, WhatsAppInput, ViberInput, AliceInput])
def test_from_dashboard_names_what_is_missing(
    channel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # credentials.yml's ``from_dashboard: true`` goes this way, with the
    # process environment.
    monkeypatch.delenv("EASYFLOW_API_URL", raising=False)
    with pytest.raises(SettingsError, match="EASYFLOW_API_URL"):
        channel.from_credentials({"from_dashboard": True})
    with pytest.raises(SettingsError, match="EASYFLOW_API_URL"):
        channel.from_dashboard({"from_dashboard": True}, {})
    with pytest.raises(SettingsError, match="EASYFLOW_ACTION_TOKEN"):
        channel.from_dashboard(
            {"from_dashboard": True}, {"EASYFLOW_API_URL": "http://api:8000"}
        )
