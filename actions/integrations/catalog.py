"""Matching the shopper's words to products, sizes and colours (Russian and English)."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

# Canonical colour codes and the word stems shoppers use for them.
COLOR_STEMS: dict[str, tuple[str, ...]] = {
    "black": ("черн", "чёрн", "black"),
    "white": ("бел", "white"),
    "blue": ("син", "голуб", "blue", "navy"),
    "grey": ("сер", "grey", "gray"),
    "beige": ("беж", "beig"),
    "red": ("красн", "red"),
    "green": ("зел", "green", "хаки"),
    "brown": ("коричн", "brown"),
    "silver": ("серебр", "silver"),
}
COLOR_NAMES: dict[str, dict[str, str]] = {
    "black": {"ru": "чёрный", "en": "black"},
    "white": {"ru": "белый", "en": "white"},
    "blue": {"ru": "синий", "en": "blue"},
    "grey": {"ru": "серый", "en": "grey"},
    "beige": {"ru": "бежевый", "en": "beige"},
    "red": {"ru": "красный", "en": "red"},
    "green": {"ru": "зелёный", "en": "green"},
    "brown": {"ru": "коричневый", "en": "brown"},
    "silver": {"ru": "серебристый", "en": "silver"},
}
_LETTER_SIZES = {"XS", "S", "M", "L", "XL", "XXL"}
_SIZE_WORDS = {"эска": "S", "эмка": "M", "элька": "L"}
_WORD = re.compile(r"[a-zа-яё0-9]+", re.IGNORECASE)


@lru_cache(maxsize=2)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("russian" if language == "ru" else "english")


def stems(text: str) -> list[str]:
    """Word stems of a Russian or English text (each word by its own alphabet)."""
    return [_stem(word) for word in _WORD.findall(text.lower().replace("ё", "е"))]


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    language = "ru" if re.search("[а-я]", word) else "en"
    return _stemmer(language).stemWord(word)


def normalize_color(raw: str | None) -> str | None:
    if not raw:
        return None
    word = raw.strip().lower().replace("ё", "е")
    for code, prefixes in COLOR_STEMS.items():
        if any(word.startswith(prefix.replace("ё", "е")) for prefix in prefixes):
            return code
    return None


def normalize_size(raw: str | None) -> str | None:
    if not raw:
        return None
    word = raw.strip().upper().replace("РАЗМЕР", "").replace("SIZE", "").strip()
    word = _SIZE_WORDS.get(word.lower(), word)
    # Cyrillic look-alikes typed for letter sizes: "М", "ХL".
    word = word.translate(str.maketrans("МХЅ", "MXS"))
    if word in _LETTER_SIZES:
        return word
    digits = re.fullmatch(r"\d{2}(?:[.,]5)?", word)
    return digits.group(0).replace(",", ".") if digits else None


def size_order(size: str) -> tuple[int, float]:
    """Sorts sizes as a shop lists them: XS..XXL, then numbers, then the rest."""
    letters = ["XS", "S", "M", "L", "XL", "XXL"]
    if size in letters:
        return (0, letters.index(size))
    try:
        return (1, float(size))
    except ValueError:
        return (2, 0)


def same_word(a: str, b: str) -> bool:
    """Equal stems, or one a prefix of the other ("кроссовок" and "кроссовк")."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= 5 and long.startswith(short)
