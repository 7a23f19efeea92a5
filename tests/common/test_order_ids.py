import pytest

from common.order_ids import OrderIdKind, find_in_text, latin_codes, normalize


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("A-10234", "A-10234", OrderIdKind.SHOP),
        ("а-10234", "A-10234", OrderIdKind.SHOP),  # Cyrillic look-alike
        ("a10234", "A-10234", OrderIdKind.SHOP),
        ("#45871", "45871", OrderIdKind.SHOP),
        ("№ 45871", "45871", OrderIdKind.SHOP),
        ("48213307-0051-1", "48213307-0051-1", OrderIdKind.OZON),
        ("48213307-0051", "48213307-0051", OrderIdKind.OZON),
        ("3728419056", "3728419056", OrderIdKind.WILDBERRIES),
        (" 3728419056. ", "3728419056", OrderIdKind.WILDBERRIES),
    ],
)
def test_normalizes_real_formats(raw: str, value: str, kind: OrderIdKind) -> None:
    order_id = normalize(raw)
    assert order_id is not None
    assert (order_id.value, order_id.kind) == (value, kind)


@pytest.mark.parametrize("raw", ["A-12", "12", "hello", "89161234567", "", None])
def test_rejects_malformed_numbers_and_phones(raw: str | None) -> None:
    assert normalize(raw) is None


def test_bare_short_shop_number_only_when_asked() -> None:
    assert normalize("45871") is None
    order_id = normalize("45871", allow_short=True)
    assert order_id is not None and order_id.value == "45871"


def test_finds_every_number_in_a_sentence_but_not_phones_or_sizes() -> None:
    text = (
        "заказ A-10234 и #45871, 48213307-0051-1, 3728419056; "
        "тел 89161234567, размер 42"
    )
    spans = find_in_text(text)
    assert [span.text for span in spans] == [
        "A-10234",
        "#45871",
        "48213307-0051-1",
        "3728419056",
    ]
    assert all(text[span.start : span.end] == span.text for span in spans)


def test_latin_codes_spells_shop_codes_in_latin_and_keeps_offsets() -> None:
    text = "заказ В-57792 и а-10234, посылка 48213307-0051-1"
    latin = latin_codes(text)
    assert latin == "заказ B-57792 и A-10234, посылка 48213307-0051-1"
    assert len(latin) == len(text)
    assert latin_codes("где мой заказ") == "где мой заказ"


@pytest.mark.parametrize(
    ("text", "found", "value"),
    [
        ("Заказ A 40922 какой статус?", "A 40922", "A-40922"),
        ("номер A10877, подскажите", "A10877", "A-10877"),
        ("Озон 48213307 0051 1", "48213307 0051 1", "48213307-0051-1"),
    ],
)
def test_shop_codes_without_the_dash_and_ozon_with_spaces(
    text: str, found: str, value: str
) -> None:
    (span,) = find_in_text(text)
    assert span.text == found
    order_id = normalize(span.text)
    assert order_id is not None and order_id.value == value


@pytest.mark.parametrize(
    "text",
    [
        "в 12000 рублей",  # a Cyrillic preposition, not a code
        "стоит 5000 руб",
        "iPhone 15 Pro 256",
        "цена 1500 2000 3",
        "звоните 8 916 123 4567",
        "WHERE IS 12345",  # only a one-letter code may stand apart from its digits
    ],
)
def test_no_order_number_is_read_into_prices_or_words(text: str) -> None:
    assert find_in_text(text) == []
