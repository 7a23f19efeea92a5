from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.spelling import SpellingView


def _trained(tmp_path: Path) -> tuple[LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("spelling")
    context = ExecutionContext(GraphSchema({}), "test")
    view = SpellingView.create({}, storage, resource, context)
    examples = [
        Message(data={TEXT: text, "intent": intent})
        for text, intent in [
            ("i want to return my jeans", "return_item"),
            ("where is my order A-10234", "order_status"),
            ("отменить заказ", "cancel_order"),
        ]
    ]
    view.train(TrainingData(examples))
    return storage, resource


def test_a_loaded_model_reads_slips_as_its_training_words(tmp_path: Path) -> None:
    storage, resource = _trained(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    view = SpellingView.load({}, storage, resource, context)
    (message,) = view.process([Message(data={TEXT: "i wnat to retrun my jeans"})])
    assert message.get(TEXT) == "i want to return my jeans"
    assert message.get("typed_text") == "i wnat to retrun my jeans"


def test_correct_text_and_typed_intents_are_left_alone(tmp_path: Path) -> None:
    storage, resource = _trained(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    view = SpellingView.load({}, storage, resource, context)
    for text in ("where is my order", '/retrun{"order_id": "A-1"}'):
        (message,) = view.process([Message(data={TEXT: text})])
        assert message.get(TEXT) == text
        assert message.get("typed_text") is None
    (message,) = view.process([Message(data={TEXT: "отмеинть заказ"})])
    assert message.get(TEXT) == "отменить заказ"


def test_an_untrained_view_changes_nothing(tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    view = SpellingView.load({}, LocalModelStorage(tmp_path), Resource("x"), context)
    (message,) = view.process([Message(data={TEXT: "i wnat to retrun"})])
    assert message.get(TEXT) == "i wnat to retrun"
