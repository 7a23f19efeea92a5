"""A channel's credentials from the dashboard's Integrations page, picked up
by the running Rasa process (no restart).

A connector configured with ``from_dashboard: true`` in credentials.yml asks
the api's feed (``common/integration_feed.py``: ``EASYFLOW_API_URL``, the action
token ``EASYFLOW_ACTION_TOKEN``, every ``EASYFLOW_INTEGRATIONS_POLL_S``) for its
platform's enabled, checked configuration, opens the sealed secrets with the
keyring the api sealed them with (``EASYFLOW_SECRETS_KEY``…; in development the
api's ``var/secrets_key``) and hands the values to the connector, or ``None``
when the integration was disabled or deleted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sanic import Blueprint

from common.integration_feed import FeedReader, keyring_from, open_values
from common.secretbox import Keyring, SecretOpenError
from common.settings import Reader, SettingsError
from common.settings import environment as process_environment
from connectors.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)


@dataclass
class DashboardCredentials:
    kind: str
    feed: FeedReader
    keyring: Keyring = field(repr=False)
    on_change: Callable[[dict[str, str] | None], None]
    poll_s: int = 15
    version: int | None = None

    @classmethod
    def from_env(
        cls,
        kind: str,
        on_change: Callable[[dict[str, str] | None], None],
        env: Mapping[str, str] | None = None,
    ) -> DashboardCredentials:
        """``SettingsError`` names what is missing (the api's address, the token)."""
        reader = Reader(process_environment() if env is None else env)
        reason = f"{kind} uses from_dashboard"
        api_url = (
            reader.url("EASYFLOW_API_URL", "")
            if reader.raw("EASYFLOW_API_URL")
            else reader.required("EASYFLOW_API_URL", reason)
        )
        token = reader.required("EASYFLOW_ACTION_TOKEN", reason)
        production = reader.text("EASYFLOW_ENV", "development") == "production"
        data_dir = reader.path("EASYFLOW_DATA_DIR", PROJECT_ROOT / "var")
        if not data_dir.is_absolute():
            data_dir = PROJECT_ROOT / data_dir
        return cls(
            kind=kind,
            feed=FeedReader(api_url, token),
            keyring=keyring_from(reader, data_dir, production),
            on_change=on_change,
            poll_s=reader.integer("EASYFLOW_INTEGRATIONS_POLL_S", 15, 1, 3600),
        )

    def apply(self, entries: list[dict[str, Any]]) -> None:
        """The connector gets new values when its entry's version changed, and
        ``None`` when the entry is gone; a version that does not open (another
        key) keeps the values it has."""
        entry = next((e for e in entries if e.get("kind") == self.kind), None)
        if entry is None:
            if self.version is not None:
                self.version = None
                self.on_change(None)
                logger.info("channel.dashboard.removed", extra={"kind": self.kind})
            return
        version = int(entry.get("version") or 0)
        if version == self.version:
            return
        try:
            values = open_values(self.keyring, entry)
        except (SecretOpenError, ValueError) as error:
            logger.error(
                "channel.dashboard.cannot_open",
                extra={"kind": self.kind, "error": str(error)[:200]},
            )
            return
        self.version = version
        self.on_change(values)
        logger.info(
            "channel.dashboard.applied", extra={"kind": self.kind, "version": version}
        )

    async def refresh(self) -> None:
        entries = await self.feed.changed()
        if entries is not None:
            self.apply(entries)

    def attach(self, blueprint: Blueprint) -> None:
        """Reads the feed once the server is up, then every ``poll_s``."""

        async def forever() -> None:
            while True:
                try:
                    await self.refresh()
                except Exception:  # the api restarting: the next round
                    logger.warning("channel.dashboard.refresh_failed", exc_info=True)
                await asyncio.sleep(self.poll_s)

        @blueprint.listener("after_server_start")
        async def start(app: Any, _: Any) -> None:
            app.add_task(forever())


__all__ = ["DashboardCredentials", "SettingsError"]
