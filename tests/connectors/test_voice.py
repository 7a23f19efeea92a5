"""Telegram voice notes through a speech-to-text backend, all on loopback.

One aiohttp server plays both the Telegram Bot API (``sendMessage``, ``getFile``
and the file download at ``/file/bot<token>/<path>``) and an OpenAI-compatible
``POST /v1/audio/transcriptions``. A voice note is answered from its transcript;
without a backend, or when a step fails or the file is too large, the shopper is
asked to type (connectors/speech.py, ``TelegramInput.prepare``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from rasa.core.agent import Agent
from rasa.shared.core.events import UserUttered

from connectors.dedupe import MemoryDedupe
from connectors.speech import SpeechSettings, SpeechToText, multipart
from connectors.telegram import TelegramInput
from tests.connectors import test_telegram as telegram
from tests.connectors.conftest import free_port, rasa_app
from tests.connectors.test_media import VOICE_REPLY, telegram_update

TOKEN = telegram.TOKEN
FILE_PATH = "voice/file_17.oga"
AUDIO = b"OggS\x00\x02" + bytes(range(256)) * 16  # 4 KB standing in for Opus
AUDIO_BYTES = len(AUDIO)
TRANSCRIPT = "где мой заказ A-10234"
STT_KEY = "sk-local-test-key"


@dataclass
class Backend:
    """The Telegram Bot API and the transcription endpoint, recording calls."""

    url: str = ""
    calls: list[tuple[str, Any]] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    transcript: str = TRANSCRIPT
    stt_status: int = 200
    file_status: int = 200
    file_size: int = AUDIO_BYTES

    async def bot_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.json()
        self.calls.append((method, body))
        if method == "sendMessage":
            self.sent.append(body["text"])
            return web.json_response({"ok": True, "result": {"message_id": 9}})
        if method == "getFile":
            result = {
                "file_id": body["file_id"],
                "file_unique_id": "AgADv1",
                "file_size": self.file_size,
                "file_path": FILE_PATH,
            }
            return web.json_response({"ok": True, "result": result})
        return web.json_response({"ok": True, "result": True})

    async def file(self, request: web.Request) -> web.Response:
        self.calls.append(("file", request.match_info["path"]))
        if self.file_status != 200:
            return web.json_response({"ok": False}, status=self.file_status)
        return web.Response(body=AUDIO, content_type="audio/ogg")

    async def transcriptions(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form["file"]
        self.calls.append(
            (
                "transcriptions",
                {
                    "model": form["model"],
                    "filename": upload.filename,  # type: ignore[union-attr]
                    "audio": upload.file.read(),  # type: ignore[union-attr]
                    "authorization": request.headers.get("Authorization"),
                },
            )
        )
        if self.stt_status != 200:
            return web.json_response({"error": {"message": "busy"}}, self.stt_status)
        return web.json_response({"text": self.transcript})

    def called(self, name: str) -> list[Any]:
        return [body for method, body in self.calls if method == name]


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    state = Backend()
    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/{{method}}", state.bot_method)
    app.router.add_get(f"/file/bot{TOKEN}/{{path:.*}}", state.file)
    app.router.add_post("/v1/audio/transcriptions", state.transcriptions)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def channel(backend: Backend, stt: bool = True, max_bytes: int = 1 << 20) -> Any:
    speech = None
    if stt:
        settings = SpeechSettings(
            base_url=backend.url,
            api_key=STT_KEY,
            model="whisper-1",
            max_bytes=max_bytes,
        )
        speech = SpeechToText(settings)
    return TelegramInput(
        TOKEN,
        telegram.SECRET,
        api_url=backend.url,
        dedupe=MemoryDedupe(),
        speech=speech,
    )


def voice_update(chat: int) -> dict[str, Any]:
    return telegram_update(
        chat,
        voice={
            "duration": 2,
            "mime_type": "audio/ogg",
            "file_id": "AwACAgIAAxkBAAIBaGZvoiceAAHk",
            "file_unique_id": "AgADv1",
            "file_size": len(AUDIO),
        },
    )


async def last_user(agent: Agent, sender_id: str) -> UserUttered:
    tracker = await agent.tracker_store.retrieve(sender_id)
    assert tracker is not None
    return [e for e in tracker.events if isinstance(e, UserUttered)][-1]


async def test_a_voice_note_is_answered_from_its_transcript(
    backend: Backend, agent: Agent
) -> None:
    app = rasa_app(channel(backend), agent)
    chat = 557000001

    response = await telegram.post(app, voice_update(chat))

    assert response.status == 200
    assert backend.called("getFile") == [{"file_id": "AwACAgIAAxkBAAIBaGZvoiceAAHk"}]
    assert backend.called("file") == [FILE_PATH]
    (upload,) = backend.called("transcriptions")
    assert upload == {
        "model": "whisper-1",
        "filename": "file_17.oga",
        "audio": AUDIO,
        "authorization": f"Bearer {STT_KEY}",
    }
    user = await last_user(agent, f"telegram:{chat}")
    assert user.text == TRANSCRIPT
    assert user.intent_name == "order_status"
    assert user.metadata["media"][0]["transcribed"] is True
    # Privacy on by default: the order question goes on with the digits.
    assert "4 цифры" in backend.sent[-1]


async def test_the_same_voice_note_retried_is_transcribed_once(
    backend: Backend, agent: Agent
) -> None:
    app = rasa_app(channel(backend), agent)
    update = voice_update(557000002)

    for _ in range(2):
        assert (await telegram.post(app, update)).status == 200

    assert len(backend.called("transcriptions")) == 1


@pytest.mark.parametrize(
    "failure",
    ["no backend", "backend 503", "empty transcript", "file 404", "too large"],
)
async def test_without_a_transcript_the_shopper_is_asked_to_type(
    backend: Backend, agent: Agent, failure: str
) -> None:
    stt, max_bytes = True, 1 << 20
    if failure == "no backend":
        stt = False
    elif failure == "backend 503":
        backend.stt_status = 503
    elif failure == "empty transcript":
        backend.transcript = "  "
    elif failure == "file 404":
        backend.file_status = 404
    else:
        max_bytes = len(AUDIO) - 1
    app = rasa_app(channel(backend, stt=stt, max_bytes=max_bytes), agent)
    chat = 557000100 + len(failure)

    assert (await telegram.post(app, voice_update(chat))).status == 200

    assert backend.sent and backend.sent[0].startswith(VOICE_REPLY)
    user = await last_user(agent, f"telegram:{chat}")
    assert user.intent_name == "shopper_sent_voice"
    assert "transcribed" not in user.metadata["media"][0]
    if failure in ("no backend", "too large"):
        assert backend.called("file") == []  # nothing fetched
    if failure == "too large":
        assert backend.called("transcriptions") == []


async def test_a_file_larger_than_it_said_is_cut_off(backend: Backend) -> None:
    backend.file_size = 10  # getFile understates; the download itself is bounded
    tg = channel(backend, max_bytes=len(AUDIO) // 2)
    transcript = await tg.transcribe({"file_id": "x", "size": 10})
    assert transcript is None
    assert backend.called("transcriptions") == []


def test_settings_read_the_environment() -> None:
    assert SpeechSettings.from_env({}).base_url == ""
    settings = SpeechSettings.from_env(
        {
            "EASYFLOW_STT_BASE_URL": "http://127.0.0.1:8000/v1/",
            "EASYFLOW_STT_API_KEY": "k",
            "EASYFLOW_STT_MODEL": "large-v3",
            "EASYFLOW_STT_MAX_BYTES": "2048",
        }
    )
    assert settings.base_url == "http://127.0.0.1:8000"
    assert (settings.model, settings.max_bytes) == ("large-v3", 2048)
    assert "k" not in repr(settings)


def test_multipart_carries_fields_and_the_file() -> None:
    body, content_type = multipart(
        {"model": "whisper-1"}, ("file", 'a"b.oga', b"\x00\x01")
    )
    boundary = content_type.split("boundary=", 1)[1]
    assert body.startswith(f"--{boundary}\r\n".encode())
    assert b'name="model"\r\n\r\nwhisper-1\r\n' in body
    assert b'filename="ab.oga"' in body
    assert b"\x00\x01\r\n" in body
    assert body.endswith(f"--{boundary}--\r\n".encode())
    assert json.dumps(content_type)  # a plain header value
