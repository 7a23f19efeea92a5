"""What the running app holds: settings, database, Rasa, login limiter.

Core depends on no service: Rasa is held as the `RasaApi` protocol declared
here, and main.py passes in the HTTP client (services/rasa_client.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from easyflow_api.core.config import Settings
from easyflow_api.core.ratelimit import LoginLimiter, MemoryLoginLimiter
from easyflow_api.core.secretbox import Keyring
from easyflow_api.db import Database


class RasaApi(Protocol):
    """The part of Rasa's HTTP API the app uses: an intent triggered in a
    conversation, answered in the shopper's channel; raises on failure."""

    async def trigger_intent(
        self, sender_id: str, name: str, entities: dict[str, Any]
    ) -> dict[str, Any]: ...


@dataclass
class AppState:
    settings: Settings
    db: Database
    secret: str
    rasa: RasaApi
    keyring: Keyring  # seals integration secrets (core/secretbox.py)
    limiter: LoginLimiter = field(default_factory=MemoryLoginLimiter)
