"""What Rasa 3.6 events mean to the api: the intent, action and utterance names
the projection treats specially, and pure readers of event values (the dedupe
hash, normalised text, a language guess, the UTC day, a CSAT rating)."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_llm_fallback"})
IGNORED_ACTIONS = frozenset({"action_listen", "action_session_start"})
OPERATOR_UTTERANCE = "utter_operator_message"
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


def event_hash(event: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: Rasa 3.6 events carry no id of their own."""
    canonical = json.dumps(
        event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def normalise_text(text: str) -> str:
    """Casefolded, NFKC, single-spaced, without punctuation at the ends."""
    value = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    value = _SPACES.sub(" ", value).strip()
    return _EDGE_PUNCT.sub("", value)[:512]


def guess_language(text: str) -> str:
    return "ru" if _CYRILLIC.search(text) else "en"


def utc_day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


def as_rating(value: object) -> int | None:
    """A CSAT slot value as 1..5, or None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        rating = int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return rating if 1 <= rating <= 5 else None
