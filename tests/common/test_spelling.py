import pytest

from common.spelling import SpellingFixer, within_one_edit, words

COUNTS = {
    "where": 40, "order": 60, "what": 90, "want": 30, "return": 25, "cancel": 20,
    "thanks": 15, "human": 10, "refund": 12, "charged": 3, "отменить": 8,
    "заказ": 80, "где": 70,
}  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("whre is my ordr", "where is my order"),  # letters missed
        ("cancle", "cancel"),  # neighbours swapped
        ("thnaks", "thanks"),
        ("cahrged twice", "charged twice"),
        ("get me a humna", "get me a human"),
        ("отмеинть заказ", "отменить заказ"),  # in Cyrillic too
        ("Refudn", "refund"),
    ],
)
def test_a_one_edit_slip_reads_as_the_trained_word(typed: str, meant: str) -> None:
    assert SpellingFixer(COUNTS).fix(typed) == meant


def test_a_swap_beats_a_more_frequent_word_one_letter_away() -> None:
    # "wnat" is one substitution from "what" (more frequent) and one swap from
    # "want": a swap is the likelier slip.
    assert SpellingFixer(COUNTS).fix("i wnat to retrun it") == "i want to return it"


@pytest.mark.parametrize(
    "text",
    [
        "where can I order pizza",  # real English words stay, even unknown ones
        "жду пиццу уже час",  # real Russian words stay
        "заказ A-60213 #90128",  # codes and numbers are not words
        "ordr2",  # letters glued to digits are a code, not a word
        "hmm",  # too short to judge
        "xyzzyq",  # nothing close
    ],
)
def test_words_that_are_not_slips_stay_as_typed(text: str) -> None:
    fixer = SpellingFixer({**COUNTS, "pizzas": 1, "пицца": 1})
    assert fixer.fix(text) == text


def test_edit_distance_is_optimal_string_alignment() -> None:
    assert within_one_edit("abcd", "abdc")
    assert within_one_edit("abcd", "abd")
    assert within_one_edit("abcd", "abxd")
    assert not within_one_edit("abcd", "badc")
    assert not within_one_edit("abcd", "ab")
    assert not within_one_edit("abcd", "bcda")


def test_words_are_lower_case_letters_only() -> None:
    assert words("Где заказ A-10234? ok!") == ["где", "заказ", "ok"]
