"""VK community bot: Callback API events in, ``messages.send`` out.

VK POSTs every community event as JSON. The ``confirmation`` event (for this
``group_id``) is answered with the confirmation string; every other event must carry
the Callback API secret key in its ``secret`` field, compared in constant time, or
it is refused with 403 and not processed. Accepted events are answered with the
plain body ``ok`` (also duplicates and kinds the bot ignores); each ``event_id`` is
processed once.

Buttons become an inline keyboard of ``text`` buttons whose payload is the JSON
string ``{"command": "<Rasa payload>"}``, e.g. ``{"command":"/affirm"}``. A press
arrives as ``message_new`` carrying that payload, and the Rasa payload is what the
bot receives; VK's own "Start" button (``{"command":"start"}``) becomes ``/greet``.
A message with attachments (photo, audio message, document, video, sticker,
graffiti, audio) or a location reaches Rasa as its text or, without one, as
``/shopper_sent_<kind>``, with each attachment's ``<type><owner>_<id>`` handle,
link and size in the metadata (``connectors/media.py``).

Images are sent as their URL in the text (VK attaches only photos uploaded to VK
first, which takes three more calls). Custom JSON is sent as extra ``messages.send``
parameters. Each outbound message has a ``random_id`` derived from the delivery it
answers, so a reply re-sent after a retry is dropped by VK instead of shown twice.

credentials.yml::

    connectors.vk.VKInput:
      token: ${VK_TOKEN}                # community access token, `messages` right
      secret: ${VK_SECRET}              # Callback API secret key
      confirmation: ${VK_CONFIRMATION}  # string the confirmation event expects
      group_id: ${VK_GROUP_ID}
      api_url: https://api.vk.com       # optional
      api_version: "5.199"              # optional; quote it (YAML reads 5.130 as 5.13)

or, with the values saved on the dashboard's Integrations page (checked there
with ``groups.getById``; the Callback API server is set in the community's
settings) and picked up while running (connectors/live.py; the process needs
EASYFLOW_API_URL, EASYFLOW_ACTION_TOKEN and the api's secrets key)::

    connectors.vk.VKInput:
      from_dashboard: true
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common.http import BodyError, PlatformClient, PlatformError
from common.security import secrets_equal
from connectors.attachments import download_url
from connectors.base import (
    ConfigError,
    Delivery,
    button_payload,
    require,
)
from connectors.channel import WebhookChannel
from connectors.live import DashboardCredentials
from connectors.media import Kind, Media, as_int, as_str, media_metadata
from connectors.media import message_text as media_text
from connectors.text import PartsOutput

logger = logging.getLogger(__name__)

CHANNEL = "vk"
DEFAULT_API_URL = "https://api.vk.com"
DEFAULT_API_VERSION = "5.199"
MAX_TEXT = 4096
MAX_LABEL = 40
MAX_BUTTON_PAYLOAD = 255
MAX_INLINE_BUTTONS = 10
MAX_INLINE_ROWS = 6
# 6: too many requests per second; 10: internal server error. Others are permanent.
RETRYABLE_ERRORS = frozenset({6, 10})
START_COMMAND = "start"  # payload of VK's built-in "Start" button
START_PAYLOAD = "/greet"
EMPTY_TEXT = "…"  # VK refuses a message with neither text nor attachment
OK = "ok"
_RANDOM_ID_MASK = 2**63 - 1


class VKOutput(PartsOutput, OutputChannel):
    max_text = MAX_TEXT
    empty_text = EMPTY_TEXT

    """Sends with ``messages.send``. ``context`` (the delivery being answered) seeds
    each message's ``random_id``; without one, ids are random per message."""

    def __init__(
        self,
        client: PlatformClient,
        token: str,
        api_version: str = DEFAULT_API_VERSION,
        context: str | None = None,
    ) -> None:
        self.client = client
        self.token = token
        self.api_version = api_version
        self.context = context
        self._sent = 0

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def for_delivery(self, key: str) -> VKOutput:
        """An output sharing this client whose random ids derive from ``key``."""
        return VKOutput(self.client, self.token, self.api_version, context=key)

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        # Form fields, not the query string, so the token stays out of URLs and logs.
        data = {key: form_value(value) for key, value in params.items()}
        data.update(access_token=self.token, v=self.api_version)
        return await self.client.post(f"/method/{method}", data=data)

    async def send(self, recipient_id: str, params: dict[str, Any]) -> None:
        peer = peer_id(recipient_id)
        message = {"peer_id": peer, "random_id": self.random_id(peer), **params}
        try:
            await self.call("messages.send", message)
        except PlatformError:
            # Logged by the client; one failed reply must not stop the others,
            # but a proactive message must be tried again (WebhookChannel).
            if self.strict:
                raise

    def random_id(self, peer: int | str) -> int:
        """VK drops a message whose random_id it has seen from this community, over
        the whole history; the nth message answering a delivery always gets the
        same one. 63 bits, never 0 (0 turns the check off)."""
        self._sent += 1
        seed = f"{self.context or uuid.uuid4().hex}:{peer}:{self._sent}"
        digest = hashlib.sha256(seed.encode()).digest()
        return int.from_bytes(digest[:8], "big") & _RANDOM_ID_MASK or 1

    async def send_part(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]] | None = None,
    ) -> None:
        params: dict[str, Any] = {"message": text}
        if buttons:
            params["keyboard"] = inline_keyboard(buttons)
        await self.send(recipient_id, params)

    async def send_image_url(
        self, recipient_id: str, image: str, **kwargs: Any
    ) -> None:
        """The URL as text: VK shows a preview of linked images."""
        await self.send(recipient_id, {"message": image})

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Extra messages.send params: ``{"sticker_id": 9}``, ``{"attachment": …}``."""
        await self.send(recipient_id, dict(json_message))


def peer_id(recipient_id: str) -> int | str:
    raw = recipient_id.removeprefix(f"{CHANNEL}:")
    return int(raw) if raw.lstrip("-").isdigit() else raw


def form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def inline_keyboard(buttons: list[dict[str, Any]]) -> str:
    """An inline keyboard as the JSON string messages.send takes: one button per row
    (two when there are more than six), at most ten buttons."""
    if len(buttons) > MAX_INLINE_BUTTONS:
        logger.warning("vk.keyboard.truncated", extra={"buttons": len(buttons)})
    cells = [keyboard_button(b) for b in buttons[:MAX_INLINE_BUTTONS]]
    per_row = max(1, math.ceil(len(cells) / MAX_INLINE_ROWS))
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    return form_value({"inline": True, "buttons": rows})


def keyboard_button(button: dict[str, Any]) -> dict[str, Any]:
    title = str(button.get("title") or button_payload(button))
    label = title if len(title) <= MAX_LABEL else title[: MAX_LABEL - 1] + "…"
    if button.get("url"):
        return {"action": {"type": "open_link", "link": button["url"], "label": label}}
    action: dict[str, Any] = {"type": "text", "label": label}
    payload = form_value({"command": button_payload(button)})
    if len(payload) <= MAX_BUTTON_PAYLOAD:
        action["payload"] = payload
    # else: no payload; VK sends the label as text, which NLU reads like a typed answer
    return {"action": action}


def payload_command(raw: Any) -> str | None:
    """``command`` of a button payload (a JSON string), if it has one."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    command = data.get("command") if isinstance(data, dict) else None
    return command if isinstance(command, str) and command else None


def message_text(message: dict[str, Any]) -> str | None:
    """What Rasa receives: a pressed button's payload, else the typed text."""
    command = payload_command(message.get("payload"))
    if command == START_COMMAND:
        return START_PAYLOAD
    if command and command.startswith("/"):
        return command
    text = message.get("text")
    return text if isinstance(text, str) and text.strip() else None


@dataclass(eq=False, repr=False)  # no repr: it would print the secrets
class VKInput(WebhookChannel):
    CHANNEL = CHANNEL
    auth_in_body = True  # the secret is a field of the event

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> VKInput:
        if credentials and credentials.get("from_dashboard"):
            return cls.from_dashboard(credentials)
        require(credentials, CHANNEL, "token", "secret", "confirmation", "group_id")
        assert credentials is not None
        try:
            group_id = int(str(credentials["group_id"]).strip())
        except ValueError as error:
            raise ConfigError(
                f"credentials.yml: {CHANNEL}.group_id must be a number"
            ) from error
        return cls(
            token=str(credentials["token"]),
            secret=str(credentials["secret"]),
            confirmation=str(credentials["confirmation"]),
            group_id=group_id,
            api_url=str(credentials.get("api_url") or DEFAULT_API_URL),
            api_version=str(credentials.get("api_version") or DEFAULT_API_VERSION),
        )

    @classmethod
    def from_dashboard(
        cls, credentials: dict[str, Any], env: Mapping[str, str] | None = None
    ) -> VKInput:
        """Token, secret key, confirmation string and community id from the
        dashboard's Integrations page, picked up while running
        (connectors/live.py); until the first read, and while the integration
        is disabled, every event is refused, the confirmation too."""
        channel = cls(token="", secret="", confirmation="", group_id=0)
        channel.live = DashboardCredentials.from_env(CHANNEL, channel.use, env)
        return channel

    token: str
    secret: str
    confirmation: str
    group_id: int
    api_url: str = DEFAULT_API_URL
    api_version: str = DEFAULT_API_VERSION

    def __post_init__(self) -> None:
        super().__post_init__()
        self.live: DashboardCredentials | None = None

    def use(self, values: dict[str, str] | None) -> None:
        """New credentials from the dashboard (``None``: disabled): the next
        event is checked against the new secret and answered with the new
        token; outputs built with the old token are dropped."""
        values = values or {}
        group_id = values.get("VK_GROUP_ID", "").strip()
        self.token = values.get("VK_TOKEN", "")
        self.secret = values.get("VK_SECRET", "")
        self.confirmation = values.get("VK_CONFIRMATION", "")
        self.group_id = int(group_id) if group_id.isdigit() else 0
        self.api_url = values.get("VK_API_URL") or DEFAULT_API_URL
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

    def make_output(self) -> VKOutput:
        client = PlatformClient(CHANNEL, self.api_url, body_error=api_error)
        return VKOutput(client, self.token, self.api_version)

    def invalid(self, event: Any) -> str | None:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "not a VK event"
        return None

    def authenticate(self, request: Request, event: Any) -> bool:
        if not (self.token and self.secret and self.group_id):
            return False  # connected on the dashboard, and not (or no longer)
        return self.authentic(event)

    def rejected(self, request: Request) -> HTTPResponse:
        logger.warning("vk.webhook.rejected", extra={"ip": request.ip})
        return self.error("forbidden", 403)

    def intercept(self, request: Request, event: dict[str, Any]) -> Any:
        if str(event.get("group_id")) != str(self.group_id):
            logger.warning(
                "vk.webhook.wrong_group", extra={"group_id": event.get("group_id")}
            )
            return self.error("forbidden", 403)
        if event["type"] == "confirmation":
            return response.text(self.confirmation)
        return None

    def deliveries(self, event: dict[str, Any]) -> list[Delivery]:
        delivery = self.parse(event) if event["type"] == "message_new" else None
        return [delivery] if delivery is not None else []

    def output_for(self, delivery: Delivery) -> VKOutput:
        return self.reply_output().for_delivery(delivery.key)

    def acknowledge(self, ignored: bool = False) -> HTTPResponse:
        return response.text(OK)

    def error(self, message: str, status: int) -> HTTPResponse:
        return response.text(message, status=status)

    def parse(self, event: dict[str, Any]) -> Delivery | None:
        """A ``message_new`` event as a delivery, or ``None`` if it has neither
        text nor anything attached."""
        obj = event.get("object")
        if not isinstance(obj, dict):
            return None
        # API 5.103+ wraps the message with client_info; older versions send it bare.
        message = obj["message"] if isinstance(obj.get("message"), dict) else obj
        client_info = obj.get("client_info")
        if not isinstance(client_info, dict):
            client_info = {}
        media = message_media(message)
        text = message_text(message)
        if text is None:
            text = media_text(media, None)
        peer = message.get("peer_id") or message.get("from_id")
        if text is None or not isinstance(peer, int):
            return None
        event_id = event.get("event_id")
        if isinstance(event_id, str) and event_id:
            key = f"{CHANNEL}:{self.group_id}:{event_id}"
        else:
            if message.get("id"):  # 0 in group chats
                ref = f"id{message['id']}"
            elif message.get("conversation_message_id"):
                ref = f"cmid{message['conversation_message_id']}"
            else:
                logger.warning("vk.webhook.unidentified", extra={"peer_id": peer})
                ref = uuid.uuid4().hex
            key = f"{CHANNEL}:{self.group_id}:{peer}:{ref}"
        metadata = {
            "group_id": self.group_id,
            "event_id": event_id,
            "peer_id": peer,
            "from_id": message.get("from_id"),
            "message_id": message.get("id"),
            "conversation_message_id": message.get("conversation_message_id"),
            "vk_lang_id": client_info.get("lang_id"),
        }
        metadata.update(media_metadata(media))
        return Delivery(
            key=key,
            sender_id=f"{CHANNEL}:{peer}",
            text=text,
            metadata={k: v for k, v in metadata.items() if v is not None},
        )

    def authentic(self, event: dict[str, Any]) -> bool:
        """The secret matches; only the confirmation event may come without one."""
        secret = event.get("secret")
        if event["type"] == "confirmation" and secret is None:
            return True
        return secrets_equal(self.secret, secret if isinstance(secret, str) else None)


# Attachment types and how they are answered; any other type (a wall post, a
# link, a gift, a product) is answered like a file.
_ATTACHMENTS = {
    "photo": Kind.PHOTO,
    "audio_message": Kind.VOICE,
    "audio": Kind.AUDIO,
    "video": Kind.VIDEO,
    "doc": Kind.DOCUMENT,
    "sticker": Kind.STICKER,
    "graffiti": Kind.STICKER,
}


def message_media(message: dict[str, Any]) -> list[Media]:
    """The message's attachments and location, in order, as ``Media``."""
    media = []
    attachments = message.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if isinstance(attachment, dict) and isinstance(attachment.get("type"), str):
            media.append(attachment_media(attachment))
    geo = message.get("geo")
    coordinates = geo.get("coordinates") if isinstance(geo, dict) else None
    if isinstance(coordinates, dict):
        details = {k: coordinates.get(k) for k in ("latitude", "longitude")}
        media.append(Media(Kind.LOCATION, CHANNEL, details=details))
    return media


def attachment_media(attachment: dict[str, Any]) -> Media:
    kind_name = attachment["type"]
    kind = _ATTACHMENTS.get(kind_name, Kind.DOCUMENT)
    item = attachment.get(kind_name)
    item = item if isinstance(item, dict) else {}
    details: dict[str, Any] = {"vk_type": kind_name}
    url: str | None = None
    if kind_name == "photo":
        sizes = [s for s in item.get("sizes") or [] if isinstance(s, dict)]
        largest = max(
            sizes,
            key=lambda s: (as_int(s.get("width")) or 0)
            * (as_int(s.get("height")) or 0),
            default={},
        )
        url = as_str(largest.get("url"))
        details.update(width=largest.get("width"), height=largest.get("height"))
    elif kind_name == "audio_message":
        url = as_str(item.get("link_ogg")) or as_str(item.get("link_mp3"))
        details["duration"] = item.get("duration")
    elif kind_name == "sticker":
        details.update(
            sticker_id=item.get("sticker_id"), product_id=item.get("product_id")
        )
    else:
        url = as_str(item.get("url"))
        details.update(
            file_name=as_str(item.get("title")), duration=item.get("duration")
        )
    owner, item_id = as_int(item.get("owner_id")), as_int(item.get("id"))
    handle = None
    if owner is not None and item_id is not None:
        handle = f"{kind_name}{owner}_{item_id}"
        if as_str(item.get("access_key")):
            handle += f"_{item['access_key']}"
    mime_type = _DOC_MIME.get(str(item.get("ext") or "").lower())
    if kind is Kind.DOCUMENT and (mime_type or "").startswith("image/"):
        kind = Kind.PHOTO  # a photo sent as a file
    return Media(
        kind,
        CHANNEL,
        file_id=handle,
        url=url,
        mime_type=mime_type,
        size=as_int(item.get("size")),
        details={k: v for k, v in details.items() if v is not None},
    )


# VK gives a document's extension, not its MIME type: the common ones.
_DOC_MIME = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "heic": "image/heic",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "txt": "text/plain",
}


def api_error(body: Any) -> BodyError | None:
    """VK answers 200 with ``{"error": {"error_code": 6, …}}`` when a call fails."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    return BodyError(retryable=error.get("error_code") in RETRYABLE_ERRORS)
