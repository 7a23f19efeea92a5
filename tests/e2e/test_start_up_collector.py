"""A loaded model leaves Python's cyclic collector on, with the model's objects
frozen out of later collections (bot/rasa_run.py, bot/dialogue/speedups.py)."""

from __future__ import annotations

import gc

from bot.dialogue import speedups
from tests.servers import MODEL


def test_a_loaded_model_leaves_the_collector_on_and_its_objects_frozen() -> None:
    from rasa.core.agent import Agent

    assert MODEL.exists(), "train the model first: make train"
    speedups.install()
    gc.disable()  # as bot.rasa_run starts a server
    try:
        agent = Agent()
        agent.load_model(str(MODEL))
        assert agent.processor is not None
        assert gc.isenabled()
        assert gc.get_freeze_count() > 100_000  # Rasa, TensorFlow and the model
        agent.load_model(str(MODEL))  # loaded again: still on, frozen anew
        assert gc.isenabled() and gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()
        gc.enable()
