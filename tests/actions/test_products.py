"""Stock questions against the seeded catalogue."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.products import ActionProductAvailability, ValidateProductForm
from tests.conftest import entity, make_tracker, responses, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
pytestmark = pytest.mark.usefixtures("services")


async def _ask(
    text: str, entities: list[dict[str, Any]], **slots: Any
) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    product = next((e["value"] for e in entities if e["entity"] == "product"), None)
    tracker = make_tracker(
        [user(text, "product_availability", entities)],
        slots={"product": product or slots.pop("product", None), **slots},
    )
    await ActionProductAvailability().run(dispatcher, tracker, DOMAIN)
    return dispatcher


async def test_in_stock_with_size_and_colour() -> None:
    dispatcher = await _ask(
        "есть белые кроссовки 42?",
        [
            entity("color", "белые"),
            entity("product", "кроссовки"),
            entity("size", "42"),
        ],
    )
    assert responses(dispatcher) == ["utter_product_in_stock"]
    assert dispatcher.messages[0]["item"] == "Кроссовки беговые «Вихрь», 42 белый"


async def test_sold_out_variant_lists_what_is_available() -> None:
    dispatcher = await _ask(
        "do you have black sneakers size 42",
        [entity("color", "black"), entity("product", "sneakers"), entity("size", "42")],
    )
    assert responses(dispatcher) == ["utter_product_out_of_stock"]
    # Size 42 exists in the other colours: those are offered, not every size.
    assert dispatcher.messages[0]["options"] == "blue, white"


async def test_product_only_lists_sizes_and_colours() -> None:
    dispatcher = await _ask("худи есть?", [entity("product", "худи")])
    assert responses(dispatcher) == ["utter_product_in_stock", "utter_product_options"]
    options = dispatcher.messages[1]["options"]
    assert options.startswith("XS, S, M, L, XL;") and "серый" in options


async def test_follow_up_size_keeps_the_product() -> None:
    dispatcher = await _ask("а 43?", [entity("size", "43")], product="кроссовки")
    assert responses(dispatcher)[0] == "utter_product_in_stock"
    assert "43" in dispatcher.messages[0]["item"]


async def test_unknown_product() -> None:
    dispatcher = await _ask("есть утюги?", [entity("product", "утюги")])
    assert responses(dispatcher) == ["utter_product_not_found"]


async def test_reply_to_which_product_is_the_product() -> None:
    tracker = make_tracker(
        [user("смарт часы", "inform")], slots={"requested_slot": "product"}
    )
    extracted = await ValidateProductForm().extract_product(
        CollectingDispatcher(), tracker, DOMAIN
    )
    assert extracted == {"product": "смарт часы"}
