"""Alice's response format: one turn's bot messages as one Yandex Dialogs
response (text, speech, suggest chips, card), within Alice's length limits."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel

from connectors.base import button_payload
from connectors.text import split_text

CHANNEL = "alice"
VERSION = "1.0"
MAX_TEXT = 1024
MAX_TTS = 1024
MAX_TITLE = 64
MAX_URL_BYTES = 1024
MAX_PAYLOAD_BYTES = 4096
END_SESSION_RESPONSES = frozenset({"utter_goodbye"})
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)

Reply = dict[str, Any]


class AliceOutput(CollectingOutputChannel):
    """Collects one turn's bot messages, one entry per bot response.

    ``name()`` is "alice", so ``channel: alice`` response variations apply.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        custom = message.get("custom")
        custom = custom if isinstance(custom, dict) else {}
        utter_action = message.get("utter_action")
        entry = {
            "recipient_id": recipient_id,
            "text": message.get("text") or custom.get("text"),
            "tts": custom.get("tts"),
            "buttons": message.get("buttons") or message.get("quick_replies"),
            "card": custom.get("card"),
            # Kept for completeness: Alice shows only images uploaded to Yandex
            # (a ``custom: {card: ...}`` with an image_id), never an image URL.
            "image": message.get("image"),
            "utter_action": utter_action,
            "end_session": utter_action in END_SESSION_RESPONSES
            or custom.get("end_session") is True,
        }
        await self._persist_message({k: v for k, v in entry.items() if v is not None})


def render(messages: Iterable[dict[str, Any]]) -> Reply:
    """One Alice response for a turn's messages, within Alice's length limits."""
    texts: list[str] = []
    speech: list[str] = []
    buttons: list[dict[str, Any] | None] = []
    body: dict[str, Any] = {}
    end_session = False
    for message in messages:
        text = str(message.get("text") or "").strip()
        if text:
            texts.append(text)
        spoken = str(message.get("tts") or "").strip() or speakable(text)
        if spoken:
            speech.append(spoken)
        buttons.extend(alice_button(b) for b in message.get("buttons") or [])
        if isinstance(message.get("card"), dict):
            body["card"] = message["card"]
        end_session = end_session or bool(message.get("end_session"))
    body.update(
        text=clip("\n\n".join(texts), MAX_TEXT),
        tts=clip(" ".join(speech), MAX_TTS),
        end_session=end_session,
    )
    if buttons := [b for b in buttons if b]:
        body["buttons"] = buttons
    return {"response": body, "version": VERSION}


def clip(text: str, limit: int) -> str:
    """The text, or its first ``limit`` characters cut between sentences."""
    return (split_text(text, limit) or [""])[0]


def speakable(text: str) -> str:
    """What Alice says for a text: links are read out badly, so they are dropped."""
    return " ".join(_URL.sub(" ", text).split())


def alice_button(button: dict[str, Any]) -> dict[str, Any] | None:
    """A suggest chip; pressing it sends ``{"payload": "/affirm"}`` back to us."""
    title = clip(str(button.get("title") or button_payload(button)), MAX_TITLE)
    if not title:
        return None
    chip: dict[str, Any] = {"title": title, "hide": True}
    url = str(button.get("url") or "")
    if url and len(url.encode()) <= MAX_URL_BYTES:
        chip["url"] = url
    payload = button.get("payload")
    if isinstance(payload, str) and payload:
        payload = {"payload": payload}
    # Without a payload (too big) a press sends the title, which NLU understands.
    if (
        isinstance(payload, dict)
        and payload
        and _json_size(payload) <= MAX_PAYLOAD_BYTES
    ):
        chip["payload"] = payload
    return chip


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())
