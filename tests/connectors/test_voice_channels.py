"""Voice notes on VK and WhatsApp answered from their transcript, on loopback.

One aiohttp server plays the platform (VK's ``messages.send`` and the note's
``link_ogg``; Graph's messages, media URL and download, each needing the access
token) and an OpenAI-compatible ``POST /v1/audio/transcriptions``. The channel
base fetches the note (``fetch_media``) and transcribes it (connectors/channel.py,
``WebhookChannel.prepare``), exactly as on Telegram (tests/connectors/test_voice.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from rasa.core.agent import Agent

from connectors.dedupe import MemoryDedupe
from connectors.speech import SpeechSettings, SpeechToText
from connectors.vk import VKInput
from connectors.whatsapp import WhatsAppInput
from tests.connectors import test_vk as vk
from tests.connectors import test_whatsapp as whatsapp
from tests.connectors.conftest import free_port, rasa_app
from tests.connectors.test_media import VOICE_REPLY
from tests.connectors.test_voice import last_user

AUDIO = b"OggS\x00\x02" + bytes(range(256)) * 8
TRANSCRIPT = "где мой заказ A-10234"
STT_KEY = "sk-local-test-key"


@dataclass
class Backend:
    url: str = ""
    sent: list[str] = field(default_factory=list)
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    downloads: list[str | None] = field(default_factory=list)
    stt_status: int = 200

    async def vk_send(self, request: web.Request) -> web.Response:
        self.sent.append(str((await request.post())["message"]))
        return web.json_response({"response": 101})

    async def graph_send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sent.append((body.get("text") or {}).get("body", ""))
        return web.json_response({"messages": [{"id": "wamid.out"}]})

    async def graph_media(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {whatsapp.ACCESS_TOKEN}":
            return web.json_response({"error": {"code": 190}}, status=401)
        return web.json_response(
            {
                "url": f"{self.url}/whatsapp_business/attachments/?mid=1",
                "mime_type": "audio/ogg; codecs=opus",
                "id": request.match_info["media_id"],
            }
        )

    async def audio(self, request: web.Request) -> web.Response:
        self.downloads.append(request.headers.get("Authorization"))
        return web.Response(body=AUDIO, content_type="audio/ogg")

    async def transcriptions(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        self.uploads.append((upload.filename, upload.file.read()))  # type: ignore[union-attr]
        if self.stt_status != 200:
            return web.json_response({"error": "busy"}, status=self.stt_status)
        return web.json_response({"text": TRANSCRIPT})


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    state = Backend()
    app = web.Application()
    app.router.add_post(vk.SEND, state.vk_send)
    app.router.add_get("/audiomsg/a.ogg", state.audio)
    version = whatsapp.API_VERSION
    app.router.add_post(
        f"/{version}/{whatsapp.PHONE_NUMBER_ID}/messages", state.graph_send
    )
    app.router.add_get(f"/{version}/{{media_id}}", state.graph_media)
    app.router.add_get("/whatsapp_business/attachments/", state.audio)
    app.router.add_post("/v1/audio/transcriptions", state.transcriptions)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def speech(backend: Backend) -> SpeechToText:
    return SpeechToText(SpeechSettings(base_url=backend.url, api_key=STT_KEY))


def vk_voice(backend: Backend, peer: int) -> dict[str, Any]:
    event = vk.message_event("", peer)
    event["object"]["message"]["attachments"] = [
        {
            "type": "audio_message",
            "audio_message": {
                "duration": 3,
                "id": 456239020,
                "owner_id": peer,
                "link_ogg": f"{backend.url}/audiomsg/a.ogg",
            },
        }
    ]
    return event


def vk_channel(backend: Backend, with_speech: bool = True) -> VKInput:
    return VKInput(
        vk.TOKEN,
        vk.SECRET,
        vk.CONFIRMATION,
        vk.GROUP,
        api_url=backend.url,
        dedupe=MemoryDedupe(),
        speech=speech(backend) if with_speech else None,
    )


async def test_a_vk_voice_note_is_answered_from_its_transcript(
    backend: Backend, agent: Agent
) -> None:
    app = rasa_app(vk_channel(backend), agent)
    peer = 700400001

    assert (await vk.post(app, vk_voice(backend, peer))).status == 200

    assert backend.uploads == [("voice.ogg", AUDIO)]
    user = await last_user(agent, f"vk:{peer}")
    assert user.text == TRANSCRIPT and user.intent_name == "order_status"
    assert user.metadata["media"][0]["transcribed"] is True
    assert "4 цифры" in backend.sent[-1]


async def test_a_vk_voice_note_without_a_transcript_asks_to_type(
    backend: Backend, agent: Agent
) -> None:
    backend.stt_status = 503
    app = rasa_app(vk_channel(backend), agent)
    peer = 700400002

    assert (await vk.post(app, vk_voice(backend, peer))).status == 200

    assert backend.sent[0].startswith(VOICE_REPLY)
    user = await last_user(agent, f"vk:{peer}")
    assert user.intent_name == "shopper_sent_voice"


async def test_a_whatsapp_voice_note_is_answered_from_its_transcript(
    backend: Backend, agent: Agent
) -> None:
    channel = WhatsAppInput(
        whatsapp.ACCESS_TOKEN,
        whatsapp.APP_SECRET,
        whatsapp.VERIFY_TOKEN,
        whatsapp.PHONE_NUMBER_ID,
        api_url=backend.url,
        dedupe=MemoryDedupe(),
        speech=speech(backend),
    )
    app = rasa_app(channel, agent)
    phone = "79160000401"
    message = {
        "from": phone,
        "id": f"wamid.voice{phone}",
        "timestamp": "1733400000",
        "type": "audio",
        "audio": {"mime_type": "audio/ogg; codecs=opus", "id": "1246701116458122"},
    }

    assert (await whatsapp.post(app, whatsapp.notification(message))).status == 200

    assert backend.downloads == [f"Bearer {whatsapp.ACCESS_TOKEN}"]
    assert backend.uploads == [("voice.ogg", AUDIO)]
    user = await last_user(agent, f"whatsapp:{phone}")
    assert user.text == TRANSCRIPT and user.intent_name == "order_status"
