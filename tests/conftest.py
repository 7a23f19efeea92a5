"""Shared fixtures: real services on temporary files, and tracker builders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.integrations.demo_store import DemoStore
from actions.payments.demo import DemoPaymentProvider
from actions.services import Services, configure
from actions.settings import Settings
from actions.support_log import SupportLog
from tests.emulators import Call, Emulator, free_port


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"EASYFLOW_DATA_DIR": str(tmp_path)})


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = Services.from_settings(settings)
    configure(built)
    yield built
    configure(None)


@pytest.fixture
def store(services: Services) -> DemoStore:
    assert isinstance(services.orders, DemoStore)
    return services.orders


@pytest.fixture
def payments(services: Services) -> DemoPaymentProvider:
    assert isinstance(services.payments, DemoPaymentProvider)
    return services.payments


@pytest.fixture
def support(services: Services) -> SupportLog:
    return services.support


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def user(
    text: str, intent: str, entities: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": entities or [],
        },
    }


def bot(utter_action: str, text: str = "") -> dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": {"utter_action": utter_action}}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value}


def make_tracker(
    events: list[dict[str, Any]],
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    sender_id: str = "shopper-1",
) -> Tracker:
    """A tracker as the action server receives it; the latest user event is parsed."""
    latest = next((e for e in reversed(events) if e["event"] == "user"), None)
    latest_message = dict(latest["parse_data"]) if latest else {}
    return Tracker(
        sender_id,
        dict(slots or {}),
        latest_message,
        events,
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]


@pytest.fixture
async def emulator_factory() -> AsyncIterator[Callable[[Callable[[Call], Any]], Any]]:
    runners: list[web.AppRunner] = []

    async def start(reply: Callable[[Call], Any]) -> Emulator:
        emulator = Emulator(reply)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", emulator._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        emulator.url = f"http://127.0.0.1:{port}"
        return emulator

    yield start
    for runner in runners:
        await runner.cleanup()
