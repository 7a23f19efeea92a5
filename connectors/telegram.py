"""Telegram Bot API: webhook with a secret token, inline buttons, photos.

Unlike Rasa's built-in connector it never calls the Telegram API to accept an
update: the ``X-Telegram-Bot-Api-Secret-Token`` header (set with ``setWebhook``)
is compared in constant time, and each ``update_id`` is processed once.

A photo, voice note, audio, video, sticker, GIF, file, location or shared contact
reaches Rasa as its caption or as ``/shopper_sent_<kind>``, with its ``file_id``,
MIME type and size in the metadata (``connectors/media.py``). With a speech-to-text
backend (``connectors/speech.py``) a voice note is fetched (``getFile``, then the
file URL; at most ``EASYFLOW_STT_MAX_BYTES``) and its transcript is the text.

credentials.yml::

    connectors.telegram.TelegramInput:
      token: ${TELEGRAM_TOKEN}
      secret_token: ${TELEGRAM_SECRET_TOKEN}
      api_url: https://api.telegram.org      # optional
      webhook_url: https://bot.example/webhooks/telegram/webhook  # for setup

or, with the token saved on the dashboard's Integrations page (checked there
with getMe, the webhook registered with a secret the api makes) and picked up
while running (connectors/live.py; the process needs EASYFLOW_API_URL,
EASYFLOW_ACTION_TOKEN and the api's secrets key)::

    connectors.telegram.TelegramInput:
      from_dashboard: true
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request

from common.http import PlatformClient, PlatformError
from common.security import secrets_equal
from connectors.base import Delivery, button_payload, require
from connectors.channel import WebhookChannel
from connectors.live import DashboardCredentials
from connectors.media import (
    Kind,
    Media,
    as_int,
    as_str,
    media_metadata,
    message_text,
)
from connectors.speech import FileClient, TooLarge
from connectors.text import PartsOutput

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramOutput(PartsOutput, OutputChannel):
    max_text = MAX_TEXT

    def __init__(self, client: PlatformClient, token: str) -> None:
        self.client = client
        self.token = token

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def call(self, method: str, payload: dict[str, Any]) -> Any:
        return await self.client.post(f"/bot{self.token}/{method}", json=payload)

    async def send(self, method: str, payload: dict[str, Any]) -> None:
        try:
            await self.call(method, payload)
        except PlatformError:
            # Logged by the client; one failed reply must not stop the others,
            # but a proactive message must be tried again (WebhookChannel).
            if self.strict:
                raise

    async def send_part(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]] | None = None,
    ) -> None:
        payload: dict[str, Any] = {"chat_id": chat_id(recipient_id), "text": text}
        if buttons:
            payload["reply_markup"] = inline_keyboard(buttons)
        await self.send("sendMessage", payload)

    async def send_image_url(
        self, recipient_id: str, image: str, **kwargs: Any
    ) -> None:
        await self.send("sendPhoto", {"chat_id": chat_id(recipient_id), "photo": image})

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """``{"method": "sendLocation", ...}`` calls that method; else sendMessage."""
        payload = dict(json_message)
        method = str(payload.pop("method", "sendMessage"))
        payload.setdefault("chat_id", chat_id(recipient_id))
        await self.send(method, payload)


def chat_id(recipient_id: str) -> int | str:
    raw = recipient_id.removeprefix(f"{CHANNEL}:")
    return int(raw) if raw.lstrip("-").isdigit() else raw


def inline_keyboard(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """One button per row; ``url`` buttons open links, others send their payload."""
    rows = []
    for button in buttons:
        title = str(button.get("title") or button_payload(button))
        if button.get("url"):
            rows.append([{"text": title, "url": button["url"]}])
            continue
        data = button_payload(button)
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            # Telegram refuses callback_data over 64 bytes: send the title instead,
            # which NLU understands like a typed answer.
            data = title.encode()[:MAX_CALLBACK_BYTES].decode(errors="ignore")
        rows.append([{"text": title, "callback_data": data}])
    return {"inline_keyboard": rows}


@dataclass(eq=False, repr=False)  # no repr: it would print the secrets
class TelegramInput(WebhookChannel):
    CHANNEL = CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        if credentials and credentials.get("from_dashboard"):
            return cls.from_dashboard(credentials)
        require(credentials, CHANNEL, "token", "secret_token")
        assert credentials is not None
        return cls(
            token=str(credentials["token"]),
            secret_token=str(credentials["secret_token"]),
            api_url=str(credentials.get("api_url") or "https://api.telegram.org"),
            webhook_url=credentials.get("webhook_url"),
        )

    @classmethod
    def from_dashboard(
        cls, credentials: dict[str, Any], env: Mapping[str, str] | None = None
    ) -> TelegramInput:
        """Token and webhook secret from the dashboard's Integrations page,
        picked up while running (connectors/live.py); until the first read,
        and while the integration is disabled, every update is refused."""
        channel = cls(token="", secret_token="")
        channel.live = DashboardCredentials.from_env(CHANNEL, channel.use, env)
        return channel

    token: str
    secret_token: str
    api_url: str = "https://api.telegram.org"
    webhook_url: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.bot_id = self.token.split(":", 1)[0]
        self._files: FileClient | None = None
        self.live: DashboardCredentials | None = None

    def use(self, values: dict[str, str] | None) -> None:
        """New credentials from the dashboard (``None``: disabled): the next
        update is checked against the new secret and answered with the new
        token; outputs built with the old token are dropped."""
        values = values or {}
        self.token = values.get("TELEGRAM_TOKEN", "")
        self.secret_token = values.get("TELEGRAM_SECRET_TOKEN", "")
        self.api_url = values.get("TELEGRAM_API_URL") or "https://api.telegram.org"
        self.webhook_url = values.get("TELEGRAM_WEBHOOK_URL")
        self.bot_id = self.token.split(":", 1)[0]
        self._output = None
        self._proactive = None
        self._files = None

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        if self.live is not None:
            self.live.attach(webhook)
        return webhook

    def make_output(self) -> TelegramOutput:
        return TelegramOutput(PlatformClient(CHANNEL, self.api_url), self.token)

    def authenticate(self, request: Request, payload: Any) -> bool:
        return secrets_equal(self.secret_token, request.headers.get(SECRET_HEADER))

    def invalid(self, update: Any) -> str | None:
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return "not a Telegram update"
        return None

    def deliveries(self, update: dict[str, Any]) -> list[Delivery]:
        delivery = self.parse(update)
        return [delivery] if delivery is not None else []

    async def after_delivery(self, delivery: Delivery, output: Any) -> None:
        callback_id = delivery.metadata.get("callback_query_id")
        if callback_id:  # stops the spinner on the pressed button
            await output.send("answerCallbackQuery", {"callback_query_id": callback_id})

    async def fetch_voice(
        self, voice: dict[str, Any], max_bytes: int
    ) -> tuple[bytes, str] | None:
        found = await self.download(voice, max_bytes, "voice")
        return None if found is None else (found[0], found[1].rsplit("/", 1)[-1])

    async def fetch_media(
        self, item: dict[str, Any], max_bytes: int
    ) -> tuple[bytes, str | None] | None:
        found = await self.download(item, max_bytes, "media")
        return None if found is None else (found[0], item.get("mime_type"))

    async def download(
        self, item: dict[str, Any], limit: int, what: str
    ) -> tuple[bytes, str] | None:
        """``getFile`` for the path, then the file from
        ``/file/bot<token>/<path>``: its content and path, or ``None`` (logged)."""
        if not item.get("file_id"):
            return None
        if (as_int(item.get("size")) or 0) > limit:
            logger.info(f"telegram.{what}.too_large", extra={"size": item.get("size")})
            return None
        output = self.get_output_channel()
        try:
            answer = await output.call("getFile", {"file_id": item["file_id"]})
        except PlatformError:
            return None  # logged by the client
        result = answer.get("result") if isinstance(answer, dict) else None
        path = as_str(result.get("file_path")) if isinstance(result, dict) else None
        if path is None or ".." in path:
            logger.warning(f"telegram.{what}.no_file_path")
            return None
        if (as_int(result.get("file_size")) or 0) > limit:
            logger.info(
                f"telegram.{what}.too_large", extra={"size": result["file_size"]}
            )
            return None
        if self._files is None:
            self._files = FileClient(CHANNEL, self.api_url)
        try:
            content = await self._files.download(f"/file/bot{self.token}/{path}", limit)
        except TooLarge:
            logger.info(f"telegram.{what}.too_large", extra={"limit": limit})
            return None
        except PlatformError:
            return None
        return content, path

    def parse(self, update: dict[str, Any]) -> Delivery | None:
        """The update as a delivery, or ``None`` for kinds the bot does not answer
        (``my_chat_member``, edits, polls)."""
        update_id = update["update_id"]
        callback = update.get("callback_query")
        if isinstance(callback, dict) and callback.get("data"):
            message, text, sender = (
                callback.get("message") or {},
                callback["data"],
                callback,
            )
        else:
            message = update.get("message")
            if not isinstance(message, dict):
                return None
            media = message_media(message)
            text = message.get("text")
            if not isinstance(text, str) or not text.strip():
                text = message_text(media, message.get("caption"))
            if text is None:
                return None
            sender = message
        chat = message.get("chat") or {}
        user = sender.get("from") or {}
        if "id" not in chat and "id" not in user:
            return None
        chat_ref = chat.get("id", user.get("id"))
        name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
        metadata = {
            "display_name": name or user.get("username"),
            "language_code": user.get("language_code"),
            "update_id": update_id,
            "message_id": message.get("message_id"),
            "chat_id": chat_ref,
        }
        if callback:
            metadata["callback_query_id"] = callback.get("id")
        else:
            metadata.update(media_metadata(media))
        return Delivery(
            key=f"{CHANNEL}:{self.bot_id}:{update_id}",
            sender_id=f"{CHANNEL}:{chat_ref}",
            text=text,
            metadata={k: v for k, v in metadata.items() if v is not None},
        )


# Message fields that hold a file, in the order they are read: a GIF comes as
# both ``animation`` and ``document``, and is answered like a sticker.
_FILES = (
    ("photo", Kind.PHOTO),
    ("animation", Kind.STICKER),
    ("sticker", Kind.STICKER),
    ("voice", Kind.VOICE),
    ("audio", Kind.AUDIO),
    ("video", Kind.VIDEO),
    ("video_note", Kind.VIDEO),
    ("document", Kind.DOCUMENT),
)
_FILE_DETAILS = ("file_unique_id", "file_name", "duration", "width", "height", "emoji")


def message_media(message: dict[str, Any]) -> list[Media]:
    """The attachment of a Telegram message (at most one), as ``Media``."""
    for key, kind in _FILES:
        item = message.get(key)
        if key == "photo" and isinstance(item, list):
            sizes = [s for s in item if isinstance(s, dict)]
            item = sizes[-1] if sizes else None  # Telegram lists them smallest first
        if isinstance(item, dict) and as_str(item.get("file_id")):
            return [file_media(item, kind)]
    location = message.get("location")
    if isinstance(location, dict):
        coordinates = {k: location.get(k) for k in ("latitude", "longitude")}
        return [Media(Kind.LOCATION, CHANNEL, details=_known(coordinates))]
    contact = message.get("contact")
    if isinstance(contact, dict):
        sender = message.get("from") if isinstance(message.get("from"), dict) else {}
        user_id = as_int(contact.get("user_id"))
        details = {
            "phone_number": as_str(contact.get("phone_number")),
            "user_id": user_id,
            "first_name": as_str(contact.get("first_name")),
            # The shopper's own number (the request_contact button), not someone
            # else's card: only then is it a verified phone (actions/identity.py).
            "own": user_id is not None and user_id == as_int(sender.get("id")),
        }
        return [Media(Kind.CONTACT, CHANNEL, details=_known(details))]
    return []


def file_media(item: dict[str, Any], kind: Kind) -> Media:
    mime_type = as_str(item.get("mime_type"))
    if kind is Kind.DOCUMENT and (mime_type or "").startswith("image/"):
        kind = Kind.PHOTO  # a photo sent as a file, uncompressed
    return Media(
        kind,
        CHANNEL,
        file_id=as_str(item.get("file_id")),
        mime_type=mime_type,
        size=as_int(item.get("file_size")),
        details=_known({k: item.get(k) for k in _FILE_DETAILS}),
    )


def _known(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if v is not None and v != ""}
