"""What the running app holds: settings, database, clients, login limiter."""

from __future__ import annotations

from dataclasses import dataclass, field

from easyflow_api.core.config import Settings
from easyflow_api.core.ratelimit import LoginLimiter, MemoryLoginLimiter
from easyflow_api.db import Database
from easyflow_api.services.rasa_client import RasaClient


@dataclass
class AppState:
    settings: Settings
    db: Database
    secret: str
    rasa: RasaClient
    limiter: LoginLimiter = field(default_factory=MemoryLoginLimiter)
