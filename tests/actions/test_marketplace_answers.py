"""What the shopper hears when the order lives on a marketplace or shop platform
that cannot do something through its API."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.integrations.base import OperationUnsupported, Order, Refund
from actions.integrations.demo_store import DemoStore
from actions.pending import ActionResolvePending
from actions.services import Services, configure
from actions.settings import Settings
from actions.support_log import SupportLog
from tests.conftest import make_tracker, responses, slot, user

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)


class NoCancelMarketplace(DemoStore):
    """Seeded like the demo store, but cancels only in its own app (like Ozon FBO)."""

    name = "ozon"

    async def cancel_order(self, order_id: str) -> Order:
        raise OperationUnsupported("ozon", "cancel_order")


class NoRefundShop(DemoStore):
    """Cancels, but reports no refund schedule (like Shopify right after a cancel)."""

    name = "shopify"

    async def get_refunds(self, order_id: str) -> list[Refund]:
        raise OperationUnsupported("shopify", "get_refunds")


def use(tmp_path: Path, store: DemoStore) -> Services:
    settings = Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)})
    services = Services.from_settings(settings)
    services.orders = store
    services.support = SupportLog(tmp_path / "support.sqlite")
    configure(services)
    return services


@pytest.fixture(autouse=True)
def reset() -> Iterator[None]:
    yield
    configure(None)


async def confirm_cancel() -> list[str]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        [slot("pending", "cancel:3728419056"), user("да", "affirm")],
        slots={"verified_orders": ["3728419056"]},  # the question follows a check
    )
    await ActionResolvePending().run(dispatcher, tracker, DOMAIN)
    return responses(dispatcher)


async def test_marketplace_cancel_is_sent_to_its_app(tmp_path: Path) -> None:
    use(tmp_path, NoCancelMarketplace(tmp_path / "store.sqlite"))
    assert await confirm_cancel() == ["utter_marketplace_self_service"]


async def test_cancel_without_refund_date_says_usually(tmp_path: Path) -> None:
    use(tmp_path, NoRefundShop(tmp_path / "store.sqlite"))
    assert await confirm_cancel() == ["utter_order_cancelled_refund_soon"]
