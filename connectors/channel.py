"""The webhook-channel base every messenger connector is built on.

It owns what each platform used to repeat: the lazily built output channel, the
blueprint with ``GET /`` (health) and ``POST /webhook``, a bounded body, JSON
parsing (400 when malformed), the shopper limits (``connectors.guard``), dedupe
and hand-over to Rasa (``connectors.base.deliver``) and ``DeliveryFailed`` → 503
so the platform retries. A platform supplies only what is its own:

- ``make_output``: its output channel;
- ``authenticate``: the constant-time check of the request (before the body is
  parsed, or after when ``auth_in_body``: the secret travels inside the JSON);
- ``invalid``: why a parsed payload is not one of its callbacks (400), or ``None``;
- ``intercept``: callbacks answered without Rasa (confirmations);
- ``deliveries``: the messages in a callback;
- ``prepare``: what a claimed delivery becomes before Rasa reads it;
- ``fetch_media``: an attachment's bytes through the platform's file API, so the
  base keeps photos and files for the operator (``connectors.attachments``) and,
  with a speech-to-text backend (``connectors.speech``), answers a voice note
  from its transcript;
- ``acknowledge`` / ``after_delivery``: its 200 answer and follow-up calls;
- ``handle``, for a platform whose reply travels in the HTTP response (Alice).
"""

from __future__ import annotations

import abc
import json
import logging
import mimetypes
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.attachments import AttachmentKeeper
from connectors.base import Delivery, DeliveryFailed, deliver
from connectors.dedupe import DedupeStore, dedupe_from_env
from connectors.guard import ShopperGuard, Verdict
from connectors.media import MEDIA_KEY, Kind, payload
from connectors.notices import notice
from connectors.speech import SpeechToText

logger = logging.getLogger(__name__)

# The largest callback body read; platforms send a few KB.
MAX_BODY_BYTES = 1024 * 1024
TOO_LONG_RESPONSE = "utter_message_too_long"
SLOW_DOWN_RESPONSE = "utter_slow_down"
NOTICES = {Verdict.TOO_LONG: TOO_LONG_RESPONSE, Verdict.THROTTLED: SLOW_DOWN_RESPONSE}


@dataclass(eq=False, repr=False)  # no repr: subclasses hold the platform secrets
class WebhookChannel(InputChannel, abc.ABC):
    CHANNEL: ClassVar[str]
    auth_in_body: ClassVar[bool] = False
    dedupe: DedupeStore | None = field(default=None, kw_only=True)
    guard: ShopperGuard | None = field(default=None, kw_only=True)
    attachments: AttachmentKeeper | None = field(default=None, kw_only=True)
    speech: SpeechToText | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        self.dedupe = self.dedupe or dedupe_from_env()
        self.guard = self.guard or ShopperGuard.from_env()
        self.attachments = self.attachments or AttachmentKeeper.from_env()
        self.speech = self.speech or SpeechToText.from_env()
        self._output: OutputChannel | None = None
        self._proactive: OutputChannel | None = None

    @classmethod
    def name(cls) -> str:
        return cls.CHANNEL

    def get_output_channel(self) -> Any:
        """What Rasa sends proactive messages through (``trigger_intent`` with
        ``output_channel=latest``: payment notices, order updates, operator
        replies). Its sends are strict: a platform that fails raises, so Rasa
        answers 500 without saving the turn and the sender tries again later
        (``actions/proactive/queue.py``, the api's 502) instead of the message
        being lost while the platform is down."""
        if self._proactive is None:
            self._proactive = self.make_output()
            self._proactive.strict = True  # type: ignore[attr-defined]
        return self._proactive

    def reply_output(self) -> Any:
        """What replies to a shopper's message go through: a failed send is
        logged and the other replies still go out (the platform's retry of the
        whole delivery would repeat the ones that did)."""
        if self._output is None:
            self._output = self.make_output()
        return self._output

    # --- what a platform supplies ---------------------------------------------

    @abc.abstractmethod
    def make_output(self) -> OutputChannel: ...

    @abc.abstractmethod
    def authenticate(self, request: Request, payload: Any) -> bool:
        """``payload`` is ``None`` unless ``auth_in_body``."""

    @abc.abstractmethod
    def invalid(self, payload: Any) -> str | None: ...

    @abc.abstractmethod
    def deliveries(self, payload: dict[str, Any]) -> list[Delivery]: ...

    def intercept(self, request: Request, payload: dict[str, Any]) -> Any:
        """A response for callbacks answered without Rasa, else ``None``."""
        return None

    def acknowledge(self, ignored: bool = False) -> HTTPResponse:
        return response.json({"ok": True, "ignored": True} if ignored else {"ok": True})

    def error(self, message: str, status: int) -> HTTPResponse:
        return response.json({"error": message}, status=status)

    def output_for(self, delivery: Delivery) -> OutputChannel:
        return self.reply_output()

    async def after_delivery(self, delivery: Delivery, output: Any) -> None:
        """Platform follow-up once a fresh delivery was processed."""

    async def prepare(self, delivery: Delivery) -> Delivery:
        """The delivery as Rasa should read it, once it is claimed: a voice note
        without a caption becomes its transcript when a speech backend is
        configured and every step works; else it stays ``/shopper_sent_voice``
        and the shopper is asked to type. Never raises."""
        if self.speech is None or delivery.text != payload(Kind.VOICE):
            return delivery
        items = delivery.metadata.get(MEDIA_KEY) or []
        spoken = (Kind.VOICE.value, Kind.AUDIO.value)
        voice = items[0] if items and items[0].get("kind") in spoken else {}
        if not voice.get("file_id") and not voice.get("url"):
            return delivery
        try:
            transcript = await self.transcribe(voice)
        except Exception:  # a transcript is a bonus: never lose the message
            logger.exception(
                f"{self.CHANNEL}.voice.failed", extra={"key": delivery.key}
            )
            transcript = None
        limit = self.guard.settings.max_message_chars if self.guard else 4000
        if not transcript or len(transcript) > limit:
            return delivery
        logger.info(
            f"{self.CHANNEL}.voice.transcribed",
            extra={"key": delivery.key, "chars": len(transcript)},
        )
        media = [{**voice, "transcribed": True}, *items[1:]]
        return replace(
            delivery,
            text=transcript,
            metadata={**delivery.metadata, MEDIA_KEY: media},
        )

    async def transcribe(self, voice: dict[str, Any]) -> str | None:
        """The voice note through the speech backend; ``None`` (logged) when a
        step says no."""
        assert self.speech is not None
        limit = self.speech.settings.max_bytes
        size = voice.get("size")
        if isinstance(size, int) and size > limit:
            logger.info(f"{self.CHANNEL}.voice.too_large", extra={"size": size})
            return None
        found = await self.fetch_voice(voice, limit)
        if found is None:
            return None
        audio, filename = found
        return await self.speech.transcribe(audio, filename)

    async def fetch_voice(
        self, voice: dict[str, Any], max_bytes: int
    ) -> tuple[bytes, str] | None:
        """The voice note's content and a file name the backend can read the
        format from (``voice.ogg``)."""
        fetched = await self.fetch_media(voice, max_bytes)
        if fetched is None:
            return None
        content, mime_type = fetched
        mime_type = (mime_type or voice.get("mime_type") or "audio/ogg").split(";")[0]
        extension = {"audio/ogg": ".ogg", "audio/opus": ".ogg"}.get(
            mime_type.strip(), mimetypes.guess_extension(mime_type.strip()) or ".ogg"
        )
        return content, f"voice{extension}"

    async def fetch_media(
        self, item: dict[str, Any], max_bytes: int
    ) -> tuple[bytes, str | None] | None:
        """An attachment's content and MIME type (``None``: unknown) from the
        platform, at most ``max_bytes``; ``None`` when it cannot be had."""
        return None

    async def _prepared(self, delivery: Delivery) -> Delivery:
        delivery = await self.prepare(delivery)
        if self.attachments is None:
            return delivery
        return await self.attachments.keep_all(self.CHANNEL, delivery, self.fetch_media)

    # --- the shared webhook -----------------------------------------------------

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        webhook = Blueprint(f"{self.CHANNEL}_webhook_{id(self)}", __name__)

        @webhook.get("/")
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.post("/webhook")
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        self.extend(webhook)
        return webhook

    def extend(self, webhook: Blueprint) -> None:
        """More routes on the platform's blueprint (WhatsApp's verification)."""

    def rejected(self, request: Request) -> HTTPResponse:
        logger.warning(f"{self.CHANNEL}.webhook.rejected", extra={"ip": request.ip})
        return self.error("forbidden", 403)

    async def receive(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        started = time.monotonic()
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return self.error("body too large", 413)
        if not self.auth_in_body and not self.authenticate(request, None):
            return self.rejected(request)
        try:
            payload = json.loads(body)
        except ValueError:
            return self.error("malformed JSON", 400)
        problem = self.invalid(payload)
        if problem is not None:
            return self.error(problem, 400)
        if self.auth_in_body and not self.authenticate(request, payload):
            return self.rejected(request)
        answered = self.intercept(request, payload)
        if answered is not None:
            return answered
        return await self.handle(request, payload, on_new_message, started)

    async def handle(
        self,
        request: Request,
        payload: dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        started: float,
    ) -> HTTPResponse:
        """Each delivery through the limits to Rasa; the platform's 200 after."""
        deliveries = self.deliveries(payload)
        if not deliveries:
            return self.acknowledge(ignored=True)
        ip = self.guard.client_ip(request.ip, request.headers.get("X-Forwarded-For"))
        for delivery in deliveries:
            output = self.output_for(delivery)
            if not await self.admit(request, delivery, output, ip):
                continue
            try:
                fresh = await deliver(
                    self.CHANNEL,
                    delivery,
                    self.dedupe,
                    output,
                    on_new_message,
                    prepare=self._prepared,
                )
            except DeliveryFailed:
                # The platform retries the whole callback; deliveries already
                # answered are skipped then as duplicates.
                await self.guard.release(delivery.sender_id, ip)
                return self.error("try again", 503)
            if fresh:
                await self.after_delivery(delivery, output)
        return self.acknowledge()

    async def admit(
        self, request: Request, delivery: Delivery, output: Any, ip: str | None
    ) -> bool:
        """The shopper limits: a message over them never reaches Rasa; the first
        one gets a polite notice (once per delivery id), the platform its 200."""
        verdict = await self.guard.check(delivery.sender_id, delivery.text, ip)
        if verdict is Verdict.ALLOW:
            return True
        name = NOTICES.get(verdict)
        if name and await self.dedupe.claim(f"{delivery.key}:notice"):
            agent = getattr(request.app.ctx, "agent", None)
            text = notice(agent, name, delivery.text, self.CHANNEL)
            if text:
                await output.send_text_message(delivery.sender_id, text)
        return False
