"""Ozon product info and stock by offer_id / sku, and the availability answer from
the seller's Ozon catalogue, against the Seller API emulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.integrations.base import OrderSourceError, StockLine
from actions.integrations.ozon import OzonSource
from actions.products import ActionProductAvailability
from actions.services import Services, configure
from actions.settings import Settings
from actions.support_log import SupportLog
from common.http import RetryPolicy
from tests.conftest import entity, make_tracker, user
from tests.emulators import Emulator
from tests.marketplace_emulators import OzonApi, ozon_product

CLIENT_ID, API_KEY = "836120", "ozon-catalog-key"
DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "domain.yml").read_text()
)
Factory = Callable[[Any], Awaitable[Emulator]]


def catalogue() -> list[dict[str, Any]]:
    return [
        ozon_product(101, "aero-black-42", "Кроссовки Aero, черный, 42", "6990.0000",
                     model_id=900, stocks={"fbs": (3, 1), "fbo": (2, 0)}),
        ozon_product(102, "aero-black-43", "Кроссовки Aero, черный, 43", "6990.0000",
                     model_id=900, stocks={"fbs": (1, 1)}),
        ozon_product(103, "aero-white-43", "Кроссовки Aero, белый, 43", "6790.5000",
                     model_id=900, stocks={"fbo": (4, 0)}),
        ozon_product(200, "socks-3", "Носки спортивные, 3 пары", "349.5000",
                     stocks={"fbs": (10, 0)}),
        ozon_product(300, "old-boots", "Ботинки зимние старые", archived=True,
                     stocks={"fbs": (5, 0)}),
    ]  # fmt: skip


@pytest.fixture
def api() -> OzonApi:
    ozon = OzonApi(CLIENT_ID, API_KEY)
    ozon.products = catalogue()
    return ozon


@pytest.fixture
async def emulator(emulator_factory: Factory, api: OzonApi) -> Emulator:
    return await emulator_factory(api)


@pytest.fixture
async def ozon(emulator: Emulator) -> AsyncIterator[OzonSource]:
    source = OzonSource(
        CLIENT_ID,
        API_KEY,
        api_url=emulator.url,
        retry=RetryPolicy(max_attempts=3, base_delay_s=0.01),
    )
    yield source
    await source.close()


async def test_offers_by_offer_id_and_by_sku(
    emulator: Emulator, ozon: OzonSource
) -> None:
    by_offer = await ozon.catalog.offers(offer_ids=["aero-black-42", "missing"])
    (offer,) = by_offer
    assert (offer.offer_id, offer.product_id, offer.sku) == (
        "aero-black-42", 101, 1_000_000_101
    )  # fmt: skip
    assert (offer.name, offer.price, offer.currency) == (
        "Кроссовки Aero, черный, 42", 6990, "RUB"
    )  # fmt: skip
    assert (offer.present, offer.reserved, offer.available) == (5, 1, 4)
    info, stocks = emulator.calls
    assert (info.path, info.json) == (
        "/v3/product/info/list", {"offer_id": ["aero-black-42", "missing"]}
    )  # fmt: skip
    assert stocks.path == "/v4/product/info/stocks"
    assert stocks.json == {
        "filter": {"offer_id": ["aero-black-42"], "visibility": "ALL"},
        "limit": 1000,
        "cursor": "",
    }
    assert {c.headers["Client-Id"] for c in emulator.calls} == {CLIENT_ID}
    assert {c.headers["Api-Key"] for c in emulator.calls} == {API_KEY}

    (by_sku,) = await ozon.catalog.offers(skus=[1_000_000_103])
    assert emulator.calls[-2].json == {"sku": ["1000000103"]}
    assert (by_sku.offer_id, by_sku.price, by_sku.available) == (
        "aero-white-43",
        6791,
        4,
    )
    (sold_out,) = await ozon.catalog.offers(offer_ids=["aero-black-43"])
    assert sold_out.available == 0  # everything present is reserved


async def test_stock_pages_follow_the_cursor(
    api: OzonApi, emulator: Emulator, ozon: OzonSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    from actions.integrations import ozon_catalog

    monkeypatch.setattr(ozon_catalog, "PAGE", 2)
    stock = await ozon.catalog.stocks(
        ["aero-black-42", "aero-black-43", "aero-white-43", "socks-3"]
    )
    assert stock == {
        "aero-black-42": (5, 1), "aero-black-43": (1, 1),
        "aero-white-43": (4, 0), "socks-3": (10, 0),
    }  # fmt: skip
    cursors = [(c.json["filter"]["offer_id"], c.json["cursor"]) for c in emulator.calls]
    assert cursors == [
        (["aero-black-42", "aero-black-43"], ""),
        (["aero-white-43", "socks-3"], ""),
    ]


async def test_availability_by_name_groups_variants_of_a_model(
    emulator: Emulator, ozon: OzonSource
) -> None:
    (product,) = await ozon.find_products("чёрные кроссовки 42")
    assert product.title_ru == "Кроссовки Aero"
    assert (product.price, product.currency) == (6791, "RUB")  # the lowest, rounded
    assert set(product.stock) == {
        StockLine("42", "black", 4),
        StockLine("43", "black", 0),
        StockLine("43", "white", 4),
    }
    assert product.available("42", "black") and not product.available("43", "black")
    paths = emulator.paths()
    assert paths == [
        "/v3/product/list", "/v3/product/info/list", "/v4/product/info/stocks"
    ]  # fmt: skip
    assert emulator.calls[1].json == {"product_id": ["101", "102", "103", "200"]}

    # The names are cached; stock is read fresh every time.
    assert await ozon.find_products("носки") != []
    assert emulator.paths()[3:] == ["/v4/product/info/stocks"]
    assert await ozon.find_products("ботинки") == []  # archived
    assert await ozon.find_products("пылесос") == []


async def test_wrong_key_is_a_source_error(emulator: Emulator) -> None:
    source = OzonSource(CLIENT_ID, "wrong", api_url=emulator.url)
    with pytest.raises(OrderSourceError, match="OZON_CLIENT_ID and OZON_API_KEY"):
        await source.catalog.offers(offer_ids=["aero-black-42"])
    await source.close()


async def test_rate_limit_is_retried(emulator: Emulator, ozon: OzonSource) -> None:
    emulator.fail_next(
        429, {"code": 8, "message": "You have reached request rate limit per second"}
    )
    (offer,) = await ozon.catalog.offers(offer_ids=["socks-3"])
    assert offer.available == 10
    assert emulator.paths()[:2] == ["/v3/product/info/list"] * 2


@pytest.fixture
async def ozon_services(ozon: OzonSource, tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)})
    plain = Services.from_settings(settings)
    services = Services(
        settings, ozon, plain.payments, SupportLog(settings.support_log_path)
    )
    configure(services)
    yield services
    configure(None)


async def ask(text: str, **entities: str) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [user(text, "product_availability",
              [entity(name, value) for name, value in entities.items()])],
        slots={"product": entities.get("product")},
    )  # fmt: skip
    await ActionProductAvailability().run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages


@pytest.mark.usefixtures("ozon_services")
async def test_the_availability_flow_answers_from_ozon() -> None:
    (in_stock,) = await ask(
        "есть чёрные кроссовки 42?", product="кроссовки", size="42", color="чёрные"
    )
    assert in_stock["response"] == "utter_product_in_stock"
    assert in_stock["item"] == "Кроссовки Aero, 42 чёрный"
    assert in_stock["price"].replace("\xa0", " ") == "6 791 ₽"
    (sold_out,) = await ask(
        "а чёрные 43?", product="кроссовки", size="43", color="чёрные"
    )
    assert sold_out["response"] == "utter_product_out_of_stock"
    assert sold_out["options"] == "белый"  # the other colour in size 43
