"""Emoji answers in words: 👍 is «да», 👎 is «нет».

Shoppers answer the bot's questions with an emoji alone; Rasa's tokenizers drop
emoji, so such a message has no features and falls to the fallback. A message
made only of emoji (and spaces or punctuation) is read as the word it stands for;
stars are a rating ("⭐⭐⭐⭐" → «оценка 4»). Emoji inside a sentence are left
alone: the words around them carry the meaning.
"""

from __future__ import annotations

import re

_WORDS: dict[str, str] = {
    "👍": "да",
    "👌": "да",
    "✅": "да",
    "✔": "да",
    "☑": "да",
    "🆗": "ок",
    "👎": "нет",
    "❌": "нет",
    "✖": "нет",
    "🚫": "нет",
    "🙅": "нет",
    "🙏": "спасибо",
    "❤": "спасибо",
    "🥰": "спасибо",
    "👋": "привет",
    "🤝": "спасибо",
    "🤖": "ты бот",
    "😡": "ужасный сервис",
    "🤬": "ужасный сервис",
}
_STARS = frozenset("⭐🌟★")
# Skin tones, variation selectors and joiners that decorate the emoji above.
_DECORATION = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f\u200d]")
_FILLER = re.compile(r"[\s!?.,)(]+")


def emoji_reading(text: str | None) -> str | None:
    """The words an emoji-only message stands for, or ``None``."""
    if not text:
        return None
    bare = _FILLER.sub("", _DECORATION.sub("", text))
    if not bare or any(ch.isalnum() for ch in bare):
        return _stars_with_number(text)
    stars = sum(ch in _STARS for ch in bare)
    if stars == len(bare):
        return f"оценка {stars}"
    words = [_WORDS.get(ch) for ch in bare if ch not in _STARS]
    known = [word for word in words if word]
    if not known or len(known) != len(words):
        return None
    return " ".join(dict.fromkeys(known))


def _stars_with_number(text: str) -> str | None:
    """ "4⭐" or "5 ⭐" is a rating too."""
    match = re.fullmatch(r"\s*([1-5])\s*[⭐🌟★]\ufe0f?\s*", text)
    return f"оценка {match.group(1)}" if match else None
