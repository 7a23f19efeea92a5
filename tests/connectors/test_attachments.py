"""A photo sent during a return reaches that return, end to end on loopback.

The Telegram Bot API emulator serves ``getFile`` and the file (a Graph emulator
the WhatsApp media URL and download); the real action
server keeps it (``POST /attachments``, its token) and the trained agent's
``action_receive_attachment`` links it to the return the conversation opened.
The api reads it from there for the dashboard (api/tests/test_attachments.py).
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from rasa.core.agent import Agent

from actions.integrations.demo_store import demo_phone
from connectors.attachments import AttachmentKeeper, sniffed_type
from connectors.dedupe import MemoryDedupe
from connectors.telegram import TelegramInput
from connectors.viber import ViberInput
from connectors.vk import VKInput
from connectors.whatsapp import WhatsAppInput
from tests.connectors import test_telegram as telegram
from tests.connectors import test_viber as viber
from tests.connectors import test_vk as vk
from tests.connectors import test_whatsapp as whatsapp
from tests.connectors.conftest import free_port, rasa_app
from tests.connectors.test_media import telegram_update
from tests.servers import ACTION_TOKEN

TOKEN = telegram.TOKEN
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
FILE_PATH = "photos/file_3.jpg"


@dataclass
class Backend:
    url: str = ""
    sent: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    content: bytes = JPEG

    async def bot_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.json()
        if method == "sendMessage":
            self.sent.append(body["text"])
        if method == "getFile":
            result = {"file_id": body["file_id"], "file_path": FILE_PATH}
            return web.json_response({"ok": True, "result": result})
        return web.json_response({"ok": True, "result": {"message_id": 1}})

    async def file(self, request: web.Request) -> web.Response:
        self.files.append(request.match_info["path"])
        return web.Response(body=self.content, content_type="image/jpeg")


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    state = Backend()
    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/{{method}}", state.bot_method)
    app.router.add_get(f"/file/bot{TOKEN}/{{path:.*}}", state.file)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def actions_base(action_server: str) -> str:
    return action_server.removesuffix("/webhook")


def channel(backend: Backend, action_server: str, token: str = ACTION_TOKEN) -> Any:
    keeper = AttachmentKeeper(actions_base(action_server), token, 1 << 20)
    return TelegramInput(
        TOKEN,
        telegram.SECRET,
        api_url=backend.url,
        dedupe=MemoryDedupe(),
        attachments=keeper,
    )


def photo_update(chat: int) -> dict[str, Any]:
    sizes = [
        {"file_id": f"AgACsmall{chat}", "file_unique_id": "s", "width": 90},
        {"file_id": f"AgACbig{chat}", "file_unique_id": "b", "width": 1280},
    ]
    return telegram_update(chat, photo=sizes)


def text_update(chat: int, text: str) -> dict[str, Any]:
    return telegram_update(chat, text=text)


def listed(action_server: str, sender_id: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(
        f"{actions_base(action_server)}/attachments?sender_id={sender_id}",
        headers={"Authorization": f"Bearer {ACTION_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def content(action_server: str, attachment_id: str) -> tuple[str, bytes]:
    request = urllib.request.Request(
        f"{actions_base(action_server)}/attachments/{attachment_id}",
        headers={"Authorization": f"Bearer {ACTION_TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.headers["Content-Type"], answer.read()


async def test_a_photo_sent_during_a_return_is_attached_to_it(
    backend: Backend, agent: Agent, action_server: str
) -> None:
    app = rasa_app(channel(backend, action_server), agent)
    chat = 558000001
    digits = re.sub(r"\D", "", demo_phone("A-10241"))[-4:]

    for text in ("хочу вернуть заказ A-10241", digits):
        assert (await telegram.post(app, text_update(chat, text))).status == 200
    assert any("Возврат" in t and "оформлен" in t for t in backend.sent), backend.sent
    backend.sent.clear()

    assert (await telegram.post(app, photo_update(chat))).status == 200

    assert backend.files == [FILE_PATH]  # the largest size, fetched once
    (kept,) = listed(action_server, f"telegram:{chat}")
    assert kept["order_id"] == "A-10241"
    assert kept["return_id"] and kept["return_id"] in backend.sent[0]
    assert "приложил к возврату" in backend.sent[0]
    assert content(action_server, kept["attachment_id"]) == ("image/jpeg", JPEG)


async def test_a_photo_without_a_return_is_kept_for_the_operator(
    backend: Backend, agent: Agent, action_server: str
) -> None:
    app = rasa_app(channel(backend, action_server), agent)
    chat = 558000002

    update = photo_update(chat)
    for _ in range(2):  # Telegram retries the same update: kept once
        assert (await telegram.post(app, update)).status == 200

    (kept,) = listed(action_server, f"telegram:{chat}")
    assert (kept["order_id"], kept["return_id"]) == (None, None)
    assert backend.sent[0].startswith("Спасибо, сохранил")


@pytest.mark.parametrize("failure", ["not an image", "wrong token"])
async def test_a_file_that_is_not_kept_still_gets_the_photo_answer(
    backend: Backend, agent: Agent, action_server: str, failure: str
) -> None:
    token = ACTION_TOKEN
    if failure == "not an image":
        backend.content = b"<html><script>alert(1)</script></html>"
    else:
        token = "not-the-token"
    app = rasa_app(channel(backend, action_server, token), agent)
    chat = 558000010 + len(failure)

    assert (await telegram.post(app, photo_update(chat))).status == 200

    assert listed(action_server, f"telegram:{chat}") == []
    assert backend.sent[0].startswith("Спасибо за фото")


async def test_the_attachment_routes_need_the_action_token(action_server: str) -> None:
    base = actions_base(action_server)
    for method, path in [
        ("GET", "/attachments?sender_id=telegram:1"),
        ("GET", "/attachments/F-0123"),
        ("POST", "/attachments?sender_id=a&channel=b&kind=photo&key=c"),
        ("GET", "/attachments/../attachments?sender_id=telegram:1"),
    ]:
        request = urllib.request.Request(
            base + path, method=method, data=JPEG if method == "POST" else None
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code in (401, 404), path


def test_photos_without_a_type_are_typed_by_their_first_bytes() -> None:
    assert sniffed_type(JPEG) == "image/jpeg"
    assert sniffed_type(b"%PDF-1.4") == "application/pdf"
    assert sniffed_type(b"<html>") is None


@dataclass
class Graph:
    """Graph's messages, media-URL and media-download endpoints."""

    url: str = ""
    texts: list[str] = field(default_factory=list)
    downloads: list[str | None] = field(default_factory=list)
    media_url: str | None = None  # None: on this emulator

    async def messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.texts.append((body.get("text") or {}).get("body", ""))
        return web.json_response({"messages": [{"id": "wamid.out"}]})

    async def media(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {whatsapp.ACCESS_TOKEN}":
            return web.json_response({"error": {"code": 190}}, status=401)
        media_id = request.match_info["media_id"]
        url = self.media_url or f"{self.url}/whatsapp_business/attachments/"
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{url}?mid={media_id}&ext=1",
                "mime_type": "image/jpeg",
                "file_size": str(len(JPEG)),
                "id": media_id,
            }
        )

    async def download(self, request: web.Request) -> web.Response:
        self.downloads.append(request.headers.get("Authorization"))
        if request.headers.get("Authorization") != f"Bearer {whatsapp.ACCESS_TOKEN}":
            return web.Response(status=401)
        return web.Response(body=JPEG, content_type="image/jpeg")


@pytest.fixture
async def graph() -> AsyncIterator[Graph]:
    state = Graph()
    app = web.Application()
    version = whatsapp.API_VERSION
    app.router.add_post(
        f"/{version}/{whatsapp.PHONE_NUMBER_ID}/messages", state.messages
    )
    app.router.add_get(f"/{version}/{{media_id}}", state.media)
    app.router.add_get("/whatsapp_business/attachments/", state.download)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def whatsapp_channel(graph: Graph, action_server: str) -> WhatsAppInput:
    return WhatsAppInput(
        whatsapp.ACCESS_TOKEN,
        whatsapp.APP_SECRET,
        whatsapp.VERIFY_TOKEN,
        whatsapp.PHONE_NUMBER_ID,
        api_url=graph.url,
        dedupe=MemoryDedupe(),
        attachments=AttachmentKeeper(
            actions_base(action_server), ACTION_TOKEN, 1 << 20
        ),
    )


def whatsapp_image(phone: str) -> dict[str, Any]:
    message = {
        "from": phone,
        "id": f"wamid.{phone}",
        "timestamp": "1733400000",
        "type": "image",
        "image": {"mime_type": "image/jpeg", "sha256": "x", "id": "1013859600285441"},
    }
    return whatsapp.notification(message)


async def test_a_whatsapp_photo_is_fetched_with_the_token_and_kept(
    graph: Graph, agent: Agent, action_server: str
) -> None:
    app = rasa_app(whatsapp_channel(graph, action_server), agent)
    phone = "79160000301"

    assert (await whatsapp.post(app, whatsapp_image(phone))).status == 200

    assert graph.downloads == [f"Bearer {whatsapp.ACCESS_TOKEN}"]
    (kept,) = listed(action_server, f"whatsapp:{phone}")
    assert kept["channel"] == "whatsapp" and kept["mime_type"] == "image/jpeg"
    assert content(action_server, kept["attachment_id"])[1] == JPEG
    assert graph.texts[0].startswith("Спасибо, сохранил")


async def test_the_token_never_goes_to_a_plain_http_media_url(
    graph: Graph, agent: Agent, action_server: str
) -> None:
    # A media URL elsewhere and not HTTPS: the access token would travel in clear.
    graph.media_url = "http://127.0.0.2:9/whatsapp_business/attachments/"
    app = rasa_app(whatsapp_channel(graph, action_server), agent)
    phone = "79160000302"

    assert (await whatsapp.post(app, whatsapp_image(phone))).status == 200

    assert graph.downloads == []
    assert listed(action_server, f"whatsapp:{phone}") == []
    assert graph.texts[0].startswith("Спасибо за фото")


@dataclass
class LinkPlatform:
    """VK's or Viber's send method, plus a photo at a link in the message."""

    url: str = ""
    bodies: list[Any] = field(default_factory=list)
    downloads: int = 0

    async def send(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            self.bodies.append(await request.json())
            return web.json_response({"status": 0, "status_message": "ok"})
        self.bodies.append(dict(await request.post()))
        return web.json_response({"response": 101})

    async def photo(self, request: web.Request) -> web.Response:
        self.downloads += 1
        return web.Response(body=JPEG, content_type="image/jpeg")


@pytest.fixture
async def link_platform() -> AsyncIterator[LinkPlatform]:
    state = LinkPlatform()
    app = web.Application()
    app.router.add_post(vk.SEND, state.send)
    app.router.add_post(viber.SEND, state.send)
    app.router.add_get("/impg/photo.jpg", state.photo)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def keeper(action_server: str) -> AttachmentKeeper:
    return AttachmentKeeper(actions_base(action_server), ACTION_TOKEN, 1 << 20)


async def test_a_vk_photo_is_fetched_from_its_link_and_kept(
    link_platform: LinkPlatform, agent: Agent, action_server: str
) -> None:
    channel_ = VKInput(
        vk.TOKEN,
        vk.SECRET,
        vk.CONFIRMATION,
        vk.GROUP,
        api_url=link_platform.url,
        dedupe=MemoryDedupe(),
        attachments=keeper(action_server),
    )
    app = rasa_app(channel_, agent)
    peer = 700300001
    photo = {
        "type": "photo",
        "photo": {
            "id": 457239017,
            "owner_id": peer,
            "sizes": [
                {
                    "type": "m",
                    "width": 130,
                    "height": 97,
                    "url": f"{link_platform.url}/impg/s.jpg",
                },
                {
                    "type": "z",
                    "width": 960,
                    "height": 720,
                    "url": f"{link_platform.url}/impg/photo.jpg",
                },
            ],
        },
    }
    event = vk.message_event("", peer)
    event["object"]["message"]["attachments"] = [photo]

    assert (await vk.post(app, event)).status == 200

    assert link_platform.downloads == 1  # the largest size
    (kept,) = listed(action_server, f"vk:{peer}")
    assert kept["channel"] == "vk" and kept["kind"] == "photo"
    assert str(link_platform.bodies[0]["message"]).startswith("Спасибо, сохранил")


async def test_a_viber_picture_is_fetched_from_its_link_and_kept(
    link_platform: LinkPlatform, agent: Agent, action_server: str
) -> None:
    channel_ = ViberInput(
        viber.AUTH_TOKEN,
        viber.NAME,
        api_url=link_platform.url,
        dedupe=MemoryDedupe(),
        attachments=keeper(action_server),
    )
    app = rasa_app(channel_, agent)
    user_id = "vb-attach-0001=="
    event = viber.text_event("", user_id)
    event["message"] = {
        "type": "picture",
        "text": "",
        "media": f"{link_platform.url}/impg/photo.jpg",
        "file_name": "photo.jpg",
        "size": len(JPEG),
    }

    assert (await viber.post(app, event)).status == 200

    assert link_platform.downloads == 1
    (kept,) = listed(action_server, f"viber:{user_id}")
    assert kept["channel"] == "viber"
    texts = [b["text"] for b in link_platform.bodies if b.get("type") == "text"]
    assert texts[0].startswith("Спасибо, сохранил")


async def test_a_link_elsewhere_over_plain_http_is_not_fetched(
    link_platform: LinkPlatform, agent: Agent, action_server: str
) -> None:
    channel_ = ViberInput(
        viber.AUTH_TOKEN,
        viber.NAME,
        api_url=link_platform.url,
        dedupe=MemoryDedupe(),
        attachments=keeper(action_server),
    )
    app = rasa_app(channel_, agent)
    user_id = "vb-attach-0002=="
    event = viber.text_event("", user_id)
    port = int(link_platform.url.rsplit(":", 1)[1])
    event["message"] = {
        "type": "picture",
        "text": "",
        "media": f"http://localhost:{port}/impg/photo.jpg",  # same server, other origin
    }

    assert (await viber.post(app, event)).status == 200

    assert link_platform.downloads == 0
    assert listed(action_server, f"viber:{user_id}") == []
