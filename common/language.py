"""Which language the shopper writes in: Russian first, English second.

Pure functions shared by the Rasa process (response selection) and the action server
(knowledge retrieval, date formats), so both always agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from common.translit import is_russian_in_latin

RUSSIAN = "ru"
ENGLISH = "en"
SUPPORTED = (RUSSIAN, ENGLISH)
DEFAULT_LANGUAGE = RUSSIAN

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)
# Order numbers such as A-10234 carry Latin letters but say nothing about language.
_ORDER_LIKE = re.compile(r"\b[a-zа-я]{1,3}-?\d{3,}\b|\S*\d\S*", re.IGNORECASE)
# Fewer Latin letters than this ("ok", "no") do not switch a Russian conversation.
_MIN_LATIN_LETTERS = 4


def detect(text: str | None) -> str | None:
    """Returns ``ru``, ``en`` or ``None`` when the text alone does not tell."""
    if not text or text.startswith("/"):
        return None  # empty, or a button payload such as "/affirm"
    words = _ORDER_LIKE.sub(" ", text)
    cyrillic = len(_CYRILLIC.findall(words))
    latin = len(_LATIN.findall(words))
    if cyrillic and cyrillic >= latin:
        return RUSSIAN
    if latin >= _MIN_LATIN_LETTERS:
        # "gde moy zakaz" and "ult vjq pfrfp" are Russian (common/translit.py).
        return RUSSIAN if is_russian_in_latin(text) else ENGLISH
    return None


# Rasa's text for intents triggered through its HTTP API ("EXTERNAL: <intent>").
EXTERNAL_PREFIX = "EXTERNAL: "


def conversation_language(
    user_texts_newest_first: Iterable[str | None], default: str = DEFAULT_LANGUAGE
) -> str:
    """The language of the newest message that tells; else a guess; else default.

    Short answers ("ok", an order number) keep the language the shopper used before.
    A conversation made only of short Latin words ("hi") is taken as English.
    """
    latin_seen = False
    for text in user_texts_newest_first:
        if text and text.startswith(EXTERNAL_PREFIX):
            continue  # an intent triggered over the HTTP API, not the shopper
        language = detect(text)
        if language:
            return language
        latin_seen = latin_seen or bool(
            text
            and not text.startswith("/")
            and _LATIN.search(_ORDER_LIKE.sub(" ", text))
        )
    return ENGLISH if latin_seen else default
