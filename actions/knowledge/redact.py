"""Removing personal data before text leaves for an LLM or reaches a log.

Phones, e-mails, payment card numbers (Luhn-checked), Russian passports, SNILS,
INN and street addresses are replaced by tags such as ``[phone]``. Order numbers
are kept: the shopper's question may need them and they identify no person.

Telling an order number from personal data (bare digits are ambiguous: a
Wildberries order has 7-12 digits, so do INN and phones):

1. A number right after an order word (``заказ``, ``order``, ``отправление``,
   ``посылка``, ``трек``, ``Wildberries``/``WB``, ``Ozon``…, optionally with
   ``№``/``#``/``номер``) is an order number and always kept, as are Ozon posting
   numbers (``48213307-0051-1``) and shop numbers (``A-10234``) anywhere.
2. Otherwise personal data wins, decided by shape and checksum: a 10-digit
   number starting with 9 or an 11-digit one starting with 7/8 is a Russian
   phone; an 11-digit number with a valid SNILS checksum is SNILS; a 10- or
   12-digit number with a valid INN checksum (or after ``ИНН``) is an INN;
   13-19 digits starting with 2-6 in any grouping that pass Luhn are a card.
   A bare number that fits none of these (e.g. ``3728419056``) is kept.

So about one bare 10-digit order number in ten (those whose last digit happens
to be a valid INN check digit) is redacted when the shopper writes it without an
order word; privacy errs on that side.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

# Kept whatever surrounds them (see the module docstring).
_ORDER_WORD = (
    r"(?:заказ\w*|order\w*|отправлени\w*|посылк\w*|posting|shipment|трек\w*|"
    r"tracking|wildberries|вайлдберриз|wb|вб|ozon|озон)"
)
_ORDER_AFTER_WORD = re.compile(
    rf"(?i)(?<!\w){_ORDER_WORD}\s*(?:(?:№|#|no\.?|номер|number|id)\s*)?[:№#]?\s*"
    r"(\d[\d-]{5,20}\d)(?![\d-])"
)
_OZON_POSTING = re.compile(r"(?<![\w-])\d{8}-\d{4}(?:-\d{1,2})?(?![\w-])")

# Masked spans become these placeholders (private-use characters and letters,
# so no digit pattern can match inside one) and are put back at the end.
_MASK = re.compile("\ue000([a-z]+)\ue001")

# Any run of digit groups joined by up to three spaces, tabs or dashes: cards
# are written "4111 1111 1111 1111", "4111-1111-1111-1111", "41111111  11111111".
_DIGIT_RUN = re.compile(r"(?<![\w-])\d+(?:[ \t-]{1,3}\d+)*(?![\w-])")
_GROUP = re.compile(r"\d+")

# Russian passport: series 4 digits (often "45 10") and number 6 digits.
_PASSPORT = re.compile(
    r"(?i)(?:паспорт\w*|passport)[^\d\n]{0,20}(\d{2}\s?\d{2}\s?№?\s?\d{6})"
    r"|(?i:серия|series)\s*\d{2}\s?\d{2}\s*,?\s*(?i:№|номер|number|no\.?)?\s*\d{6}"
    r"(?!\d)"
    r"|(?<![\d-])\d{2}\s\d{2}\s\d{6}(?![\d-])"
    r"|(?<![\d-])\d{4}\s\d{6}(?![\d-])"
)
# SNILS: 123-456-789 01, 123 456 789 01, 12345678901.
_SNILS = re.compile(r"(?<![\w-])\d{3}[- ]?\d{3}[- ]?\d{3}[- ]?\d{2}(?![\w-])")
_SNILS_WORD = re.compile(r"(?i)(?:снилс|snils)\s*:?\s*(?:№\s*)?$")
# +7 916 123-45-67, 8 (916) 123 45 67, 89161234567, 7(916)1234567, 9161234567,
# (916) 123-45-67, +44 20 7946 0958
_PHONE = re.compile(
    r"(?<![\w-])(?:(?:\+7|7|8|\+\d{1,3})[\s(-]*)?\(?9\d{2}[\s)-]*\d{3}[\s-]*\d{2}"
    r"[\s-]*\d{2}(?![\w-])"
    r"|(?<![\w-])(?:\+7|7|8|\+\d{1,3})[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}"
    r"(?![\w-])"
    r"|(?<![\w-])\+\d{1,3}[\s-]?\(?\d{2,4}\)?(?:[\s-]?\d{2,4}){2,3}(?![\w-])"
)
_INN = re.compile(r"(?<![\w-])(\d{12}|\d{10})(?![\w-])")
_INN_WORD = re.compile(r"(?i)(?:инн|inn|tin)\s*:?\s*(?:№\s*)?$")
_ADDRESS = re.compile(
    r"(?i)\b(?:ул\.?|улица|пр-т|пр\.|проспект|пер\.?|переулок|бульвар|б-р|шоссе|"
    r"street|st\.|avenue|ave\.|road|rd\.)\s*[^\n,.;]{2,40}?,?\s*"
    r"(?:д\.?|дом|house|bld\.?)?\s*\d+[а-яa-z]?"
    r"(?:\s*,?\s*(?:кв\.?|квартира|apt\.?|apartment|корп\.?|стр\.?)\s*\d+)*"
)

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_WEIGHTS = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _inn_check(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_valid(digits: str) -> bool:
    """The INN check digits (10 digits: organisations, 12: individuals)."""
    if len(digits) == 10 and digits.isdigit():
        return _inn_check(digits, _INN10_WEIGHTS) == int(digits[9])
    if len(digits) == 12 and digits.isdigit():
        return _inn_check(digits, _INN11_WEIGHTS) == int(digits[10]) and (
            _inn_check(digits, _INN12_WEIGHTS) == int(digits[11])
        )
    return False


def snils_valid(digits: str) -> bool:
    """SNILS check number: weighted sum of the first nine digits modulo 101."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    check = total % 101 if total > 101 else total
    return (0 if check == 100 or total in (100, 101) else check) == int(digits[9:])


def _mask_token(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return f"\ue000{letters}\ue001"


class _Masker:
    """Hides spans that must survive (order numbers) from the PII patterns."""

    def __init__(self) -> None:
        self.kept: dict[str, str] = {}

    def hide(self, value: str) -> str:
        token = _mask_token(len(self.kept))
        self.kept[token] = value
        return token

    def hide_group(self, match: re.Match[str]) -> str:
        whole, number = match.group(0), match.group(1)
        start = match.start(1) - match.start(0)
        return whole[:start] + self.hide(number) + whole[start + len(number) :]

    def restore(self, text: str) -> str:
        return _MASK.sub(lambda m: self.kept.get(m.group(0), m.group(0)), text)


def _cards(match: re.Match[str]) -> str:
    """Redacts the Luhn-valid 13-19 digit windows of consecutive digit groups."""
    run = match.group(0)
    groups = list(_GROUP.finditer(run))
    pieces: list[str] = []
    cursor = 0
    first = 0
    while first < len(groups):
        found = None
        digits = ""
        for last in range(first, len(groups)):
            digits += groups[last].group(0)
            if len(digits) > 19:
                break
            if len(digits) >= 13 and digits[0] in "23456" and luhn_valid(digits):
                found = last
        if found is None:
            first += 1
            continue
        pieces.append(run[cursor : groups[first].start()])
        pieces.append("[card]")
        cursor = groups[found].end()
        first = found + 1
    pieces.append(run[cursor:])
    return "".join(pieces)


def _passport(match: re.Match[str]) -> str:
    if match.group(1):
        return match.group(0).replace(match.group(1), "[passport]")
    return "[passport]"


def _by_checksum(
    tag: str, valid: Callable[[str], bool], context: re.Pattern[str], text: str
) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        before = text[max(0, match.start() - 16) : match.start()]
        if valid(digits) or context.search(before):
            return tag
        return match.group(0)

    return replace


def _snils_not_mobile(digits: str) -> bool:
    """A valid SNILS checksum, unless the number is spelled as a Russian mobile
    (7/8 then 9): the phone shape wins, as the rules above say; after the word
    ``СНИЛС`` it is SNILS whatever its digits."""
    return snils_valid(digits) and not (digits[:1] in "78" and digits[1:2] == "9")


def redact(text: str) -> str:
    """The text with personal data replaced by ``[email]``, ``[phone]``… tags."""
    if not text:
        return text
    masker = _Masker()
    text = _EMAIL.sub("[email]", text)
    text = _ORDER_AFTER_WORD.sub(masker.hide_group, text)
    text = _OZON_POSTING.sub(lambda m: masker.hide(m.group(0)), text)
    text = _DIGIT_RUN.sub(_cards, text)
    text = _PASSPORT.sub(_passport, text)
    text = _SNILS.sub(
        _by_checksum("[snils]", _snils_not_mobile, _SNILS_WORD, text), text
    )
    text = _PHONE.sub("[phone]", text)
    text = _INN.sub(_by_checksum("[inn]", inn_valid, _INN_WORD, text), text)
    text = _ADDRESS.sub("[address]", text)
    return masker.restore(text)
