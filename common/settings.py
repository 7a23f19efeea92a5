"""The one settings reader: typed values from the environment, checked at start.

Every process reads its settings through ``Reader`` (the action server in
``actions/settings.py``, the Rasa process's channels in ``connectors/settings.py``,
the outbox relay): a missing or invalid value stops start-up with a
``SettingsError`` that names the variable. Nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


class SettingsError(ValueError):
    """A variable is missing or invalid; the message names it."""


def environment() -> dict[str, str]:
    """A copy of the process environment, the default input of every reader."""
    return dict(os.environ)


def is_placeholder(value: str) -> bool:
    return value.lower() in {"changeme", "change-me", "secret", "xxx", "sk-...", "todo"}


class Reader:
    """Typed values from an environment mapping; a bad value raises a
    ``SettingsError`` naming the variable, an unset or blank one gives the default.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def raw(self, name: str) -> str | None:
        value = self.env.get(name)
        if value is None or value.strip() == "":
            return None
        return value.strip()

    def text(self, name: str, default: str) -> str:
        return self.raw(name) or default

    def path(self, name: str, default: Path) -> Path:
        raw = self.raw(name)
        return Path(raw).expanduser() if raw else default

    def choice(self, name: str, allowed: list[str], default: str) -> str:
        value = (self.raw(name) or default).lower()
        if value not in allowed:
            raise SettingsError(f"{name}: '{value}' is not one of {', '.join(allowed)}")
        return value

    def choices(self, name: str, allowed: list[str], default: str) -> tuple[str, ...]:
        raw = self.raw(name) or default
        values = tuple(
            dict.fromkeys(v.strip().lower() for v in raw.split(",") if v.strip())
        )
        unknown = [v for v in values if v not in allowed]
        if unknown or not values:
            raise SettingsError(
                f"{name}: '{raw}' must list some of {', '.join(allowed)}"
            )
        return values

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name}: '{raw}' is not a whole number") from None
        if not low <= value <= high:
            raise SettingsError(f"{name}: {value} is outside {low}..{high}")
        return value

    def seconds(self, name: str, default: float) -> float:
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name}: '{raw}' is not a number of seconds") from None
        if not 0.1 <= value <= 120:
            raise SettingsError(f"{name}: {value} is outside 0.1..120 seconds")
        return value

    def url(self, name: str, default: str) -> str:
        value = self.raw(name) or default
        if not value.startswith(("http://", "https://")):
            raise SettingsError(
                f"{name}: '{value}' must start with http:// or https://"
            )
        return value.rstrip("/")

    def required(self, name: str, reason: str) -> str:
        """The value, or a clear error saying why it is needed."""
        value = self.raw(name)
        if value is None:
            raise SettingsError(f"{name}: required when {reason}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.raw(name)
        if raw is None:
            return default
        value = raw.lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise SettingsError(f"{name}: '{raw}' is not one of true, false")
