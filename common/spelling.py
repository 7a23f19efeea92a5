"""Typing slips fixed against the words the model was trained on.

Shoppers type fast on phones: "whre is my oder", "i wnat to retrun", "cancle",
"thnaks", "отмеинть заказ". A model trained on correctly spelled examples sees
unknown words and, with char n-grams alone, often guesses wrong. A word is
corrected only when all of these hold:

- it has at least ``MIN_LENGTH`` letters and is not a word the model knows;
- it is not a real word of its language (pymorphy's Russian dictionary, the
  English word list of the sentence encoder), so "pizza" or «пиццу» stay as
  typed and off-topic questions stay off-topic;
- a known word is one edit away (a letter missed, added, changed, or two
  neighbours swapped: the optimal string alignment distance); the most frequent
  such word in the training data wins, one with the same letters (a swap)
  first.

Candidates come from a deletion index (each known word under every one-letter
deletion), so a lookup costs a few set probes, not a scan of the vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from common.translit import is_english_word, is_known_russian

MIN_LENGTH = 4
# A word of letters only; letters glued to digits or dashes are a code or a compound.
_WORD = re.compile(r"(?<![\w-])[^\W\d_]+(?![\w-])")
_CYRILLIC = re.compile(r"[а-яё]")


def words(text: str) -> list[str]:
    """The lower-case words of ``text`` (letters only: no digits or codes)."""
    return _WORD.findall(text.lower())


def _deletions(word: str) -> Iterator[str]:
    for i in range(len(word)):
        yield word[:i] + word[i + 1 :]


def within_one_edit(a: str, b: str) -> bool:
    """Optimal string alignment distance of ``a`` and ``b`` is at most 1."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(short == candidate for candidate in _deletions(long))


class SpellingFixer:
    """Corrects one-edit slips towards ``counts`` (word -> training frequency)."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = {w: c for w, c in counts.items() if len(w) >= MIN_LENGTH - 1}
        self._index: dict[str, set[str]] = {}
        for word in self.counts:
            for key in (word, *_deletions(word)):
                self._index.setdefault(key, set()).add(word)

    def fix_word(self, word: str) -> str:
        lower = word.lower()
        if len(lower) < MIN_LENGTH or lower in self.counts:
            return word
        if (
            is_known_russian(lower)
            if _CYRILLIC.search(lower)
            else is_english_word(lower)
        ):
            return word
        candidates = {
            known
            for key in (lower, *_deletions(lower))
            for known in self._index.get(key, ())
            if within_one_edit(lower, known)
        }
        if not candidates:
            return word
        # Two neighbours swapped ("wnat") is the commonest slip: a candidate with
        # the same letters beats a more frequent one ("what").
        letters = sorted(lower)
        return max(
            candidates,
            key=lambda known: (sorted(known) == letters, self.counts[known], known),
        )

    def fix(self, text: str) -> str:
        """``text`` with each slip replaced by its known word, the rest as typed."""
        return _WORD.sub(lambda match: self.fix_word(match.group(0)), text)
