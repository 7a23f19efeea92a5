"""The production tracker store: SQL (PostgreSQL) that fails closed.

Rasa wraps every tracker store in ``FailSafeTrackerStore``. On a database error
that wrapper answers "no such conversation" (the shopper's history silently
restarts) and saves into process memory (the turn is answered, then lost at the
next restart). In production we prefer a refused turn to a corrupted one: with
this store the wrapper re-raises as ``TrackerStoreUnavailable``, the turn fails
before anything is stored, and ``connectors.rest.StrictRestInput`` answers 503 (the
messenger connectors answer 5xx, so the platform retries).

The engine also pings pooled connections before use, so after a PostgreSQL
restart the first turn reconnects instead of failing.

Selected in ``endpoints.production.yml`` with
``tracker_store: {type: bot.stores.tracker_store.StrictSQLTrackerStore, ...}``.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import (
    FailSafeTrackerStore,
    SQLTrackerStore,
    TrackerStore,
    create_engine_kwargs,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.stores.tracker_cache import CachedTrackerMixin

logger = logging.getLogger(__name__)


class TrackerStoreUnavailable(RuntimeError):
    """The conversation database could not be read or written."""


class StrictSQLTrackerStore(CachedTrackerMixin, SQLTrackerStore):
    """``url`` may be a whole ``postgresql://user:password@host:port/db`` URL.
    Conversations this replica saved last are not read back unless another
    replica wrote to them since (``bot.stores.tracker_cache``)."""

    def __init__(self, *args: Any, host: str | None = None, **kwargs: Any) -> None:
        if host and "://" in host:
            parsed = make_url(host)
            kwargs.update(
                dialect=parsed.get_backend_name(),
                port=parsed.port,
                db=parsed.database,
                username=parsed.username,
                password=parsed.password,
            )
            host = parsed.host
        super().__init__(*args, host=host, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, pool_pre_ping=True, **create_engine_kwargs(url)
        )
        self.sessionmaker = sessionmaker(bind=self.engine)


def _refuse(error: Exception) -> None:
    logger.error("tracker_store.unavailable", extra={"error": repr(error)})
    raise TrackerStoreUnavailable(str(error)) from error


def _install() -> None:
    """Makes Rasa's fail-safe wrapper re-raise for ``StrictSQLTrackerStore``."""
    original = FailSafeTrackerStore.__init__
    if getattr(original, "_easyflow_strict", False):
        return

    def __init__(
        self: FailSafeTrackerStore,
        tracker_store: TrackerStore,
        on_tracker_store_error: Any = None,
        fallback_tracker_store: TrackerStore | None = None,
    ) -> None:
        if on_tracker_store_error is None and isinstance(
            tracker_store, StrictSQLTrackerStore
        ):
            on_tracker_store_error = _refuse
        original(self, tracker_store, on_tracker_store_error, fallback_tracker_store)

    __init__._easyflow_strict = True  # type: ignore[attr-defined]
    FailSafeTrackerStore.__init__ = __init__  # type: ignore[method-assign]


_install()
