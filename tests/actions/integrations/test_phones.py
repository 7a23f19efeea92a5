"""The phone spellings a store is searched with, and the last-ten-digits rule."""

from __future__ import annotations

import pytest

from actions.integrations.phones import last_ten, same_phone, spellings


@pytest.mark.parametrize(
    "phone",
    ["79161234567", "+7 (916) 123-45-67", "8 916 123 45 67", "9161234567"],
)
def test_a_russian_number_is_searched_in_every_usual_spelling(phone: str) -> None:
    assert {"+79161234567", "79161234567", "89161234567"} <= set(spellings(phone))
    assert len(spellings(phone)) <= 20  # crm.duplicate.findbycomm's limit


def test_an_international_number_keeps_its_country_code() -> None:
    assert spellings("+49 151 2345 6789") == ["+4915123456789", "4915123456789"]
    assert spellings("+1 (415) 123-4567") == ["+14151234567", "14151234567"]


def test_what_is_not_a_phone_is_searched_for_nothing() -> None:
    assert spellings("12345") == [] and spellings("") == []
    assert last_ten("12345") == ""
    assert not same_phone("12345", "12345")  # too short to be anyone's


def test_the_same_phone_is_the_same_last_ten_digits() -> None:
    assert same_phone("+7 916 123-45-67", "89161234567")
    assert not same_phone("+7 916 123-45-67", "+7 916 123-45-68")
    assert not same_phone("+79161234567", None)
