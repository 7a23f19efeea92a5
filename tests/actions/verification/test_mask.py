"""Where the code went, as the shopper is told it."""

import pytest

from actions.verification.mask import is_email, mask_email


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("tanya@example.ru", "t***@e***.ru"),
        ("Anna.Petrova@mail.yandex.ru", "A***@m***.ru"),
        ("x@y.com", "x***@y***.com"),
        ("  spaced@example.org ", "s***@e***.org"),
        ("not an e-mail", "***"),
        ("@example.ru", "***"),
        ("tanya@localhost", "***"),
        ("", "***"),
        (None, "***"),
    ],
)
def test_an_email_is_masked(email: str | None, masked: str) -> None:
    assert mask_email(email) == masked


def test_the_mask_keeps_nothing_but_the_first_letters_and_the_zone() -> None:
    masked = mask_email("tatiana.smirnova@bigcorp.example")
    assert masked == "t***@b***.example"
    assert "atiana" not in masked and "igcorp" not in masked


def test_only_an_address_is_an_email_factor() -> None:
    assert is_email("tanya@example.ru")
    assert not is_email("tanya@example") and not is_email(None)
