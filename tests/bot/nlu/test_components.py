from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.components import OrderIdExtractor


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
