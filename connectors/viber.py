"""Viber REST bot API: signed callbacks in, ``/pa/send_message`` out.

Every callback is signed: ``X-Viber-Content-Signature`` is the hex HMAC-SHA256 of
the raw body keyed with the bot's auth token, checked in constant time before the
body is read (403 otherwise). Text messages are handed to Rasa, each
``message_token`` once; a picture, video, file, sticker, location or contact as its
text (a picture's caption) or as ``/shopper_sent_<kind>``, with its media URL, size
and name in the metadata (``connectors/media.py``); a shared link as its URL. The
``webhook`` check that set_webhook triggers, ``subscribed``,
``conversation_started``, delivery receipts and unknown events are acknowledged
with an empty 200: Viber would take a JSON answer to ``conversation_started`` for
a welcome message.

Buttons become a keyboard of ``reply`` buttons whose ActionBody is the Rasa payload
(``/affirm``); a press arrives as an ordinary text message carrying the ActionBody.
Images are sent as ``picture`` messages. Custom JSON is sent as a send_message body,
with ``receiver`` and ``sender`` filled in. Viber answers 200 with ``{"status": N}``:
0 is success, 12 ("Too many requests") is retried, any other status is logged as a
permanent failure.

credentials.yml::

    connectors.viber.ViberInput:
      auth_token: ${VIBER_AUTH_TOKEN}
      name: Easy Flow                       # sender name, at most 28 characters
      avatar: https://shop.example/bot.png  # optional
      api_url: https://chatapi.viber.com    # optional
      webhook_url: https://bot.example/webhooks/viber/webhook  # for setup

or, with the values saved on the dashboard's Integrations page (checked there
with ``get_account_info``, the webhook registered with ``set_webhook``) and
picked up while running (connectors/live.py; the process needs
EASYFLOW_API_URL, EASYFLOW_ACTION_TOKEN and the api's secrets key)::

    connectors.viber.ViberInput:
      from_dashboard: true

Viber's ``set_webhook`` posts a ``webhook`` event to the address at once, signed
with the new token, and registers nothing unless it gets a 200; the dashboard's
check makes that call before the running connector has the token, so a
connector from the dashboard answers that one event with an empty 200 whatever
its signature (it processes nothing and tells nothing). Every other callback
must be signed with the token in use: while the integration is disabled none is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from common.http import BodyError, PlatformClient, PlatformError
from common.security import verify_hmac_sha256
from connectors.attachments import AttachmentKeeper, download_url
from connectors.base import (
    ConfigError,
    Delivery,
    button_payload,
    require,
)
from connectors.channel import WebhookChannel
from connectors.dedupe import DedupeStore
from connectors.guard import ShopperGuard
from connectors.live import DashboardCredentials
from connectors.media import Kind, Media, as_int, as_str, media_metadata
from connectors.media import message_text as media_text
from connectors.text import PartsOutput

logger = logging.getLogger(__name__)

CHANNEL = "viber"
DEFAULT_API_URL = "https://chatapi.viber.com"
SIGNATURE_HEADER = "X-Viber-Content-Signature"
AUTH_HEADER = "X-Viber-Auth-Token"
MAX_TEXT = 7000
MAX_SENDER_NAME = 28
RETRYABLE_STATUSES = frozenset({12})  # "Too many requests"
EMPTY_TEXT = "…"  # a text message needs text; Rasa allows buttons alone


class ViberOutput(PartsOutput, OutputChannel):
    max_text = MAX_TEXT
    empty_text = EMPTY_TEXT

    def __init__(
        self, client: PlatformClient, auth_token: str, name: str, avatar: str | None
    ) -> None:
        self.client = client
        self.auth_token = auth_token
        self.sender: dict[str, str] = {"name": name}
        if avatar:
            self.sender["avatar"] = avatar

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def call(self, message: dict[str, Any]) -> Any:
        return await self.client.post(
            "/pa/send_message", json=message, headers={AUTH_HEADER: self.auth_token}
        )

    async def send(self, recipient_id: str, content: dict[str, Any]) -> None:
        message = {"receiver": receiver(recipient_id), "sender": self.sender}
        message.update(content)
        try:
            await self.call(message)
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
        content: dict[str, Any] = {"type": "text", "text": text}
        if buttons:
            content["keyboard"] = keyboard(buttons)
        await self.send(recipient_id, content)

    async def send_image_url(
        self, recipient_id: str, image: str, **kwargs: Any
    ) -> None:
        await self.send(recipient_id, {"type": "picture", "text": "", "media": image})

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """A send_message body, e.g. ``{"type": "sticker", "sticker_id": 46105}``."""
        await self.send(recipient_id, dict(json_message))


def receiver(recipient_id: str) -> str:
    return recipient_id.removeprefix(f"{CHANNEL}:")


def keyboard(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """Full-width buttons, one per row; ``url`` buttons open links."""
    cells = []
    for button in buttons:
        title = str(button.get("title") or button_payload(button))
        if button.get("url"):
            action, body = "open-url", str(button["url"])
        else:
            action, body = "reply", button_payload(button)
        cells.append(
            {
                "Columns": 6,
                "Rows": 1,
                "ActionType": action,
                "ActionBody": body,
                "Text": title,
            }
        )
    return {"Type": "keyboard", "DefaultHeight": False, "Buttons": cells}


class ViberInput(WebhookChannel):
    CHANNEL = CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ViberInput:
        if credentials and credentials.get("from_dashboard"):
            return cls.from_dashboard(credentials)
        require(credentials, CHANNEL, "auth_token", "name")
        assert credentials is not None
        name = str(credentials["name"]).strip()
        if len(name) > MAX_SENDER_NAME:
            raise ConfigError(
                f"credentials.yml: {CHANNEL}.name must be at most "
                f"{MAX_SENDER_NAME} characters"
            )
        return cls(
            auth_token=str(credentials["auth_token"]),
            name=name,
            avatar=credentials.get("avatar") or None,
            api_url=str(credentials.get("api_url") or DEFAULT_API_URL),
            webhook_url=credentials.get("webhook_url"),
        )

    def __init__(
        self,
        auth_token: str,
        name: str,
        avatar: str | None = None,
        api_url: str = DEFAULT_API_URL,
        webhook_url: str | None = None,
        dedupe: DedupeStore | None = None,
        guard: ShopperGuard | None = None,
        attachments: AttachmentKeeper | None = None,
    ) -> None:
        super().__init__(dedupe=dedupe, guard=guard, attachments=attachments)
        self.auth_token = auth_token
        self.sender_name = name
        self.avatar = avatar
        self.api_url = api_url
        self.webhook_url = webhook_url
        self.live: DashboardCredentials | None = None

    @classmethod
    def from_dashboard(
        cls, credentials: dict[str, Any], env: Mapping[str, str] | None = None
    ) -> ViberInput:
        """Token, sender name and avatar from the dashboard's Integrations page,
        picked up while running (connectors/live.py); until the first read, and
        while the integration is disabled, every callback is refused but
        set_webhook's own ``webhook`` event (see the module's docstring)."""
        channel = cls(auth_token="", name="")
        channel.live = DashboardCredentials.from_env(CHANNEL, channel.use, env)
        return channel

    def use(self, values: dict[str, str] | None) -> None:
        """New credentials from the dashboard (``None``: disabled): the next
        callback is checked against the new token and answered with it;
        outputs built with the old token are dropped."""
        values = values or {}
        self.auth_token = values.get("VIBER_AUTH_TOKEN", "")
        self.sender_name = values.get("VIBER_NAME", "")[:MAX_SENDER_NAME]
        self.avatar = values.get("VIBER_AVATAR") or None
        self.api_url = values.get("VIBER_API_URL") or DEFAULT_API_URL
        self.webhook_url = values.get("VIBER_WEBHOOK_URL")
        self._output = None
        self._proactive = None

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        if self.live is not None:
            self.live.attach(webhook)
        return webhook

    async def fetch_media(
        self, item: dict[str, Any], max_bytes: int
    ) -> tuple[bytes, str | None] | None:
        """The photo's or file's link in the message (``download_url``)."""
        content = await download_url(CHANNEL, item.get("url"), max_bytes, self.api_url)
        return None if content is None else (content, item.get("mime_type"))

    def make_output(self) -> ViberOutput:
        client = PlatformClient(CHANNEL, self.api_url, body_error=api_error)
        return ViberOutput(client, self.auth_token, self.sender_name, self.avatar)

    def authenticate(self, request: Request, payload: Any) -> bool:
        signature = request.headers.get(SIGNATURE_HEADER)
        if verify_hmac_sha256(self.auth_token, request.body or b"", signature):
            return True
        return self.live is not None and webhook_check(request.body or b"")

    def invalid(self, event: Any) -> str | None:
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            return "not a Viber callback"
        if event["event"] == "message" and not isinstance(
            event.get("message_token"), int | str
        ):
            return "no message_token"
        return None

    def intercept(self, request: Request, event: dict[str, Any]) -> Any:
        if event["event"] == "webhook":
            logger.info("viber.webhook.confirmed")
        return acknowledged() if event["event"] != "message" else None

    def deliveries(self, event: dict[str, Any]) -> list[Delivery]:
        delivery = self.parse(event)
        return [delivery] if delivery is not None else []

    def acknowledge(self, ignored: bool = False) -> HTTPResponse:
        return acknowledged()

    def parse(self, event: dict[str, Any]) -> Delivery | None:
        """A ``message`` callback as a delivery: its text, a link's URL, or the
        media it carries; ``None`` when it has none of them."""
        message, sender = event.get("message"), event.get("sender")
        if not isinstance(message, dict) or not isinstance(sender, dict):
            return None
        user = sender.get("id")
        media = message_media(message)
        text = message.get("text")
        if message.get("type") == "url":
            text = message.get("media")
        elif message.get("type") != "text":
            text = media_text(media, text) if media else None
        if not isinstance(text, str) or not text.strip():
            return None
        if not isinstance(user, str) or not user:
            return None
        metadata = {
            "display_name": sender.get("name"),
            "language_code": sender.get("language"),
            "country": sender.get("country"),
            "message_token": event["message_token"],
            "tracking_data": message.get("tracking_data"),
            **media_metadata(media),
        }
        return Delivery(
            key=f"{CHANNEL}:{event['message_token']}",
            sender_id=f"{CHANNEL}:{user}",
            text=text,
            metadata={k: v for k, v in metadata.items() if v is not None},
        )


_MEDIA = {
    "picture": Kind.PHOTO,
    "video": Kind.VIDEO,
    "file": Kind.DOCUMENT,
    "sticker": Kind.STICKER,
}


def message_media(message: dict[str, Any]) -> list[Media]:
    """A picture, video, file or sticker (its ``media`` URL, which Viber keeps
    for a limited time), a location or a contact, as ``Media``."""
    kind_name = message.get("type")
    if kind_name == "location":
        location = message.get("location")
        if not isinstance(location, dict):
            return []
        details = {
            "latitude": location.get("lat"),
            "longitude": location.get("lon"),
            "address": as_str(location.get("address")),
        }
        return [Media(Kind.LOCATION, CHANNEL, details=_known(details))]
    if kind_name == "contact":
        contact = message.get("contact")
        if not isinstance(contact, dict):
            return []
        details = {
            "phone_number": as_str(contact.get("phone_number")),
            "first_name": as_str(contact.get("name")),
        }
        return [Media(Kind.CONTACT, CHANNEL, details=_known(details))]
    if kind_name not in _MEDIA:
        return []
    kind = _MEDIA[kind_name]
    file_name = as_str(message.get("file_name"))
    details = {
        "file_name": file_name,
        "duration": as_int(message.get("duration")),
        "sticker_id": as_int(message.get("sticker_id")),
    }
    return [
        Media(
            kind,
            CHANNEL,
            url=as_str(message.get("media")),
            size=as_int(message.get("size")),
            details=_known(details),
        )
    ]


def webhook_check(body: bytes) -> bool:
    """The body is set_webhook's ``webhook`` event, and nothing else."""
    try:
        event = json.loads(body)
    except ValueError:
        return False
    return isinstance(event, dict) and event.get("event") == "webhook"


def _known(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if v is not None}


def acknowledged() -> HTTPResponse:
    """200 with no body: a body would be read as a reply to conversation_started."""
    return HTTPResponse(status=200)


def api_error(body: Any) -> BodyError | None:
    """Viber answers 200 with ``{"status": 0}`` on success, another status if not."""
    status = body.get("status") if isinstance(body, dict) else None
    if status is None or status == 0:
        return None
    return BodyError(retryable=status in RETRYABLE_STATUSES)
