import pytest

from actions.knowledge.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("позвоните +7 916 123-45-67", "позвоните [phone]"),
        ("мой номер 8 (916) 123 45 67", "мой номер [phone]"),
        ("89161234567", "[phone]"),
        ("call +44 20 7946 0958", "call [phone]"),
        ("пишите anna.petrova@mail.ru", "пишите [email]"),
        ("карта 4111 1111 1111 1111", "карта [card]"),
        ("паспорт 45 10 123456", "паспорт [passport]"),
        ("живу ул. Тверская, д. 7, кв. 12 в Москве", "живу [address] в Москве"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "заказ 3728419056",
        "посылка 48213307-0051-1",
        "заказ A-10234 на 5000 рублей от 12.11.2026",
        "номер карты лояльности 1234 5678 9012 3456",  # fails Luhn: not a card
    ],
)
def test_order_numbers_amounts_and_dates_are_kept(text: str) -> None:
    assert redact(text) == text
