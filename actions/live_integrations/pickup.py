"""Picks up the integrations enabled on the dashboard without a restart.

Every ``EASYFLOW_INTEGRATIONS_POLL_S`` the action server asks the api for the
enabled, checked configurations (``GET /api/internal/integrations`` with the
action token and the last ``ETag``: 304 while nothing changed). Secrets arrive
sealed and are opened here with the keyring the api sealed them with, so the
feed never carries a secret in clear and a leaked action token alone reveals
none.

What the environment configures wins: a marketplace listed in
``EASYFLOW_ORDER_SOURCES`` keeps its variables, a payment provider chosen by
``EASYFLOW_PAYMENT_PROVIDER`` (other than the demo one) stays. The router's
source list is replaced in one assignment, so a conversation's call under way
finishes on the list it started with and its next turn sees the new one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from actions.integrations.base import OrderSource
from actions.integrations.router import RoutingOrderSource
from actions.live_integrations.clients import (
    build_payment_provider,
    build_source,
    category,
    close_client,
)
from actions.payments.base import PaymentProvider
from common.integration_feed import FeedReader, open_values
from common.secretbox import Keyring, SecretOpenError
from common.settings import SettingsError

logger = logging.getLogger(__name__)
# A replaced client's session is closed this long after, once calls under way
# with it have finished.
CLOSE_AFTER_S = 60.0


@dataclass
class LiveIntegrations:
    """The dashboard's integrations applied to a running router and to the
    webhook table of payment providers."""

    api_url: str
    token: str
    keyring: Keyring
    router: RoutingOrderSource
    # From the environment, built at start: always kept, and first.
    env_sources: list[OrderSource]
    env_payments: PaymentProvider
    env_payment_chosen: bool
    public_url: str
    # The provider table the webhook route reads (mutated in place).
    webhook_providers: dict[str, PaymentProvider]
    # Told the provider to offer from now on (Services.payments).
    on_payments: Callable[[PaymentProvider], None]
    timeout_s: float = 10.0
    payments: PaymentProvider | None = None
    _feed: FeedReader | None = None
    built: dict[str, tuple[int, Any]] = field(default_factory=dict)
    _closing: set[asyncio.Task] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.payments = self.env_payments

    async def refresh(self) -> bool:
        """Asks the api once; ``True`` when something changed and was applied."""
        if self._feed is None:
            self._feed = FeedReader(self.api_url, self.token, self.timeout_s)
        entries = await self._feed.changed()
        if entries is None:
            return False
        self.apply(entries)
        return True

    def _client(self, entry: Mapping[str, Any]) -> Any | None:
        """The client of an entry, reused while its version is the same."""
        kind, version = str(entry["kind"]), int(entry.get("version") or 0)
        kept = self.built.get(kind)
        if kept is not None and kept[0] == version:
            return kept[1]
        try:
            values = open_values(self.keyring, entry)
            if category(kind) == "orders":
                client: Any = build_source(kind, values)
            else:
                client = build_payment_provider(
                    kind, values, self.public_url, self.router
                )
        except (SecretOpenError, SettingsError, ValueError) as error:
            # Never the values: the message names the variable at most.
            logger.error(
                "integrations.build_failed",
                extra={"kind": kind, "version": version, "error": str(error)[:200]},
            )
            return kept[1] if kept else None
        if kept is not None:
            self._close_later(kept[1])
        self.built[kind] = (version, client)
        logger.info("integrations.built", extra={"kind": kind, "version": version})
        return client

    def apply(self, entries: list[Mapping[str, Any]]) -> None:
        env_names = {source.name for source in self.env_sources}
        wanted = [
            e
            for e in entries
            if category(str(e.get("kind"))) in ("orders", "payments")
            and str(e["kind"]) not in env_names
        ]
        for kind in set(self.built) - {str(e["kind"]) for e in wanted}:
            self._close_later(self.built.pop(kind)[1])
        sources = list(self.env_sources)
        payments: PaymentProvider | None = None
        for entry in wanted:
            client = self._client(entry)
            if client is None:
                continue
            if category(str(entry["kind"])) == "orders":
                sources.append(client)
            elif not self.env_payment_chosen and payments is None:
                payments = client
        self.router.replace(sources)
        previous = self.payments
        self.payments = payments or self.env_payments
        if previous not in (None, self.env_payments, self.payments):
            self.webhook_providers.pop(previous.name, None)
        self.webhook_providers[self.payments.name] = self.payments
        self.on_payments(self.payments)
        logger.info(
            "integrations.applied",
            extra={
                "sources": [s.name for s in sources],
                "payments": self.payments.name,
            },
        )

    def _close_later(self, client: Any) -> None:
        async def close() -> None:
            await asyncio.sleep(CLOSE_AFTER_S)
            await close_client(client)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: nothing is using it either
            return
        task = loop.create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
