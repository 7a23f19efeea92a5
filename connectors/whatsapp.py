"""WhatsApp Business Cloud API (Meta Graph): signed webhook, reply buttons, lists.

Meta subscribes the webhook with a ``GET`` handshake (``hub.verify_token`` is
compared in constant time) and signs every ``POST`` with ``X-Hub-Signature-256``,
an HMAC-SHA256 of the raw body keyed with the App Secret. One notification can
batch several messages; each message id (``wamid``) is processed once, and a Rasa
failure answers 503 so that Meta retries the notification.

An image, audio or voice note, video, document, sticker, location or shared
contact reaches Rasa as its caption or as ``/shopper_sent_<kind>``, with its Graph
media id and MIME type in the metadata (``connectors/media.py``).

credentials.yml::

    connectors.whatsapp.WhatsAppInput:
      access_token: ${WHATSAPP_ACCESS_TOKEN}
      app_secret: ${WHATSAPP_APP_SECRET}
      verify_token: ${WHATSAPP_VERIFY_TOKEN}
      phone_number_id: ${WHATSAPP_PHONE_NUMBER_ID}
      api_url: https://graph.facebook.com   # optional
      api_version: v21.0                    # optional
      list_button: Выбрать                  # optional: opens a list of 4–10 choices
      update_template: order_update         # optional, see below
      update_template_language: ru          # optional

Proactive messages (order updates, payment notices, operator replies) more than
24 hours after the shopper last wrote are refused by Graph (error 131047): with
``update_template`` (an approved template whose body has one parameter, such as
"Новости по вашему заказу: {{1}}") the text goes out as that template instead.

Or, with the values saved on the dashboard's Integrations page (checked there
with ``GET /<version>/<phone_number_id>``; the callback URL and verify token
are set in Meta's console) and picked up while running (connectors/live.py; the
process needs EASYFLOW_API_URL, EASYFLOW_ACTION_TOKEN and the api's secrets
key)::

    connectors.whatsapp.WhatsAppInput:
      from_dashboard: true
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common.http import PlatformClient, PlatformError
from common.security import secrets_equal, verify_hmac_sha256
from connectors.attachments import download_url
from connectors.base import Delivery, button_payload, require
from connectors.channel import WebhookChannel
from connectors.live import DashboardCredentials
from connectors.media import Kind, Media, as_str, media_metadata
from connectors.media import message_text as media_text
from connectors.text import PartsOutput, split_text

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
DEFAULT_API_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
MAX_TEXT = 4096  # text.body
MAX_BUTTON_BODY = 1024  # interactive "button" body.text
MAX_LIST_BODY = 4096  # interactive "list" body.text
MAX_REPLY_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_ID = 200
MAX_LIST_BUTTON = 20  # the label that opens the list
MAX_SECTION_TITLE = 24
DEFAULT_LIST_BUTTON = "Выбрать"
EMPTY_BODY = "…"  # interactive messages need a body; Rasa allows buttons alone
# Graph's "Re-engagement message": more than 24 h since the shopper last wrote.
WINDOW_CLOSED = 131047
MAX_TEMPLATE_PARAMETER = 1024


class WhatsAppOutput(PartsOutput, OutputChannel):
    max_text = MAX_TEXT

    def __init__(
        self,
        client: PlatformClient,
        access_token: str,
        phone_number_id: str,
        api_version: str = DEFAULT_API_VERSION,
        list_button: str = DEFAULT_LIST_BUTTON,
        update_template: str = "",
        update_template_language: str = "ru",
    ) -> None:
        self.update_template = update_template
        self.update_template_language = update_template_language
        self.client = client
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.api_version = api_version
        self.list_button = list_button[:MAX_LIST_BUTTON]

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def call(self, message: dict[str, Any]) -> Any:
        return await self.client.post(
            f"/{self.api_version}/{self.phone_number_id}/messages",
            json=message,
            headers={"Authorization": f"Bearer {self.access_token}"},
        )

    async def send(self, message: dict[str, Any]) -> None:
        try:
            await self.call(message)
        except PlatformError as error:
            # Logged (with Graph's error body) by the client; one failed reply
            # must not stop the others, but a proactive message must be tried
            # again (WebhookChannel).
            if not self.strict:
                return
            template = self.outside_window_template(message, error)
            if template is None:
                raise
            # More than 24 h since the shopper last wrote: only an approved
            # template may go out, carrying the text as its one parameter.
            logger.info("whatsapp.template_sent", extra={"reason": WINDOW_CLOSED})
            await self.call(template)

    def outside_window_template(
        self, sent: dict[str, Any], error: PlatformError
    ) -> dict[str, Any] | None:
        """The template message for a proactive text Graph refused because the
        24-hour window is closed (error 131047); ``None`` when that is not why,
        or no template is configured."""
        if not self.update_template or graph_error_code(error.body) != WINDOW_CLOSED:
            return None
        text = sent_text(sent)
        if not text:
            return None
        return {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": sent["to"],
            "type": "template",
            "template": {
                "name": self.update_template,
                "language": {"code": self.update_template_language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": template_text(text)}],
                    }
                ],
            },
        }

    async def send_part(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]] | None = None,
    ) -> None:
        """A text part; buttons are sent by send_text_with_buttons below."""
        await self.send(message(recipient_id, "text", {"body": text}))

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """≤3 buttons: reply buttons; ≤10: a list; more (or links): numbered text."""
        if not buttons:
            await self.send_text_message(recipient_id, text)
            return
        if len(buttons) > MAX_LIST_ROWS or any(b.get("url") for b in buttons):
            await self.send_text_message(recipient_id, numbered(text, buttons))
            return
        if len(buttons) <= MAX_REPLY_BUTTONS:
            lead, body = lead_and_body(text, MAX_BUTTON_BODY)
            action: dict[str, Any] = {"buttons": reply_buttons(buttons)}
            kind = "button"
        else:
            lead, body = lead_and_body(text, MAX_LIST_BODY)
            action = {
                "button": self.list_button,
                "sections": [
                    {
                        "title": self.list_button[:MAX_SECTION_TITLE],
                        "rows": list_rows(buttons),
                    }
                ],
            }
            kind = "list"
        for part in lead:
            await self.send_part(recipient_id, part)
        interactive = {"type": kind, "body": {"text": body}, "action": action}
        await self.send(message(recipient_id, "interactive", interactive))

    async def send_image_url(
        self, recipient_id: str, image: str, **kwargs: Any
    ) -> None:
        await self.send(message(recipient_id, "image", {"link": image}))

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """A Graph message object, sent as is: ``{"type": "location", ...}``."""
        payload = dict(json_message)
        payload.setdefault("messaging_product", "whatsapp")
        payload.setdefault("to", wa_id(recipient_id))
        await self.send(payload)


def wa_id(recipient_id: str) -> str:
    return recipient_id.removeprefix(f"{CHANNEL}:")


def graph_error_code(body: str) -> int | None:
    """``error.code`` of a Graph error body, if it is one."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) else None


def sent_text(sent: dict[str, Any]) -> str | None:
    """The words of a text or interactive message we tried to send."""
    if sent.get("type") == "text":
        return (sent.get("text") or {}).get("body")
    if sent.get("type") == "interactive":
        return ((sent.get("interactive") or {}).get("body") or {}).get("text")
    return None


def template_text(text: str) -> str:
    """Graph refuses template parameters with new lines, tabs or more than four
    spaces in a row, or over 1024 characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat[:MAX_TEMPLATE_PARAMETER]


def message(recipient_id: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_id(recipient_id),
        "type": kind,
        kind: content,
    }


def lead_and_body(text: str, body_limit: int) -> tuple[list[str], str]:
    """Plain-text parts to send first, and the last part that fits ``body_limit``."""
    parts = split_text(text, MAX_TEXT)
    if not parts:
        return [], EMPTY_BODY
    *lead, last = parts
    *more, body = split_text(last, body_limit)
    return lead + more, body


def _choices(
    buttons: list[dict[str, Any]], title_limit: int, id_limit: int
) -> Iterator[tuple[str, str]]:
    for button in buttons:
        title = str(button.get("title") or button_payload(button))
        choice_id = button_payload(button)
        if len(choice_id) > id_limit:
            # Graph refuses longer ids: send the title instead, which NLU
            # understands like a typed answer.
            choice_id = title[:id_limit]
        yield choice_id, title[:title_limit]


def reply_buttons(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "reply", "reply": {"id": choice_id, "title": title}}
        for choice_id, title in _choices(buttons, MAX_BUTTON_TITLE, MAX_BUTTON_ID)
    ]


def list_rows(buttons: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"id": choice_id, "title": title}
        for choice_id, title in _choices(buttons, MAX_ROW_TITLE, MAX_ROW_ID)
    ]


def numbered(text: str, buttons: list[dict[str, Any]]) -> str:
    lines = []
    for number, button in enumerate(buttons, start=1):
        title = str(button.get("title") or button_payload(button))
        link = f" — {button['url']}" if button.get("url") else ""
        lines.append(f"{number}. {title}{link}")
    return "\n\n".join(p for p in (text.strip(), "\n".join(lines)) if p)


@dataclass(eq=False, repr=False)  # no repr: it would print the secrets
class WhatsAppInput(WebhookChannel):
    CHANNEL = CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        if credentials and credentials.get("from_dashboard"):
            return cls.from_dashboard(credentials)
        require(
            credentials,
            CHANNEL,
            "access_token",
            "app_secret",
            "verify_token",
            "phone_number_id",
        )
        assert credentials is not None
        return cls(
            access_token=str(credentials["access_token"]),
            app_secret=str(credentials["app_secret"]),
            verify_token=str(credentials["verify_token"]),
            phone_number_id=str(credentials["phone_number_id"]),
            api_url=str(credentials.get("api_url") or DEFAULT_API_URL),
            api_version=str(credentials.get("api_version") or DEFAULT_API_VERSION),
            list_button=str(credentials.get("list_button") or DEFAULT_LIST_BUTTON),
            update_template=str(credentials.get("update_template") or ""),
            update_template_language=str(
                credentials.get("update_template_language") or "ru"
            ),
        )

    access_token: str
    app_secret: str
    verify_token: str
    phone_number_id: str
    api_url: str = DEFAULT_API_URL
    api_version: str = DEFAULT_API_VERSION
    list_button: str = DEFAULT_LIST_BUTTON
    # An approved template with one body parameter ("Новости по вашему заказу:
    # {{1}}"), for proactive messages outside the 24-hour window; empty: they
    # fail, and the notice queue keeps trying until it gives up.
    update_template: str = ""
    update_template_language: str = "ru"

    @classmethod
    def from_dashboard(
        cls, credentials: dict[str, Any], env: Mapping[str, str] | None = None
    ) -> WhatsAppInput:
        """Access token, App Secret, verify token and phone number id from the
        dashboard's Integrations page, picked up while running
        (connectors/live.py); until the first read, and while the integration
        is disabled, every notification and verification is refused. The
        other options (``list_button``, ``update_template``…) stay here."""
        channel = cls(
            access_token="",
            app_secret="",
            verify_token="",
            phone_number_id="",
            list_button=str(credentials.get("list_button") or DEFAULT_LIST_BUTTON),
            update_template=str(credentials.get("update_template") or ""),
            update_template_language=str(
                credentials.get("update_template_language") or "ru"
            ),
        )
        channel.live = DashboardCredentials.from_env(CHANNEL, channel.use, env)
        return channel

    def __post_init__(self) -> None:
        super().__post_init__()
        self.live: DashboardCredentials | None = None

    def use(self, values: dict[str, str] | None) -> None:
        """New credentials from the dashboard (``None``: disabled): the next
        notification is checked against the new App Secret and answered with
        the new token; outputs built with the old token are dropped."""
        values = values or {}
        self.access_token = values.get("WHATSAPP_ACCESS_TOKEN", "")
        self.app_secret = values.get("WHATSAPP_APP_SECRET", "")
        self.verify_token = values.get("WHATSAPP_VERIFY_TOKEN", "")
        self.phone_number_id = values.get("WHATSAPP_PHONE_NUMBER_ID", "")
        self.api_url = values.get("WHATSAPP_API_URL") or DEFAULT_API_URL
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
        """Graph's media URL for the id (``GET /<version>/<media id>``), then the
        file from it (``download_url``: HTTPS only); both with the access token,
        as Graph requires."""
        media_id = as_str(item.get("file_id"))
        if not media_id or not re.fullmatch(r"[0-9A-Za-z_.-]{1,128}", media_id):
            return None
        auth = {"Authorization": f"Bearer {self.access_token}"}
        graph = PlatformClient(CHANNEL, self.api_url)
        try:
            info = await graph.get(f"/{self.api_version}/{media_id}", headers=auth)
        except PlatformError:
            return None  # logged by the client
        finally:
            await graph.close()
        url = as_str(info.get("url")) if isinstance(info, dict) else None
        content = await download_url(CHANNEL, url, max_bytes, self.api_url, auth)
        if content is None:
            return None
        return content, as_str(info.get("mime_type")) or item.get("mime_type")

    def make_output(self) -> WhatsAppOutput:
        return WhatsAppOutput(
            PlatformClient(CHANNEL, self.api_url),
            self.access_token,
            self.phone_number_id,
            self.api_version,
            self.list_button,
            self.update_template,
            self.update_template_language,
        )

    def authenticate(self, request: Request, payload: Any) -> bool:
        signature = request.headers.get(SIGNATURE_HEADER)
        return verify_hmac_sha256(
            self.app_secret, request.body or b"", signature, prefix=SIGNATURE_PREFIX
        )

    def invalid(self, notification: Any) -> str | None:
        if not isinstance(notification, dict) or not isinstance(
            notification.get("entry"), list
        ):
            return "not a WhatsApp notification"
        return None

    def deliveries(self, notification: dict[str, Any]) -> list[Delivery]:
        return self.parse(notification)

    def extend(self, webhook: Blueprint) -> None:
        @webhook.get("/webhook")
        async def verify(request: Request) -> HTTPResponse:
            mode = request.args.get("hub.mode")
            token = request.args.get("hub.verify_token")
            if mode != "subscribe" or not secrets_equal(self.verify_token, token):
                logger.warning("whatsapp.verify.rejected", extra={"ip": request.ip})
                return response.text("forbidden", status=403)
            challenge = request.args.get("hub.challenge")
            if not challenge:
                return response.text("hub.challenge is missing", status=400)
            logger.info("whatsapp.verify.accepted")
            return response.text(challenge)

    def parse(self, notification: dict[str, Any]) -> list[Delivery]:
        """Every answerable message in the notification, in order; statuses and
        kinds the bot does not answer are left out."""
        deliveries = []
        for entry in _dicts(notification.get("entry")):
            for change in _dicts(entry.get("changes")):
                value = change.get("value")
                if change.get("field") != "messages" or not isinstance(value, dict):
                    continue
                metadata = value.get("metadata")
                number = (
                    metadata.get("phone_number_id")
                    if isinstance(metadata, dict)
                    else None
                )
                if number is not None and str(number) != self.phone_number_id:
                    # Another number of the same business account: not ours to
                    # answer, and we could not answer from it anyway.
                    logger.info("whatsapp.webhook.other_number", extra={"to": number})
                    continue
                names = {
                    str(c.get("wa_id")): (c.get("profile") or {}).get("name")
                    for c in _dicts(value.get("contacts"))
                }
                for item in _dicts(value.get("messages")):
                    delivery = self._delivery(item, names, number)
                    if delivery is not None:
                        deliveries.append(delivery)
        return deliveries

    def _delivery(
        self, item: dict[str, Any], names: dict[str, Any], number: Any
    ) -> Delivery | None:
        message_id, sender, text = item.get("id"), item.get("from"), message_text(item)
        media = message_media(item)
        if text is None and media:
            text = media_text(media, _caption(item))
        if not message_id or not sender or text is None:
            return None
        metadata = {
            "display_name": names.get(str(sender)),
            "phone_number_id": number,
            "message_id": message_id,
            **media_metadata(media),
        }
        return Delivery(
            key=f"{CHANNEL}:{message_id}",
            sender_id=f"{CHANNEL}:{sender}",
            text=text,
            metadata={k: v for k, v in metadata.items() if v is not None},
        )


def message_text(item: dict[str, Any]) -> str | None:
    """A text's body, or the id of the tapped reply button or list row."""
    kind = item.get("type")
    if kind == "text":
        body = (item.get("text") or {}).get("body")
        return body if isinstance(body, str) and body.strip() else None
    if kind == "interactive":
        interactive = item.get("interactive") or {}
        kind = interactive.get("type")
        reply = (
            interactive.get(kind) if kind in ("button_reply", "list_reply") else None
        )
        if isinstance(reply, dict):
            choice = reply.get("id") or reply.get("title")
            return str(choice) if choice else None
    return None


_MEDIA = {
    "image": Kind.PHOTO,
    "video": Kind.VIDEO,
    "document": Kind.DOCUMENT,
    "sticker": Kind.STICKER,
}


def message_media(item: dict[str, Any]) -> list[Media]:
    """The message's media (a Graph media id to download later), its location or
    its shared contacts, as ``Media``; nothing for text and button replies."""
    kind_name = item.get("type")
    content = item.get(kind_name) if isinstance(kind_name, str) else None
    if kind_name == "contacts":
        return [contact_media(c) for c in _dicts(item.get("contacts"))]
    if not isinstance(content, dict):
        return []
    if kind_name == "location":
        keys = ("latitude", "longitude", "name", "address")
        details = {k: content[k] for k in keys if content.get(k) is not None}
        return [Media(Kind.LOCATION, CHANNEL, details=details)]
    if kind_name == "audio":
        kind = Kind.VOICE if content.get("voice") else Kind.AUDIO
    elif kind_name in _MEDIA:
        kind = _MEDIA[kind_name]
    else:
        return []
    mime_type = as_str(content.get("mime_type"))
    if kind is Kind.DOCUMENT and (mime_type or "").startswith("image/"):
        kind = Kind.PHOTO  # a photo sent as a file
    details = {
        "file_name": as_str(content.get("filename")),
        "sha256": content.get("sha256"),
    }
    return [
        Media(
            kind,
            CHANNEL,
            file_id=as_str(content.get("id")),
            mime_type=mime_type,
            details={k: v for k, v in details.items() if v is not None},
        )
    ]


def _caption(item: dict[str, Any]) -> Any:
    kind_name = item.get("type")
    content = item.get(kind_name) if isinstance(kind_name, str) else None
    return content.get("caption") if isinstance(content, dict) else None


def contact_media(contact: dict[str, Any]) -> Media:
    phones = _dicts(contact.get("phones"))
    name = contact.get("name") if isinstance(contact.get("name"), dict) else {}
    details = {
        "phone_number": as_str(phones[0].get("phone")) if phones else None,
        "wa_id": as_str(phones[0].get("wa_id")) if phones else None,
        "first_name": as_str(name.get("formatted_name")),
    }
    return Media(
        Kind.CONTACT,
        CHANNEL,
        details={k: v for k, v in details.items() if v is not None},
    )


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
