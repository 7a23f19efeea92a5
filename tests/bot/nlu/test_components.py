from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.components import CyrillicView, OrderIdExtractor


def _process(text: str, entities: list[dict]) -> list[dict]:
    message = Message(data={TEXT: text, ENTITIES: entities})
    (processed,) = OrderIdExtractor().process([message])
    return processed.get(ENTITIES)


def test_replaces_model_order_ids_with_exact_spans() -> None:
    text = "где заказ 48213307-0051-1 с кроссовками"
    model_guess = [
        {"entity": "order_id", "start": 10, "end": 18, "value": "48213307"},
        {"entity": "product", "start": 28, "end": 39, "value": "кроссовками"},
    ]
    entities = _process(text, model_guess)
    assert [(e["entity"], e["value"]) for e in entities] == [
        ("order_id", "48213307-0051-1"),
        ("product", "кроссовками"),
    ]
    assert entities[0]["extractor"] == "OrderIdExtractor"


def test_drops_other_entities_overlapping_an_order_number() -> None:
    text = "размер A-10234"
    entities = _process(text, [{"entity": "size", "start": 7, "end": 14, "value": "A"}])
    assert [e["entity"] for e in entities] == ["order_id"]


def test_message_without_numbers_keeps_model_entities() -> None:
    product = {"entity": "product", "start": 5, "end": 9, "value": "худи"}
    assert _process("есть худи", [product]) == [product]


def _view(text: str, vocabulary: frozenset[str] = frozenset()) -> Message:
    view = CyrillicView(None, None, vocabulary)  # type: ignore[arg-type]
    (message,) = view.process([Message(data={TEXT: text})])
    return message


def test_a_shop_code_typed_with_russian_letters_is_read_in_latin() -> None:
    message = _view("А-40781 где?")  # Cyrillic А, as typed on a Russian keyboard
    assert message.get(TEXT) == "A-40781 где?"
    assert message.get("latin_text") is None  # not a translit reading


def test_translit_is_read_in_cyrillic_and_keeps_the_typed_text() -> None:
    message = _view("gde moy zakaz", frozenset({"где", "мой", "заказ"}))
    assert message.get(TEXT) == "где мой заказ"
    assert message.get("latin_text") == "gde moy zakaz"


def test_plain_russian_and_other_order_numbers_are_untouched() -> None:
    for text in ("где мой заказ 48213307-0051-1", "#45871", "привет"):
        assert _view(text).get(TEXT) == text
