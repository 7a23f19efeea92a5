"""The Shop page reaches the bot: the real admin API (its own process) saves the
merchant's return window and operators' hours, and the action side reads them
from the public answer the widget reads too."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.services import Services, configure
from actions.settings import Settings
from actions.shop_profile import ShopProfile
from actions.support import ActionHandoff
from tests.conftest import make_tracker, responses, user
from tests.servers import API_ADMIN_PASSWORD, api_server

DOMAIN = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "domain.yml").read_text()
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MOSCOW = ZoneInfo("Europe/Moscow")
# Operators work one hour, the day after tomorrow (Moscow): off now, and back then.
BACK = (datetime.now(MOSCOW) + timedelta(days=2)).replace(
    hour=9, minute=0, second=0, microsecond=0
)
ONE_HOUR = {day: "closed" for day in DAYS} | {DAYS[BACK.weekday()]: "09:00-10:00"}


def _call(url: str, method: str = "GET", body: Any = None, token: str = "") -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The api with the merchant's settings saved from the Shop page."""
    with api_server(tmp_path_factory.mktemp("api")) as url:
        login = _call(
            f"{url}/api/auth/login",
            "POST",
            {"username": "admin", "password": API_ADMIN_PASSWORD},
        )
        token = login["access_token"]
        current = _call(f"{url}/api/shop-settings", token=token)
        _call(
            f"{url}/api/shop-settings",
            "PUT",
            {
                "version": current["version"],
                "name": "Кеды и Ко",
                "greeting": {"ru": "Здравствуйте!", "en": "Hello!"},
                "working_hours": {"timezone": "Europe/Moscow", "days": ONE_HOUR},
                "return_window_days": 30,
                "languages": ["ru", "en"],
            },
            token,
        )
        yield url


async def test_the_saved_window_and_hours_are_read(api: str) -> None:
    profile = ShopProfile(api, default_window_days=14)
    current = await profile.refresh()
    await profile.close()
    assert current.return_window_days == 30
    assert current.operators_working is False
    assert current.operators_next_at == BACK


async def test_a_handoff_after_hours_says_when_someone_will_answer(
    api: str, tmp_path: Path
) -> None:
    settings = Settings.from_env(
        {"EASYFLOW_DATA_DIR": str(tmp_path), "EASYFLOW_API_URL": api}
    )
    services = Services.from_settings(settings)
    configure(services)
    try:
        dispatcher = CollectingDispatcher()
        tracker = make_tracker([user("позовите оператора", "human_handoff")])
        await ActionHandoff().run(dispatcher, tracker, DOMAIN)
    finally:
        await services.shop_profile.close()
        configure(None)
    [message] = dispatcher.messages
    assert responses(dispatcher) == ["utter_handoff_after_hours"]
    assert message["time"] == "09:00" and message["timezone"] == "MSK"
    assert message["day"] == BACK.strftime("%d.%m.%Y")  # Russian date
    assert "utter_handoff_after_hours" in DOMAIN["responses"]


async def test_without_the_api_the_environment_and_the_last_answer_hold(
    api: str,
) -> None:
    none = ShopProfile("", default_window_days=14)
    assert (await none.refresh()).return_window_days == 14
    assert none.current.operators_working is None

    clock = [0.0]
    profile = ShopProfile(api, default_window_days=14, clock=lambda: clock[0])
    assert (await profile.refresh()).return_window_days == 30
    await profile.close()
    profile.client = ShopProfile("http://127.0.0.1:9", 14).client  # the api is down
    clock[0] += 61
    assert (await profile.refresh()).return_window_days == 30  # the last answer
    await profile.close()
